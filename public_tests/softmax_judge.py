"""The judge of Exercise 1: a softmax probe's evidence in, a verdict with a teaching message out.

Pure data in and out (see :mod:`public_tests.evidence`): it never sees the student's
function, only what the probe recorded of each call, so it runs the same in the student's
kernel and in the grader's own process.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from public_tests import evidence as ev
from public_tests._common import Verdict, fail, fmt_array, fmt_number, hidden_error_sentence, judged

LAB_Z = np.array([1.0, 2.0, 3.0, 4.0])
RTOL = 1e-6  # float32 arithmetic in an answer is fine; any real mistake is far larger
ATOL = 1e-12

FULL_PRECISION_NOTE = (
    "(Numbers here are printed at full precision; the lab's np.set_printoptions(precision=2) "
    "only rounds what the notebook prints.)"
)

#: What to do about an unanswered graded cell (the public test says it once, in its own words).
NOT_ANSWERED = (
    "replace the line `not_answered_yet()` in its graded cell (between '### START CODE HERE ###' "
    "and '### END CODE HERE ###') with your code."
)

#: What feedback says when a requirement fails on the hidden inputs: fixed sentences that
#: name the requirement and never the inputs (the rule names are those of :func:`judge`).
HIDDEN_SENTENCES = {
    "shape": "my_softmax must return one probability per entry of z, for a z of any length.",
    "values": (
        "my_softmax gives wrong probabilities for inputs that the public test does not try: "
        "it must compute e**z_j divided by the sum of e**z_k over all k, for any z."
    ),
    "mutated": "my_softmax must not change the array z that it is given.",
    "shift": "Adding the same number to every z_j changes your softmax; formula (1) does not change.",
}
HIDDEN_RULES = {
    "none": "shape",
    "tensor": "shape",
    "sequence": "shape",
    "scalar": "shape",
    "not_array": "shape",
    "shape": "shape",
    "dtype": "values",
    "nonfinite": "values",
    "values": "values",
    "mutated": "mutated",
}


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
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, rtol=RTOL, atol=ATOL))


def _candidate_mistakes(z: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """What common wrong formulas give for ``z``, each with the hint it deserves."""
    n = z.size
    with np.errstate(all="ignore"):
        ez = np.exp(z)
        total = np.sum(ez)
        candidates = [
            (
                z / np.sum(z),
                "Your values equal z / np.sum(z): the exponential is missing. Softmax "
                "divides e**z_j (np.exp(z)) by the sum of all e**z_k.",
            ),
            (
                ez,
                "Your values equal np.exp(z): they are not divided by the sum of the exponentials, "
                "so they do not add up to 1.",
            ),
            (
                ez / np.sum(z),
                "The denominator is np.sum(z); it must be the sum of the exponentials, np.sum(np.exp(z)).",
            ),
            (ez / np.max(ez), "Each exponential is divided by the largest one; divide by their sum instead."),
            (
                ez / np.mean(ez),
                "Each exponential is divided by the mean of the exponentials (so the "
                "outputs add up to N); divide by their sum instead.",
            ),
            (
                ez / (total - ez[-1]),
                "The denominator leaves out the last term: the sum must run over "
                "every k from 0 to N-1 (a loop `for k in range(N - 1)` stops one short).",
            ),
            (
                ez / (total - ez[0]),
                "The denominator leaves out the first term: the sum must run over "
                "every k from 0 to N-1 (a loop `for k in range(1, N)` skips k = 0).",
            ),
            (
                z - np.log(total),
                "These are log-probabilities (log-softmax): return the probabilities "
                "np.exp(z) / np.sum(np.exp(z)) themselves, without a logarithm.",
            ),
            (
                1.0 / (1.0 + np.exp(-z)),
                "This is the sigmoid 1 / (1 + e**-z) applied to each entry on its "
                "own. Softmax couples the entries: e**z_j divided by the sum of "
                "e**z_k over all k.",
            ),
            (
                np.exp(-z) / np.sum(np.exp(-z)),
                "This is the softmax of -z: check the sign in the exponent "
                "(a larger z_j must give a larger probability).",
            ),
            (
                np.full(n, 1.0 / n),
                "Every output is 1/N whatever the values of z: the result must depend on z through e**z_j.",
            ),
            (
                np.ones(n),
                "Every output is 1: each exponential seems to be divided by itself instead of by the sum over all k.",
            ),
        ]
    if n == LAB_Z.size and not np.array_equal(z, LAB_Z):
        candidates.append(
            (
                softmax_reference(LAB_Z),
                "Your result is the lab example's answer, not the "
                "softmax of this z: compute from z instead of "
                "typing in values.",
            )
        )
    return candidates


def _diagnose(actual: np.ndarray | None, z: np.ndarray, expected: np.ndarray) -> str:
    """A hint naming the likely mistake behind wrong values (or a generic one)."""
    if actual is None:
        return ""
    if actual.shape == z.shape and np.issubdtype(actual.dtype, np.number):
        actual64 = actual.astype(np.float64)
        for decimals in range(0, 9):
            if np.allclose(actual64, np.round(expected, decimals), rtol=0.0, atol=1e-12):
                return (
                    f"Your values are the right ones rounded to {decimals} decimal places: return "
                    "them unrounded (no np.round / round). The lab only *prints* 2 decimals "
                    "because of np.set_printoptions(precision=2)."
                )
        for values, hint in _candidate_mistakes(z.astype(np.float64)):
            if values.shape == actual.shape and np.allclose(actual64, values, rtol=RTOL, atol=ATOL, equal_nan=True):
                return hint
        total = float(np.sum(actual64))
        if not math.isclose(total, 1.0, rel_tol=1e-6):
            return f"Your outputs add up to {fmt_number(total)}; softmax outputs are probabilities and add up to 1."
        return "Your outputs add up to 1 but are not e**z_j / sum_k e**z_k; compare with formula (1)."
    looks_hard_coded = (
        z.size != LAB_Z.size
        and actual.shape == LAB_Z.shape
        and np.issubdtype(actual.dtype, np.number)
        and _close(actual.astype(np.float64), softmax_reference(LAB_Z))
    )
    if looks_hard_coded:
        return "Your result is the lab example's answer, whatever z is: compute from z instead of typing in values."
    return ""


def _shown(rec: dict, arr: np.ndarray | None) -> str:
    return fmt_array(arr) if arr is not None else (ev.text(rec, "text") or "?")


def judge_call(name: str, z: np.ndarray, case: str | None, rec: object) -> None:
    """Judge one recorded call ``name(z)``: raise :class:`Failure` on the first problem."""
    about = f"z = {fmt_array(z)} (dtype {z.dtype}" + (f"; {case})" if case else ")")
    raised = ev.field(rec, "raised", dict, optional=True)
    if raised is not None:
        kind, message = ev.text(raised, "type"), ev.text(raised, "message")
        if ev.flag(raised, "not_answered"):
            fail("not_answered", f"{name} is not answered yet: {NOT_ANSWERED}", not_answered=True)
        where = ev.text(raised, "where", optional=True)
        fail(
            "raised",
            f"{name} raised {kind}" + (f" at {where}" if where else "") + f": {message}" + f"\n  (for {about})",
        )
    after = ev.field(rec, "z_after", dict, optional=True)
    if after is not None:
        changed = ev.array_from(after)
        fail(
            "mutated",
            f"{name} modified its input z in place.",
            f"  z before the call: {fmt_array(z)} (dtype {z.dtype})",
            f"  z after the call:  {_shown(after, changed)} (dtype {ev.dtype_of(after)})",
            "Statements such as `z -= np.max(z)`, `z /= ...`, `z[i] = ...` or np.exp(z, out=z) "
            "change the caller's array. Make a new array instead, e.g. `z = z - np.max(z)`.",
        )
    result = ev.field(rec, "result", dict)
    kind = ev.text(result, "kind")
    if kind == "none":
        fail("none", f"{name} returned None for {about}: is `return a` missing at the end?")
    if kind == "tensor":
        fail(
            "tensor",
            f"{name} returned a TensorFlow tensor ({ev.text(result, 'describe')}) for {about}; "
            "the exercise asks for a NumPy array.",
            "Compute the softmax with NumPy (np.exp, np.sum); if you really have a tensor t, t.numpy() converts it.",
        )
    if kind == "sequence":
        fail(
            "sequence",
            f"{name} returned a Python {ev.text(result, 'type')} for {about}; return a NumPy "
            "array (np.array(...)), or better compute on the whole array: "
            "np.exp(z) / np.sum(np.exp(z)).",
        )
    if kind == "scalar":
        fail(
            "scalar",
            f"{name} returned a single number, {ev.text(result, 'text')}, for {about}; it must "
            f"return one probability per entry of z, an array of shape {z.shape}.",
        )
    if kind != "ndarray":
        fail("not_array", f"{name} returned {ev.text(result, 'describe')} for {about}; return a NumPy array.")
    arr = ev.array_from(result)
    dtype, shape = ev.dtype_of(result), ev.shape_of(result)
    expected = softmax_reference(z)
    if shape != z.shape:
        fail(
            "shape",
            f"{name} returned an array of shape {shape} for {about}; expected shape {z.shape}, "
            "the shape of z (one probability per entry, no extra dimensions).",
            f"  expected: {fmt_array(expected)}",
            f"  actual:   {_shown(result, arr)}",
            _diagnose(arr, z, expected),
        )
    if arr is None or not np.issubdtype(dtype, np.floating):
        hint = ""
        if np.issubdtype(z.dtype, np.integer) and np.issubdtype(dtype, np.integer):
            hint = (
                "For integer z, np.zeros_like(z) and np.empty_like(z) make *integer* arrays, which "
                "truncate probabilities to 0: use np.zeros(z.shape) (floats)."
            )
        fail(
            "dtype",
            f"{name} returned an array of dtype {dtype} for {about}; probabilities need a floating dtype.",
            f"  expected: {fmt_array(expected)}",
            f"  actual:   {_shown(result, arr)}",
            hint,
        )
    actual = arr.astype(np.float64)
    if not np.all(np.isfinite(actual)):
        fail(
            "nonfinite",
            f"{name} returned non-finite values (nan or inf) for {about}.",
            f"  expected: {fmt_array(expected)}",
            f"  actual:   {fmt_array(actual)}",
            "inf or nan comes from a division by zero (is the denominator a sum over all of z?) or "
            "from the exponential of a very large number.",
        )
    if not _close(actual, expected):
        diff = np.abs(actual - expected)
        worst = int(np.argmax(diff))
        fail(
            "values",
            f"{name} returned wrong values for {about}.",
            f"  expected: {fmt_array(expected)}  (adds up to 1)",
            f"  actual:   {fmt_array(actual)}  (adds up to {fmt_number(float(np.sum(actual)))})",
            f"  largest difference: {fmt_number(float(diff[worst]))} at index {worst}",
            _diagnose(arr, z, expected),
            FULL_PRECISION_NOTE,
        )


def function_name(record: object) -> str:
    """The name messages use for the student's function (``my_softmax`` if it has none)."""
    raw = ev.text(record, "name", optional=True) or ""
    return raw if raw.isidentifier() else "my_softmax"


