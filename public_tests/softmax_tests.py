"""Public tests of Exercise 1, ``my_softmax(z)``: the inputs, the probe, and the tests.

The probe (:func:`probe`) calls the student's function on each input and records what came
back; the judge (:mod:`public_tests.softmax_judge`) decides from that record alone. In the
notebook both run here, one input at a time, so the first failure stops the test as it
always did; at autograde the grader runs the same judge in its own process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from public_tests import evidence as ev
from public_tests._common import HiddenTestFailure, describe_value, exception_record, fmt_array, quiet_call
from public_tests.softmax_judge import judge, judge_hidden, softmax_reference

__all__ = ["SOFTMAX_CASES", "check_softmax", "hidden_test_my_softmax", "softmax_reference", "test_my_softmax"]

#: The inputs ``test_my_softmax`` tries, in order: (description, z).
SOFTMAX_CASES: tuple[tuple[str, np.ndarray], ...] = (
    ("the lab's example", np.array([1.0, 2.0, 3.0, 4.0])),
    ("ten equal values", np.full(10, 0.7)),
    ("negative values", np.array([-1.5, -0.25, -4.0, -2.0, -0.75])),
    ("mixed signs, length 7", np.array([0.5, -1.0, 2.0, 0.0, -0.5, 1.5, 3.0])),
    ("integer input", np.array([3, 1, 0, 2, 5, 4])),
    ("a single value", np.array([2.5])),
)


def _is_tensor(value: Any) -> bool:
    module = type(value).__module__ or ""
    return not isinstance(value, np.ndarray) and (
        module.startswith(("tensorflow", "keras", "tf_keras")) or hasattr(value, "numpy")
    )


def value_record(result: Any) -> dict[str, Any]:
    """What the judge needs of a returned value, checked in the order of the judge's rules."""
    if result is None:
        return {"kind": "none"}
    if _is_tensor(result):
        return {"kind": "tensor", "describe": describe_value(result)}
    if isinstance(result, (list, tuple)):
        return {"kind": "sequence", "type": type(result).__name__}
    if np.ndim(result) == 0 and isinstance(result, (int, float, complex, np.generic, np.ndarray)):
        return {"kind": "scalar", "text": ev.clip(fmt_array(result))}
    if not isinstance(result, np.ndarray):
        return {"kind": "other", "describe": ev.clip(describe_value(result))}
    return {"kind": "ndarray", **ev.array_record(result)}


def probe(target: Any, zs: Sequence[np.ndarray]) -> dict[str, Any]:
    """Call ``target`` on a private copy of each ``z``; record what it did (runs where the answer
    lives). Stops after a call that raised, as the test would."""
    try:
        raw = getattr(target, "__name__", "")
    except Exception:  # noqa: BLE001  (an object whose attribute access fails)
        raw = ""
    record: dict[str, Any] = {
        "name": ev.clip(raw) if isinstance(raw, str) else "",
        "callable": callable(target),
        "target": ev.clip(describe_value(target)),
        "calls": [],
    }
    if not callable(target):
        return record
    for z in zs:
        given = np.array(z)
        call: dict[str, Any] = {}
        try:
            result = quiet_call(target, given)
        except Exception as exc:  # noqa: BLE001  (the student's bug, recorded for the judge)
            call["raised"] = exception_record(exc, target)
            record["calls"].append(call)
            break
        if given.dtype != z.dtype or given.shape != z.shape or not np.array_equal(given, z):
            call["z_after"] = ev.array_record(given)
        call["result"] = value_record(result)
        record["calls"].append(call)
    return record


def _checked_input(z: Any) -> np.ndarray:
    z = np.array(z)  # a private copy: the caller's array is never touched
    if z.ndim != 1 or z.size == 0 or not np.issubdtype(z.dtype, np.number):
        raise ValueError(f"check_softmax needs a non-empty 1-D numeric array z, got {z!r}")
    return z


def check_softmax(target: Callable[[np.ndarray], Any], z: Any, *, case: str | None = None) -> np.ndarray:
    """Check ``target(z)`` against an independent softmax of the 1-D array ``z``.

    In this order: the call does not raise, it leaves ``z`` unmodified, the result is a
    NumPy array (not None, a list, a scalar or a TensorFlow tensor) of the same shape as
    ``z`` with a floating dtype and finite values, and the values equal the softmax
    (relative tolerance 1e-6, so they add up to 1). Returns the result as a float64 array;
    raises :class:`PublicTestFailure` (an AssertionError) whose message gives expected and
    actual values at full precision and, when it recognises one, names the mistake.
    ``case`` describes ``z`` in messages (e.g. "negative values").
    """
    __tracebackhide__ = True
    z = _checked_input(z)
    record = ev.from_json(ev.to_json(probe(target, [z])))  # exactly what the grader reads
    judge(record, [(case, z)]).raise_for_student()
    values = ev.array_from(record["calls"][0]["result"])
    return np.asarray(values, dtype=np.float64)


def test_my_softmax(target: Callable[[np.ndarray], Any]) -> None:
    """Public test of Exercise 1: :func:`check_softmax` on every input in ``SOFTMAX_CASES``.

    Prints ``All tests passed.`` when all pass; otherwise raises PublicTestFailure.
    """
    __tracebackhide__ = True
    for case, z in SOFTMAX_CASES:
        check_softmax(target, z, case=case)
    print(PASSED)


PASSED = "All tests passed."


def hidden_cases(
    *,
    seed: int,
    lengths: Sequence[int],
    low: float = -6.0,
    high: float = 6.0,
    extra: Sequence[Sequence[float]] = (),
    shift: float = 2.5,
) -> tuple[list[np.ndarray], dict[int, int]]:
    """The hidden inputs a source notebook's ``hidden_test_my_softmax(...)`` call names: one
    uniform vector per length, the ``extra`` vectors, then each of them plus ``shift``.
    Returns (inputs, {index of a shifted copy: index of its original})."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError("hidden_test_my_softmax: seed must be an integer")
    if not lengths or not all(isinstance(n, int) and 1 <= n <= 1000 for n in lengths):
        raise ValueError("hidden_test_my_softmax: lengths must be integers from 1 to 1000")
    rng = np.random.default_rng(seed)
    cases = [rng.uniform(float(low), float(high), size=n) for n in lengths]
    for values in extra:
        cases.append(_checked_input(np.asarray(values, dtype=np.float64)))
    shifted = {}
    for i in range(len(cases)):
        shifted[len(cases)] = i
        cases.append(cases[i] + float(shift))
    return cases, shifted


def hidden_test_my_softmax(target: Callable[[np.ndarray], Any], **params: Any) -> None:
    """A hidden test of Exercise 1, as a source notebook's hidden block calls it: the public
    rules on the inputs :func:`hidden_cases` makes of ``params``. In an instructor's kernel it
    raises :class:`HiddenTestFailure` with a fixed sentence; at autograde the grader does not
    run this function but the same probe in the kernel and the same judge in its own process."""
    __tracebackhide__ = True
    cases, shifted = hidden_cases(**params)
    record = ev.from_json(ev.to_json(probe(target, cases)))
    verdict = judge_hidden(record, cases, shifted)
    if not verdict.passed:
        raise HiddenTestFailure(verdict.message)
