"""Public tests of Exercise 2, the 400-25-15-10 Keras model (Keras 3), with teaching messages."""
from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from public_tests._common import PublicTestFailure, describe_value

__all__ = [
    "LayerInfo",
    "activation_kind",
    "check_model_structure",
    "test_model",
]

HIDDEN_UNITS = (25, 15)

SOFTMAX_PLACEMENT = (
    "Softmax placement: in this lab the softmax is not part of the model. The loss "
    "SparseCategoricalCrossentropy(from_logits=True) applies the softmax itself (which is "
    "numerically more stable), so the model outputs plain numbers (logits) and its last Dense "
    "layer stays linear: activation='linear', or no activation at all. To get probabilities "
    "from a trained model, apply tf.nn.softmax to its predictions."
)

# Probe input for recognising an activation by what it computes, whatever form it was
# given in ('relu', tf.nn.relu, tf.keras.activations.relu, a ReLU layer, a lambda, ...).
_PROBE = np.array([[-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 8.0]], dtype=np.float32)


class LayerInfo(NamedTuple):
    """What the checks saw in one layer: name, class name, units (or None) and activation kind."""

    name: str
    kind: str
    units: int | None
    activation: str


def _keras() -> Any:
    import keras  # after utils._env (imported by public_tests._common): TensorFlow stays quiet

    return keras


def _activation_name(fn: Any) -> str:
    if fn is None:
        return "linear"
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def activation_kind(fn: Any) -> str:
    """Classify an activation by what it computes on a probe input.

    Returns 'linear' (identity, also for None), 'relu', 'sigmoid', 'tanh', 'softmax',
    or for anything else its own name (e.g. 'leaky_relu', 'elu').
    """
    if fn is None:
        return "linear"
    keras = _keras()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.asarray(keras.ops.convert_to_numpy(fn(keras.ops.convert_to_tensor(_PROBE))))
    except Exception:  # not callable on a tensor: report it by name
        return _activation_name(fn)
    x = _PROBE.astype(np.float64)
    references = {
        "linear": x,
        "relu": np.maximum(x, 0.0),
        "sigmoid": 1.0 / (1.0 + np.exp(-x)),
        "tanh": np.tanh(x),
        "softmax": np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True),
    }
    if out.shape == x.shape:
        for kind, ref in references.items():
            if np.allclose(out, ref, rtol=1e-5, atol=1e-6):
                return kind
    return _activation_name(fn)


def _fail(*lines: str) -> None:
    __tracebackhide__ = True
    raise PublicTestFailure("\n".join(line for line in lines if line)) from None


