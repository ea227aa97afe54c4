"""Shared machinery of the public tests: the failure type, number formatting, safe calls."""
from __future__ import annotations

import traceback
import warnings
from typing import Any, Callable

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


def call_student(func: Callable[..., Any], *args: Any, name: str, context: str = "") -> Any:
    """Call the student's ``func(*args)`` quietly; turn any exception into a short failure.

    NumPy floating-point warnings and Python warnings raised inside the call are
    silenced (a wrong answer is reported by the checks, not by a warning on stderr).
    A NotImplementedError (the unanswered stub) becomes :class:`NotAnsweredYet`;
    ``context`` (e.g. "for z = [...]") is appended to other errors' messages.
    """
    __tracebackhide__ = True
    code = getattr(func, "__code__", None)
    code_file = code.co_filename if code is not None else None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return func(*args)
    except NotImplementedError as exc:
        raise NotAnsweredYet(f"{name} is not answered yet: {exc}") from None
    except Exception as exc:  # the student's bug, reported in one short message
        where = student_line(exc, code_file)
        where = f" at {where}" if where else ""
        text = (str(exc).strip().splitlines() or [""])[0]  # TensorFlow appends op dumps
        if len(text) > 300:
            text = text[:297] + "..."
        raise PublicTestFailure(
            f"{name} raised {type(exc).__name__}{where}: {text}"
            + (f"\n  ({context})" if context else "")
        ) from None