def judge(record: dict[str, Any], cases: Sequence[tuple[str | None, np.ndarray]]) -> Verdict:
    """The public verdict on a probe's record of ``target(z)`` for each ``(case, z)``."""

    def body() -> None:
        name = function_name(record)
        if not ev.flag(record, "callable"):
            fail(
                "not_callable",
                f"Expected the function {name} itself, got {ev.text(record, 'target')}.",
                "Call the test with the function, without parentheses: test_my_softmax(my_softmax).",
            )
        calls = ev.field(record, "calls", list)
        for i, (case, z) in enumerate(cases):
            if i >= len(calls):
                fail("evidence", f"{name} was not called for every input (the record stops early).")
            judge_call(name, z, case, calls[i])

    return _guarded(body)


def judge_hidden(record: dict[str, Any], cases: Sequence[np.ndarray], shifted: dict[int, int]) -> Verdict:
    """The hidden verdict: the public rules on the hidden inputs, reported as fixed sentences
    that never show an input (nor anything the kernel wrote, but a known exception's name).

    ``shifted`` maps the index of a case that is another case plus a constant to that case's
    index: when only the shifted copy has wrong values, the sentence says so.
    """

    def body() -> None:
        name = function_name(record)
        if not ev.flag(record, "callable"):
            fail("not_callable", hidden_error_sentence(None))
        calls = ev.field(record, "calls", list)
        passed: set[int] = set()
        for i, z in enumerate(cases):
            if i >= len(calls):
                fail("evidence", hidden_error_sentence(None))
            verdict = judged(lambda: judge_call(name, z, None, calls[i]))  # noqa: B023 (called at once)
            if verdict.passed:
                passed.add(i)
                continue
            if verdict.rule in ("raised", "not_answered"):
                fail(verdict.rule, hidden_error_sentence(ev.text(calls[i]["raised"], "type")))
            rule = HIDDEN_RULES.get(verdict.rule, "values")
            if rule == "values" and shifted.get(i) in passed:
                fail("shift", HIDDEN_SENTENCES["shift"])
            fail(verdict.rule, HIDDEN_SENTENCES[rule])

    return _guarded(body, hidden=True)


def _guarded(body: Any, *, hidden: bool = False) -> Verdict:
    """:func:`public_tests.evidence.judged_record` for this judge."""
    return ev.judged_record(body, "what the answer returned", hidden=hidden)
