"""The judge of Exercise 2: a model probe's evidence in, a verdict with a teaching message out.

Pure data (see :mod:`public_tests.evidence`): the layers as the probe recorded them, each
activation as what it computed on a probe input, and for the hidden test the weights and the
predictions on new images. The judge recognises activations and recomputes the logits
itself, so it runs the same in the student's kernel and in the grader's own process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from public_tests import evidence as ev
from public_tests._common import Verdict, fail, hidden_error_sentence

HIDDEN_UNITS = (25, 15)

SOFTMAX_PLACEMENT = (
    "Softmax placement: in this lab the softmax is not part of the model. The loss "
    "SparseCategoricalCrossentropy(from_logits=True) applies the softmax itself (which is "
    "numerically more stable), so the model outputs plain numbers (logits) and its last Dense "
    "layer stays linear: activation='linear', or no activation at all. To get probabilities "
    "from a trained model, apply tf.nn.softmax to its predictions."
)

#: Fixed sentences for the hidden test's failures, by rule (they never show an input).
HIDDEN_SENTENCES = {
    "sequential": "The model must be a Keras Sequential model.",
    "layers": "The model must consist of exactly three Dense layers.",
    "units": "The Dense layers must have 25, 15 and 10 units.",
    "bias": "Every Dense layer needs its bias (keep use_bias=True).",
    "activations": "The two hidden layers need ReLU activations and the output layer a linear one.",
    "shapes": "The weights must have the shapes of a 400-25-15-10 network (400 inputs per example).",
    "predictions": (
        "On new images, the model's predictions are not the logits that its Dense layers "
        "compute (ReLU, ReLU, linear): a layer computes something other than its settings say."
    ),
}
HIDDEN_RULES = {
    "not_model": "sequential",
    "model_class": "sequential",
    "sequence": "sequential",
    "layer": "sequential",
    "not_sequential": "sequential",
    "no_layers": "layers",
    "softmax": "layers",
    "not_dense": "layers",
    "count": "layers",
    "units": "units",
    "bias": "bias",
    "params": "bias",
    "hidden_activation": "activations",
    "output_activation": "activations",
    "input_shape": "shapes",
    "kernel_rows": "shapes",
    "shapes": "shapes",
    "predictions": "predictions",
}


class LayerInfo(NamedTuple):
    """What the checks saw in one layer: name, class name, units (or None) and activation kind."""

    name: str
    kind: str
    units: int | None
    activation: str


def classify(rec: object, probe: np.ndarray) -> str:
    """An activation's kind from what it computed on ``probe``: 'linear' (also no activation),
    'relu', 'sigmoid', 'tanh', 'softmax', else the name it was given (e.g. 'leaky_relu')."""
    if rec is None or ev.flag(rec, "none"):
        return "linear"
    name = ev.text(rec, "name", optional=True) or "activation"
    outputs = ev.field(rec, "outputs", dict, optional=True)
    if outputs is None:
        return name
    out = ev.array_from(outputs)
    if out is None:
        return name
    x = probe.astype(np.float64)
    with np.errstate(all="ignore"):
        references = {
            "linear": x,
            "relu": np.maximum(x, 0.0),
            "sigmoid": 1.0 / (1.0 + np.exp(-x)),
            "tanh": np.tanh(x),
            "softmax": np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True),
        }
    if out.shape == x.shape:
        for kind, ref in references.items():
            if np.allclose(out.astype(np.float64), ref, rtol=1e-5, atol=1e-6):
                return kind
    return name


def _units(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


def _layers(record: object) -> list[dict]:
    layers = ev.field(record, "layers", list)
    if len(layers) > 1000 or not all(isinstance(layer, dict) for layer in layers):
        raise ev.EvidenceError("'layers' is not a list of layer records")
    return layers


def _describe(layer: dict, probe: np.ndarray) -> str:
    name, kind = ev.text(layer, "name"), ev.text(layer, "class")
    if ev.flag(layer, "dense"):
        return f"{name} (Dense, {_units(ev.count(layer, 'units') or 0)}, {classify(layer.get('activation'), probe)})"
    return f"{name} ({kind})"


def judge_structure(
    record: dict[str, Any], classes: int, hidden_units: Sequence[int], probe: np.ndarray, input_size: int
) -> None:
    """The rules a model must pass before it is built: raise :class:`Failure` on the first broken."""
    expected = (*hidden_units, classes)
    plan = ", ".join(f"{_units(u)} (ReLU)" for u in hidden_units) + f", {_units(classes)} (linear)"
    wanted = f"Expected {len(expected)} Dense layers: {plan}."
    kind = ev.text(record, "kind")
    if kind == "model_class":
        fail(
            "model_class",
            f"test_model received the class {ev.text(record, 'class_name')}, not a model: "
            "pass the model you built, e.g. test_model(model, 10, 400).",
        )
    if kind == "sequence":
        fail(
            "sequence",
            f"test_model received a {ev.text(record, 'type')}, not a Keras model: wrap the "
            "layers in Sequential([...]) and pass the resulting model.",
        )
    if kind == "layer":
        fail(
            "layer",
            f"test_model received a single {ev.text(record, 'class_name')} layer, not a model: "
            "build the whole network with Sequential([...]) and pass that.",
        )
    if kind != "model":
        fail(
            "not_model",
            f"test_model expects your Keras model (built with Sequential), got {ev.text(record, 'describe')}.",
        )
    if not ev.flag(record, "sequential"):
        fail(
            "not_sequential",
            f"Your model is a {ev.text(record, 'class_name')} model; this exercise "
            "builds it with Sequential([...]), as the graded cell starts: put the Input "
            f"and the {len(expected)} Dense layers in the list given to Sequential.",
        )
    layers = _layers(record)
    if not layers:
        fail(
            "no_layers",
            f"Your model {ev.text(record, 'name')!r} has no layers. Put the Dense layers in "
            f"the list given to Sequential([...]). {wanted}",
        )
    found = "; ".join(_describe(layer, probe) for layer in layers)
    for position, layer in enumerate(layers, start=1):
        act = layer.get("activation")
        if ev.flag(layer, "softmax") or (
            act is not None and ev.flag(act, "callable") and classify(act, probe) == "softmax"
        ):
            what = "has a softmax activation" if ev.flag(layer, "dense") else "is an extra Softmax layer"
            fail(
                "softmax",
                f"Layer {position} ({ev.text(layer, 'name')}) {what}.",
                SOFTMAX_PLACEMENT,
                f"Your layers: {found}. {wanted}",
            )
    for position, layer in enumerate(layers, start=1):
        if not ev.flag(layer, "dense"):
            hint = ""
            if ev.flag(layer, "flatten"):
                hint = (
                    " The examples are already flat rows of pixels, so no Flatten is needed: start "
                    f"with tf.keras.Input(shape=({input_size},))."
                )
            fail(
                "not_dense",
                f"Layer {position} ({ev.text(layer, 'name')}) is a {ev.text(layer, 'class')} "
                f"layer; this model uses only Dense layers.{hint}",
                f"Your layers: {found}. {wanted}",
            )
    if len(layers) != len(expected):
        what = "is missing a layer" if len(layers) < len(expected) else "has a layer too many"
        fail("count", f"Your model has {len(layers)} layers and {what}. {wanted}", f"Your layers: {found}.")
    units = tuple(ev.count(layer, "units") for layer in layers)
    if units != expected:
        if units[:-1] == tuple(reversed(hidden_units)) and units[:-1] != tuple(hidden_units):
            hint = (
                f"The hidden layers are swapped: the first one has {hidden_units[0]} units, the second "
                f"{hidden_units[1]}."
            )
        elif units[:-1] != tuple(hidden_units):
            hint = f"The hidden layers have {', '.join(map(str, hidden_units))} units."
        else:
            hint = f"The output layer needs one unit per class: {classes} units (one per digit), not {units[-1]}."
        fail("units", f"Wrong numbers of units: {units}, expected {expected}. {hint}", f"Your layers: {found}.")
    kinds = [classify(layer.get("activation"), probe) for layer in layers]
    for position, (layer, kind) in enumerate(zip(layers[:-1], kinds[:-1], strict=True), start=1):
        if kind != "relu":
            shown = "no activation (linear)" if kind == "linear" else f"a {kind} activation"
            fail(
                "hidden_activation",
                f"Hidden layer {position} ({ev.text(layer, 'name')}) has {shown}; the "
                "hidden layers use ReLU: activation='relu'.",
                f"Your layers: {found}.",
            )
    if kinds[-1] != "linear":
        fail(
            "output_activation",
            f"The output layer ({ev.text(layers[-1], 'name')}) has a {kinds[-1]} "
            "activation; it must stay linear (activation='linear', or no activation).",
            SOFTMAX_PLACEMENT,
        )


def _dims(record: object) -> tuple[int | None, ...] | None:
    raw = ev.field(record, "input_shape", list, optional=True)
    if raw is None:
        return None
    if len(raw) > 8 or not all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in raw):
        raise ev.EvidenceError("'input_shape' is not a shape")
    return tuple(raw)


def judge_built(record: dict[str, Any], classes: int, input_size: int, hidden_units: Sequence[int]) -> None:
    """The rules on the model's inputs and weights, once its structure passed."""
    expected = (*hidden_units, classes)
    shape = _dims(record)
    if shape is not None and shape != (input_size,):
        fail(
            "input_shape",
            f"Your model expects inputs of shape {shape}, but the data has {input_size} "
            f"features per example, shape ({input_size},). Each example is a flat row of "
            f"{input_size} pixel values: use tf.keras.Input(shape=({input_size},)).",
        )
    error = ev.field(record, "build_error", dict, optional=True)
    if error is not None:
        fail(
            "build",
            f"Keras could not build your model for inputs of {input_size} features: "
            f"{ev.text(error, 'type')}: {ev.text(error, 'message')}",
        )
    if ev.flag(record, "built") or shape is not None:
        kernel = ev.shape_of(record, "kernel_shape")
        if not kernel or kernel[0] != input_size:
            rows = kernel[0] if kernel else 0
            fail(
                "kernel_rows",
                f"The first layer's weights have shape {kernel}: the layer takes {rows} "
                f"inputs, but each example has {input_size} "
                f"(use tf.keras.Input(shape=({input_size},))).",
            )
        fans = zip((input_size, *expected[:-1]), expected, strict=True)
        want = sum((fan_in + 1) * fan_out for fan_in, fan_out in fans)
        params = ev.count(record, "params")
        if params != want:
            fail(
                "params",
                f"Your model has {params} parameters, expected {want} (weights and biases of "
                f"{input_size}-{'-'.join(map(str, expected))}); are the biases switched off "
                "(use_bias=False)?",
            )