def _units(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


def _describe_layer(layer: Any) -> str:
    keras = _keras()
    kind = type(layer).__name__
    if isinstance(layer, keras.layers.Dense):
        return f"{layer.name} (Dense, {_units(layer.units)}, {activation_kind(layer.activation)})"
    return f"{layer.name} ({kind})"


def _is_softmax_layer(layer: Any) -> bool:
    keras = _keras()
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return callable(activation) and activation_kind(activation) == "softmax"


def _input_shape(model: Any) -> tuple | None:
    """The model's per-example input shape (without the batch axis), or None if not known yet."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    return tuple(inputs[0].shape[1:])


def check_model_structure(
    target: Any,
    classes: int,
    input_size: int,
    hidden_units: tuple[int, ...] = HIDDEN_UNITS,
    *,
    build: bool = True,
) -> list[LayerInfo]:
    """Check that ``target`` is the lab's Keras Sequential model: Dense layers ``hidden_units`` (ReLU)
    then ``classes`` units (linear), taking ``input_size`` features per example.

    Works with or without a leading ``tf.keras.Input``. A Sequential model that is
    not built yet (no Input given) is built in place with ``build((None, input_size))``
    when ``build`` is true and every other check passed: Keras 3 draws the initializer
    seeds when the layers are created, so this gives exactly the weights that the first
    ``fit`` would give, and no random state is consumed. Returns one :class:`LayerInfo`
    per layer; raises :class:`PublicTestFailure` (an AssertionError) with a teaching
    message on the first problem found.
    """
    __tracebackhide__ = True
    keras = _keras()
    expected_units = (*hidden_units, classes)
    plan = ", ".join(f"{_units(u)} (ReLU)" for u in hidden_units) + f", {_units(classes)} (linear)"
    wanted = f"Expected {len(expected_units)} Dense layers: {plan}."

    if not isinstance(target, keras.Model):
        if isinstance(target, type) and issubclass(target, keras.Model):
            _fail(
                f"test_model received the class {target.__name__}, not a model: pass the model "
                "you built, e.g. test_model(model, 10, 400)."
            )
        if isinstance(target, (list, tuple)):
            _fail(
                f"test_model received a {type(target).__name__}, not a Keras model: wrap the "
                "layers in Sequential([...]) and pass the resulting model."
            )
        if isinstance(target, keras.layers.Layer):
            _fail(
                f"test_model received a single {type(target).__name__} layer, not a model: "
                "build the whole network with Sequential([...]) and pass that."
            )
        _fail(
            f"test_model expects your Keras model (built with Sequential), got "
            f"{describe_value(target)}."
        )

    if not isinstance(target, keras.Sequential):
        _fail(
            f"Your model is a {type(target).__name__} model; this exercise builds it with "
            "Sequential([...]), as the graded cell starts: put the Input and the "
            f"{len(expected_units)} Dense layers in the list given to Sequential."
        )

    layers = [layer for layer in target.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers:
        _fail(
            f"Your model {target.name!r} has no layers. Put the Dense layers in the list given "
            f"to Sequential([...]). {wanted}"
        )
    found = "; ".join(_describe_layer(layer) for layer in layers)

    for position, layer in enumerate(layers, start=1):
        if _is_softmax_layer(layer):
            what = (
                "has a softmax activation"
                if isinstance(layer, keras.layers.Dense)
                else "is an extra Softmax layer"
            )
            _fail(
                f"Layer {position} ({layer.name}) {what}.",
                SOFTMAX_PLACEMENT,
                f"Your layers: {found}. {wanted}",
            )

    for position, layer in enumerate(layers, start=1):
        if not isinstance(layer, keras.layers.Dense):
            hint = ""
            if isinstance(layer, keras.layers.Flatten):
                hint = (
                    " The examples are already flat rows of pixels, so no Flatten is needed: "
                    f"start with tf.keras.Input(shape=({input_size},))."
                )
            _fail(
                f"Layer {position} ({layer.name}) is a {type(layer).__name__} layer; this model "
                f"uses only Dense layers.{hint}",
                f"Your layers: {found}. {wanted}",
            )

    if len(layers) != len(expected_units):
        what = "is missing a layer" if len(layers) < len(expected_units) else "has a layer too many"
        _fail(
            f"Your model has {len(layers)} layers and {what}. {wanted}",
            f"Your layers: {found}.",
        )

    units = tuple(int(layer.units) for layer in layers)
    if units != expected_units:
        if units[:-1] == tuple(reversed(hidden_units)) and units[:-1] != hidden_units:
            hint = "The hidden layers are swapped: the first one has "
            hint += f"{hidden_units[0]} units, the second {hidden_units[1]}."
        elif units[:-1] != hidden_units:
            hint = f"The hidden layers have {', '.join(map(str, hidden_units))} units."
        else:
            hint = (
                f"The output layer needs one unit per class: {classes} units (one per digit), "
                f"not {units[-1]}."
            )
        _fail(
            f"Wrong numbers of units: {units}, expected {expected_units}. {hint}",
            f"Your layers: {found}.",
        )

    kinds = [activation_kind(layer.activation) for layer in layers]
    for position, (layer, kind) in enumerate(zip(layers[:-1], kinds[:-1]), start=1):
        if kind != "relu":
            shown = "no activation (linear)" if kind == "linear" else f"a {kind} activation"
            _fail(
                f"Hidden layer {position} ({layer.name}) has {shown}; the hidden layers use "
                "ReLU: activation='relu'.",
                f"Your layers: {found}.",
            )
    if kinds[-1] != "linear":
        _fail(
            f"The output layer ({layers[-1].name}) has a {kinds[-1]} activation; it must stay "
            "linear (activation='linear', or no activation).",
            SOFTMAX_PLACEMENT,
        )

    shape = _input_shape(target)
    if shape is not None and shape != (input_size,):
        hint = (
            f" Each example is a flat row of {input_size} pixel values: "
            f"use tf.keras.Input(shape=({input_size},))."
        )
        _fail(
            f"Your model expects inputs of shape {shape}, but the data has {input_size} "
            f"features per example, shape ({input_size},).{hint}"
        )
    if shape is None and build:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target.build((None, input_size))
        except Exception as exc:
            _fail(
                f"Keras could not build your model for inputs of {input_size} features: "
                f"{type(exc).__name__}: {exc}"
            )
    if target.built or shape is not None:
        kernel_rows = int(layers[0].kernel.shape[0])
        if kernel_rows != input_size:
            _fail(
                f"The first layer's weights have shape {tuple(layers[0].kernel.shape)}: the layer "
                f"takes {kernel_rows} inputs, but each example has {input_size} "
                f"(use tf.keras.Input(shape=({input_size},)))."
            )
        expected_params = sum(
            (fan_in + 1) * fan_out
            for fan_in, fan_out in zip((input_size, *expected_units[:-1]), expected_units)
        )
        params = int(target.count_params())
        if params != expected_params:
            _fail(
                f"Your model has {params} parameters, expected {expected_params} "
                f"(weights and biases of {input_size}-{'-'.join(map(str, expected_units))}); "
                "are the biases switched off (use_bias=False)?"
            )

    return [
        LayerInfo(str(layer.name), type(layer).__name__, int(layer.units), kind)
        for layer, kind in zip(layers, kinds)
    ]


def test_model(target: Any, classes: int, input_size: int) -> None:
    """Public test of Exercise 2: :func:`check_model_structure` with the lab's hidden units.

    Prints ``All tests passed!`` when the model is right; otherwise raises PublicTestFailure.
    """
    __tracebackhide__ = True
    check_model_structure(target, classes, input_size)
    print("All tests passed!")

