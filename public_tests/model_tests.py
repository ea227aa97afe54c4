"""Public tests of Exercise 2, the 400-25-15-10 Keras model (Keras 3): the probe and the tests.

The probe (:func:`probe`) records what the model is: its class, its layers (each activation
as what it computes on a probe input), its input shape and parameter count, and for the
hidden test its weights and its predictions on new images. The judge
(:mod:`public_tests.model_judge`) decides from that record alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from public_tests import evidence as ev
from public_tests._common import HiddenTestFailure, describe_value, exception_record, judged
from public_tests.model_judge import (
    HIDDEN_UNITS,
    LayerInfo,
    classify,
    judge,
    judge_hidden,
    judge_structure,
    layer_infos,
)

__all__ = ["LayerInfo", "activation_kind", "check_model_structure", "hidden_test_model", "test_model"]

#: Probe input for recognising an activation by what it computes, whatever form it was given
#: in ('relu', tf.nn.relu, tf.keras.activations.relu, a ReLU layer, a lambda, ...).
PROBE = np.array([[-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 8.0]], dtype=np.float32)
PASSED = "All tests passed!"


def _keras() -> Any:
    import keras  # after utils._env (imported by public_tests._common): TensorFlow stays quiet

    return keras


def _activation_name(fn: Any) -> str:
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def activation_record(fn: Any, probe_x: np.ndarray) -> dict[str, Any]:
    """An activation as data: its name, and what it computes on ``probe_x`` (if it can)."""
    if fn is None:
        return {"none": True}
    rec: dict[str, Any] = {"name": ev.clip(_activation_name(fn)), "callable": callable(fn)}
    keras = _keras()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.asarray(keras.ops.convert_to_numpy(fn(keras.ops.convert_to_tensor(probe_x))))
    except Exception:  # noqa: BLE001  (not callable on a tensor: judged by its name)
        return rec
    rec["outputs"] = ev.array_record(out)
    return rec


def activation_kind(fn: Any) -> str:
    """Classify an activation by what it computes on a probe input.

    Returns 'linear' (identity, also for None), 'relu', 'sigmoid', 'tanh', 'softmax',
    or for anything else its own name (e.g. 'leaky_relu', 'elu').
    """
    return classify(activation_record(fn, PROBE), PROBE)


def _layer_record(layer: Any, probe_x: np.ndarray) -> dict[str, Any]:
    keras = _keras()
    rec: dict[str, Any] = {
        "name": ev.clip(layer.name),
        "class": type(layer).__name__,
        "dense": isinstance(layer, keras.layers.Dense),
        "softmax": isinstance(layer, keras.layers.Softmax),
        "flatten": isinstance(layer, keras.layers.Flatten),
    }
    if rec["dense"]:
        rec["units"], rec["use_bias"] = int(layer.units), bool(layer.use_bias)
    if rec["dense"] or getattr(layer, "activation", None) is not None:
        rec["activation"] = activation_record(getattr(layer, "activation", None), probe_x)
    return rec


def _input_shape(model: Any) -> list[int | None] | None:
    """The model's per-example input shape (without the batch axis), or None if not known yet."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    return [None if d is None else int(d) for d in inputs[0].shape[1:]]