def layer_infos(record: dict[str, Any], probe: np.ndarray) -> list[LayerInfo]:
    """One :class:`LayerInfo` per recorded layer."""
    return [
        LayerInfo(
            ev.text(layer, "name") or "",
            ev.text(layer, "class") or "",
            ev.count(layer, "units"),
            classify(layer.get("activation"), probe),
        )
        for layer in _layers(record)
    ]


def judge(
    record: dict[str, Any], classes: int, input_size: int, hidden_units: Sequence[int], probe: np.ndarray
) -> Verdict:
    """The public verdict on a model probe's record."""

    def body() -> None:
        judge_structure(record, classes, hidden_units, probe, input_size)
        judge_built(record, classes, input_size, hidden_units)

    return guarded(body)


def judge_hidden(
    record: dict[str, Any],
    classes: int,
    input_size: int,
    hidden_units: Sequence[int],
    probe: np.ndarray,
    batch: np.ndarray,
) -> Verdict:
    """The hidden verdict: the public rules with another probe input, the biases, the weights'
    shapes, and the predictions on ``batch`` against the logits recomputed here from the
    recorded weights; every failure reported as a fixed sentence."""

    def body() -> None:
        verdict = judge(record, classes, input_size, hidden_units, probe)
        if not verdict.passed:
            rule = HIDDEN_RULES.get(verdict.rule)
            fail(verdict.rule, HIDDEN_SENTENCES[rule] if rule else hidden_error_sentence(None))
        layers = _layers(record)
        if not all(ev.flag(layer, "use_bias") for layer in layers):
            fail("bias", HIDDEN_SENTENCES["bias"])
        weights = [ev.array_from(w) for w in ev.field(record, "weights", list)]
        sizes = (input_size, *hidden_units, classes)
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        want = [s for fan_in, fan_out in pairs for s in ((fan_in, fan_out), (fan_out,))]
        if [None if w is None else w.shape for w in weights] != want:
            fail("shapes", HIDDEN_SENTENCES["shapes"])
        predicted = ev.field(record, "predictions", dict)
        if "raised" in predicted:
            fail("raised", hidden_error_sentence(ev.text(predicted["raised"], "type")))
        logits = ev.array_from(predicted)
        x = batch.astype(np.float64)
        for i in range(0, len(weights), 2):
            w, b = (np.asarray(a, dtype=np.float64) for a in weights[i : i + 2])
            x = x @ w + b
            if i + 2 < len(weights):
                x = np.maximum(x, 0.0)
        if (
            logits is None
            or logits.shape != x.shape
            or not np.allclose(logits.astype(np.float64), x, rtol=1e-4, atol=1e-4)
        ):
            fail("predictions", HIDDEN_SENTENCES["predictions"])

    return guarded(body, hidden=True)


def guarded(body: Any, *, hidden: bool = False) -> Verdict:
    """:func:`public_tests.evidence.judged_record` for this judge."""
    return ev.judged_record(body, "what the model reported", hidden=hidden)
