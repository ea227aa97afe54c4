"""Shared machinery of the public tests: failures and verdicts, number formatting, quiet calls."""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from utils import _env  # noqa: F401  (TensorFlow's quiet environment, before TF is imported)


class PublicTestFailure(AssertionError):
    """A public test found a problem; the message says what and how to fix it.

    In IPython/Jupyter the error shows as a short block (rule, class name, message)
    instead of a traceback through this package: IPython always prints the frame
    that raised, even one marked ``__tracebackhide__``, so the class renders itself
    through ``_render_traceback_``, the hook IPython offers for that. Plain Python
    and pytest show the usual traceback (pytest hides the helper frames).
    """

    def _render_traceback_(self) -> list[str]:
        red, reset = "\x1b[0;31m", "\x1b[0m"
        return [f"{red}{'-' * 75}{reset}", f"{red}{type(self).__name__}{reset}: {self}"]


class NotAnsweredYet(PublicTestFailure):
    """The graded function still raises NotImplementedError (its body is `not_answered_yet()`)."""


def fmt_number(x: Any) -> str:
    """Format one number at full precision (repr), whatever NumPy's print options are."""
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, np.integer)):
        return repr(int(x))
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    return repr(x)


def fmt_array(a: Any) -> str:
    """Format a 1-D (or any) array-like at full precision, e.g. ``[0.03205860328008499, ...]``.

    The lab sets ``np.set_printoptions(precision=2)``, under which two different
    arrays can print identically; this never rounds.
    """
    arr = np.asarray(a)
    if arr.ndim == 0:
        return fmt_number(arr.item())
    if arr.ndim == 1:
        return "[" + ", ".join(fmt_number(v) for v in arr.tolist()) + "]"
    return "[" + ", ".join(fmt_array(row) for row in arr) + "]"


def describe_value(value: Any) -> str:
    """A short description of any value: its type, and dtype/shape for arrays."""
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray, dtype {value.dtype}, shape {value.shape}"
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__name__


def student_line(exc: BaseException, code_file: str | None) -> str:
    """Where in the student's code an exception happened, as ``line N: `source```` (or '')."""
    frames = traceback.extract_tb(exc.__traceback__)
    if code_file is not None:
        mine = [f for f in frames if f.filename == code_file]
        if mine:
            frame = mine[-1]
            text = (frame.line or "").strip()
            where = f"line {frame.lineno}"
            return f"{where}: `{text}`" if text else where
    return ""


def quiet_call(func: Callable[..., Any], *args: Any) -> Any:
    """Call the student's ``func(*args)`` with NumPy's floating-point warnings and Python's
    warnings silenced: a wrong answer is reported by the judge, not by a warning on stderr."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return func(*args)


def exception_record(exc: BaseException, func: Any) -> dict[str, Any]:
    """What the judge needs of an exception the student's code raised: its type name, the
    first line of its message (TensorFlow appends op dumps), the student's line, and whether
    it is the unanswered stub's ``NotImplementedError``."""
    code = getattr(func, "__code__", None)
    code_file = code.co_filename if code is not None else None
    first = (str(exc).strip().splitlines() or [""])[0]
    return {
        "type": type(exc).__name__,
        "message": first if len(first) <= 300 else first[:297] + "...",
        "where": student_line(exc, code_file),
        "not_answered": isinstance(exc, NotImplementedError),
    }


class Failure(Exception):
    """Raised inside a judge: a failed requirement, with its rule's name (``rule``) and the
    message the student reads."""

    def __init__(self, rule: str, message: str, *, not_answered: bool = False) -> None:
        super().__init__(message)
        self.rule, self.message, self.not_answered = rule, message, not_answered


@dataclass(frozen=True)
class Verdict:
    """A judge's decision: passed, or the rule that failed and the message to show."""

    passed: bool
    message: str = ""
    rule: str = ""
    not_answered: bool = False

    def raise_for_student(self) -> None:
        """In the notebook: raise the failure the student reads (nothing if passed)."""
        __tracebackhide__ = True
        if not self.passed:
            kind = NotAnsweredYet if self.not_answered else PublicTestFailure
            raise kind(self.message) from None


class HiddenTestFailure(AssertionError):
    """A hidden test failed (in an instructor's kernel; at autograde the grader says so)."""


#: Exception names a hidden failure may name (a fixed list: the kernel cannot add to it).
KNOWN_ERRORS = frozenset(
    {
        "AssertionError",
        "AttributeError",
        "IndexError",
        "KeyError",
        "NameError",
        "NotImplementedError",
        "RecursionError",
        "RuntimeError",
        "TypeError",
        "ValueError",
        "ZeroDivisionError",
        "FloatingPointError",
        "OverflowError",
        "MemoryError",
        "InvalidArgumentError",
        "NotAnsweredError",
    }
)
GENERIC_HIDDEN = "a hidden test of this cell failed."


def hidden_error_sentence(kind: str | None) -> str:
    """The fixed sentence for a hidden test that raised ``kind`` (named only if well known)."""
    return f"{GENERIC_HIDDEN[:-1]} with {kind}." if kind in KNOWN_ERRORS else GENERIC_HIDDEN


def fail(rule: str, *lines: str, not_answered: bool = False) -> NoReturn:
    """Raise :class:`Failure` for ``rule`` with the non-empty ``lines`` as its message."""
    raise Failure(rule, "\n".join(line for line in lines if line), not_answered=not_answered)


def judged(judge: Callable[[], None]) -> Verdict:
    """Run a judge body that raises :class:`Failure`; return its :class:`Verdict`."""
    try:
        judge()
    except Failure as failure:
        return Verdict(False, failure.message, failure.rule, failure.not_answered)
    return Verdict(True)
