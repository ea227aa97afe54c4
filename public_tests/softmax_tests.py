"""Public tests of Exercise 1, ``my_softmax(z)``, with messages that name the likely mistake."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from public_tests._common import (
    PublicTestFailure,
    call_student,
    describe_value,
    fmt_array,
    fmt_number,
)

__all__ = ["SOFTMAX_CASES", "check_softmax", "softmax_reference", "test_my_softmax"]

LAB_Z = np.array([1.0, 2.0, 3.0, 4.0])

#: The inputs ``test_my_softmax`` tries, in order: (description, z).
SOFTMAX_CASES: tuple[tuple[str, np.ndarray], ...] = (
    ("the lab's example", LAB_Z),
    ("ten equal values", np.full(10, 0.7)),
    ("negative values", np.array([-1.5, -0.25, -4.0, -2.0, -0.75])),
    ("mixed signs, length 7", np.array([0.5, -1.0, 2.0, 0.0, -0.5, 1.5, 3.0])),
    ("integer input", np.array([3, 1, 0, 2, 5, 4])),
    ("a single value", np.array([2.5])),
)

RTOL = 1e-6  # float32 arithmetic in an answer is fine; any real mistake is far larger
ATOL = 1e-12

FULL_PRECISION_NOTE = (
    "(Numbers here are printed at full precision; the lab's np.set_printoptions(precision=2) "
    "only rounds what the notebook prints.)"
)


def softmax_reference(z: Any) -> np.ndarray:
    """Softmax of a 1-D array, computed in plain Python (``math.exp``) as an independent reference."""
    values = [float(v) for v in np.asarray(z, dtype=np.float64).ravel()]
    if not values:
        raise ValueError("softmax of an empty array is undefined")
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = math.fsum(exps)
    return np.array([e / total for e in exps], dtype=np.float64).reshape(np.shape(z))


def _close(actual: np.ndarray, expected: np.ndarray) -> bool:
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=RTOL, atol=ATOL)
    )


def _candidate_mistakes(z: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """What common wrong formulas give for ``z``, each with the hint it deserves."""
    n = z.size
    with np.errstate(all="ignore"):
        ez = np.exp(z)
        total = np.sum(ez)
        candidates = [
            (
                z / np.sum(z),
                "Your values equal z / np.sum(z): the exponential is missing. Softmax divides "
                "e**z_j (np.exp(z)) by the sum of all e**z_k.",
            ),
            (
                ez,
                "Your values equal np.exp(z): they are not divided by the sum of the "
                "exponentials, so they do not add up to 1.",
            ),
            (
                ez / np.sum(z),
                "The denominator is np.sum(z); it must be the sum of the exponentials, "
                "np.sum(np.exp(z)).",
            ),
            (
                ez / np.max(ez),
                "Each exponential is divided by the largest one; divide by their sum instead.",
            ),
            (
                ez / np.mean(ez),
                "Each exponential is divided by the mean of the exponentials (so the outputs add "
                "up to N); divide by their sum instead.",
            ),
            (
                ez / (total - ez[-1]),
                "The denominator leaves out the last term: the sum must run over every k from 0 "
                "to N-1 (a loop `for k in range(N - 1)` stops one short).",
            ),
            (
                ez / (total - ez[0]),
                "The denominator leaves out the first term: the sum must run over every k from 0 "
                "to N-1 (a loop `for k in range(1, N)` skips k = 0).",
            ),
            (
                z - np.log(total),
                "These are log-probabilities (log-softmax): return the probabilities "
                "np.exp(z) / np.sum(np.exp(z)) themselves, without a logarithm.",
            ),
            (
                1.0 / (1.0 + np.exp(-z)),
                "This is the sigmoid 1 / (1 + e**-z) applied to each entry on its own. Softmax "
                "couples the entries: e**z_j divided by the sum of e**z_k over all k.",
            ),
            (
                np.exp(-z) / np.sum(np.exp(-z)),
                "This is the softmax of -z: check the sign in the exponent (a larger z_j must "
                "give a larger probability).",
            ),
            (
                np.full(n, 1.0 / n),
                "Every output is 1/N whatever the values of z: the result must depend on z "
                "through e**z_j.",
            ),
            (
                np.ones(n),
                "Every output is 1: each exponential seems to be divided by itself instead of by "
                "the sum over all k.",
            ),
        ]
    if n == LAB_Z.size and not np.array_equal(z, LAB_Z):
        candidates.append(
            (
                softmax_reference(LAB_Z),
                "Your result is the lab example's answer, not the softmax of this z: "
                "compute from z instead of typing in values.",
            )
        )
    return candidates


def _diagnose(actual: np.ndarray, z: np.ndarray, expected: np.ndarray) -> str:
    """A hint naming the likely mistake behind wrong values (or a generic one)."""
    if actual.shape == z.shape and np.issubdtype(actual.dtype, np.number):
        actual64 = actual.astype(np.float64)
        for decimals in range(0, 9):
            if np.allclose(actual64, np.round(expected, decimals), rtol=0.0, atol=1e-12):
                return (
                    f"Your values are the right ones rounded to {decimals} decimal places: "
                    "return them unrounded (no np.round / round). The lab only *prints* 2 "
                    "decimals because of np.set_printoptions(precision=2)."
                )
        for values, hint in _candidate_mistakes(z.astype(np.float64)):
            if values.shape == actual.shape and np.allclose(
                actual64, values, rtol=RTOL, atol=ATOL, equal_nan=True
            ):
                return hint
        total = float(np.sum(actual64))
        if not math.isclose(total, 1.0, rel_tol=1e-6):
            return (
                f"Your outputs add up to {fmt_number(total)}; softmax outputs are probabilities "
                "and add up to 1."
            )
        return (
            "Your outputs add up to 1 but are not e**z_j / sum_k e**z_k; compare with formula (1)."
        )
    looks_hard_coded = (
        z.size != LAB_Z.size
        and actual.shape == LAB_Z.shape
        and np.issubdtype(actual.dtype, np.number)
        and _close(actual.astype(np.float64), softmax_reference(LAB_Z))
    )
    if looks_hard_coded:
        return (
            "Your result is the lab example's answer, whatever z is: compute from z "
            "instead of typing in values."
        )
    return ""


def _fail(lines: list[str]) -> None:
    __tracebackhide__ = True
    raise PublicTestFailure("\n".join(line for line in lines if line)) from None


def _is_tensor(value: Any) -> bool:
    module = type(value).__module__ or ""
    return not isinstance(value, np.ndarray) and (
        module.startswith(("tensorflow", "keras", "tf_keras")) or hasattr(value, "numpy")
    )


def check_softmax(
    target: Callable[[np.ndarray], Any],
    z: Any,
    *,
    name: str | None = None,
    case: str | None = None,
) -> np.ndarray:
    """Check ``target(z)`` against an independent softmax of the 1-D array ``z``.

    Verifies, in this order: the call does not raise, it leaves ``z`` unmodified,
    the result is a NumPy array (not None, a list, a scalar or a TensorFlow tensor)
    of the same shape as ``z`` with a floating dtype and finite values, and the
    values equal the softmax (relative tolerance 1e-6, so they add up to 1).
    Returns the result as a float64 array; raises :class:`PublicTestFailure` (an
    AssertionError) whose message gives expected and actual values at full precision
    and, when it recognises one, names the mistake. ``name`` is the function's name
    in messages; ``case`` describes ``z`` (e.g. "negative values").
    """
    __tracebackhide__ = True
    z = np.array(z)  # a private copy: the caller's array is never touched
    if z.ndim != 1 or z.size == 0 or not np.issubdtype(z.dtype, np.number):
        raise ValueError(f"check_softmax needs a non-empty 1-D numeric array z, got {z!r}")
    if name is None:
        raw = getattr(target, "__name__", "")
        name = raw if raw.isidentifier() else "my_softmax"
    if not callable(target):
        _fail(
            [
                f"Expected the function {name} itself, got {describe_value(target)}.",
                "Call the test with the function, without parentheses: test_my_softmax(my_softmax).",
            ]
        )
    about = f"z = {fmt_array(z)} (dtype {z.dtype}" + (f"; {case})" if case else ")")
    given = z.copy()
    result = call_student(target, given, name=name, context=f"for {about}")

    if given.dtype != z.dtype or given.shape != z.shape or not np.array_equal(given, z):
        _fail(
            [
                f"{name} modified its input z in place.",
                f"  z before the call: {fmt_array(z)} (dtype {z.dtype})",
                f"  z after the call:  {fmt_array(given)} (dtype {given.dtype})",
                "Statements such as `z -= np.max(z)`, `z /= ...`, `z[i] = ...` or "
                "np.exp(z, out=z) change the caller's array. Make a new array instead, "
                "e.g. `z = z - np.max(z)`.",
            ]
        )
    if result is None:
        _fail([f"{name} returned None for {about}: is `return a` missing at the end?"])
    if _is_tensor(result):
        _fail(
            [
                f"{name} returned a TensorFlow tensor ({describe_value(result)}) for {about}; "
                "the exercise asks for a NumPy array.",
                "Compute the softmax with NumPy (np.exp, np.sum); if you really have a tensor t, "
                "t.numpy() converts it.",
            ]
        )
    if isinstance(result, (list, tuple)):
        _fail(
            [
                f"{name} returned a Python {type(result).__name__} for {about}; return a NumPy "
                "array (np.array(...)), or better compute on the whole array: "
                "np.exp(z) / np.sum(np.exp(z)).",
            ]
        )
    if np.ndim(result) == 0 and isinstance(result, (int, float, complex, np.generic, np.ndarray)):
        _fail(
            [
                f"{name} returned a single number, {fmt_array(result)}, for {about}; it must "
                f"return one probability per entry of z, an array of shape {z.shape}.",
            ]
        )
    if not isinstance(result, np.ndarray):
        _fail([f"{name} returned {describe_value(result)} for {about}; return a NumPy array."])

    expected = softmax_reference(z)
    if result.shape != z.shape:
        _fail(
            [
                f"{name} returned an array of shape {result.shape} for {about}; expected shape "
                f"{z.shape}, the shape of z (one probability per entry, no extra dimensions).",
                f"  expected: {fmt_array(expected)}",
                f"  actual:   {fmt_array(result)}",
                _diagnose(result, z, expected),
            ]
        )
    if not np.issubdtype(result.dtype, np.floating):
        hint = ""
        if np.issubdtype(z.dtype, np.integer) and np.issubdtype(result.dtype, np.integer):
            hint = (
                "For integer z, np.zeros_like(z) and np.empty_like(z) make *integer* arrays, "
                "which truncate probabilities to 0: use np.zeros(z.shape) (floats)."
            )
        _fail(
            [
                f"{name} returned an array of dtype {result.dtype} for {about}; probabilities "
                "need a floating dtype.",
                f"  expected: {fmt_array(expected)}",
                f"  actual:   {fmt_array(result)}",
                hint,
            ]
        )
    actual = result.astype(np.float64)
    if not np.all(np.isfinite(actual)):
        _fail(
            [
                f"{name} returned non-finite values (nan or inf) for {about}.",
                f"  expected: {fmt_array(expected)}",
                f"  actual:   {fmt_array(actual)}",
                "inf or nan comes from a division by zero (is the denominator a sum over all "
                "of z?) or from the exponential of a very large number.",
            ]
        )
    if not _close(actual, expected):
        diff = np.abs(actual - expected)
        worst = int(np.argmax(diff))
        _fail(
            [
                f"{name} returned wrong values for {about}.",
                f"  expected: {fmt_array(expected)}  (adds up to 1)",
                f"  actual:   {fmt_array(actual)}  (adds up to {fmt_number(float(np.sum(actual)))})",
                f"  largest difference: {fmt_number(float(diff[worst]))} at index {worst}",
                _diagnose(result, z, expected),
                FULL_PRECISION_NOTE,
            ]
        )
    return actual


def test_my_softmax(target: Callable[[np.ndarray], Any]) -> None:
    """Public test of Exercise 1: run :func:`check_softmax` on every input in ``SOFTMAX_CASES``.

    Prints ``All tests passed.`` when all pass; otherwise raises PublicTestFailure.
    """
    __tracebackhide__ = True
    for case, z in SOFTMAX_CASES:
        check_softmax(target, z, case=case)
    print("All tests passed.")