def probe(
    target: Any,
    classes: int,
    input_size: int,
    hidden_units: Sequence[int] = HIDDEN_UNITS,
    *,
    build: bool = True,
    probe_x: np.ndarray = PROBE,
    batch: np.ndarray | None = None,
) -> dict[str, Any]:
    """Record what ``target`` is (runs where the answer lives).

    A Sequential model that is not built yet (no Input given) is built in place with
    ``build((None, input_size))`` when ``build`` is true and its layers pass the judge's
    structure rules: Keras 3 draws the initializer seeds when the layers are created, so this
    gives exactly the weights that the first ``fit`` would give, and no random state is
    consumed. With ``batch`` (the hidden test), the weights and ``predict(batch)`` are recorded.
    """
    keras = _keras()
    if not isinstance(target, keras.Model):
        if isinstance(target, type) and issubclass(target, keras.Model):
            return {"kind": "model_class", "class_name": ev.clip(target.__name__)}
        if isinstance(target, (list, tuple)):
            return {"kind": "sequence", "type": type(target).__name__}
        if isinstance(target, keras.layers.Layer):
            return {"kind": "layer", "class_name": type(target).__name__}
        return {"kind": "other", "describe": ev.clip(describe_value(target))}
    layers = [layer for layer in target.layers if not isinstance(layer, keras.layers.InputLayer)]
    record: dict[str, Any] = {
        "kind": "model",
        "class_name": type(target).__name__,
        "sequential": isinstance(target, keras.Sequential),
        "name": ev.clip(target.name),
        "layers": [_layer_record(layer, probe_x) for layer in layers],
        "input_shape": _input_shape(target),
    }
    structure_ok = judged(
        lambda: judge_structure(ev.from_json(ev.to_json(record)), classes, hidden_units, probe_x, input_size)
    ).passed
    if record["input_shape"] is None and build and structure_ok:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target.build((None, input_size))
        except Exception as exc:  # noqa: BLE001  (recorded: the judge reports it)
            record["build_error"] = {"type": type(exc).__name__, "message": ev.clip(exc)}
    record["built"] = bool(target.built)
    # what the judge reads once the structure passes is recorded whenever the layers have the
    # expected sizes, a check on plain data: ``structure_ok`` also rests on numbers computed
    # here (the activations), which an answer that patched numpy in this kernel can spoil,
    # and a right model must still reach the judge, whose own check then decides
    sizes_ok = [(layer["dense"], layer.get("units")) for layer in record["layers"]] == [
        (True, units) for units in (*hidden_units, classes)
    ]
    if sizes_ok and (target.built or record["input_shape"] is not None):
        record["kernel_shape"] = [int(d) for d in layers[0].kernel.shape]
        record["params"] = int(target.count_params())
    if batch is not None and sizes_ok:
        record["weights"] = [ev.array_record(np.asarray(w)) for w in target.get_weights()]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                record["predictions"] = ev.array_record(np.asarray(target.predict(batch, verbose=0)))
        except Exception as exc:  # noqa: BLE001
            record["predictions"] = {"raised": exception_record(exc, None)}
    return record


def check_model_structure(
    target: Any, classes: int, input_size: int, hidden_units: tuple[int, ...] = HIDDEN_UNITS, *, build: bool = True
) -> list[LayerInfo]:
    """Check that ``target`` is the lab's Keras Sequential model: Dense layers ``hidden_units`` (ReLU)
    then ``classes`` units (linear), taking ``input_size`` features per example.

    Works with or without a leading ``tf.keras.Input`` (an unbuilt model is built in place:
    see :func:`probe`). Returns one :class:`LayerInfo` per layer; raises
    :class:`PublicTestFailure` (an AssertionError) with a teaching message on the first
    problem found.
    """
    __tracebackhide__ = True
    record = ev.from_json(ev.to_json(probe(target, classes, input_size, hidden_units, build=build)))
    judge(record, classes, input_size, hidden_units, PROBE).raise_for_student()
    return layer_infos(record, PROBE)


def test_model(target: Any, classes: int, input_size: int) -> None:
    """Public test of Exercise 2: :func:`check_model_structure` with the lab's hidden units.

    Prints ``All tests passed!`` when the model is right; otherwise raises PublicTestFailure.
    """
    __tracebackhide__ = True
    check_model_structure(target, classes, input_size)
    print(PASSED)


def hidden_inputs(*, seed: int, examples: int = 7, input_size: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """What a source notebook's ``hidden_test_model(...)`` call names: (activation probe, a batch
    of ``examples`` images of uniform pixels, drawn from ``seed``)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not isinstance(examples, int) or not 1 <= examples <= 100:
        raise ValueError("hidden_test_model: seed must be an integer and examples from 1 to 100")
    probe_x = np.linspace(-4.0, 4.0, 17, dtype="float32").reshape(1, -1)
    batch = np.random.default_rng(seed).uniform(0.0, 1.0, size=(examples, input_size))
    return probe_x, batch


def hidden_test_model(target: Any, classes: int, input_size: int, **params: Any) -> None:
    """A hidden test of Exercise 2, as a source notebook's hidden block calls it (see
    :func:`public_tests.softmax_tests.hidden_test_my_softmax` for how the grader runs it)."""
    __tracebackhide__ = True
    probe_x, batch = hidden_inputs(input_size=input_size, **params)
    record = ev.from_json(ev.to_json(probe(target, classes, input_size, probe_x=probe_x, batch=batch)))
    verdict = judge_hidden(record, classes, input_size, HIDDEN_UNITS, probe_x, batch)
    if not verdict.passed:
        raise HiddenTestFailure(verdict.message)
