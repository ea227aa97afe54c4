"""Evidence: what a probe saw the student's answer do, as plain JSON data.

A public test is two halves. The *probe* runs where the answer lives (the student's
kernel): it calls the answer on the test's inputs and records what came back. The *judge*
reads that record, and only that record, and decides: pass, or a failure message. In the
notebook both halves run in the student's kernel, one after the other. At autograde the
probe runs in the kernel and the judge in the grader's own process, which has never run
student code: whatever the kernel does, it can only change what the record says the
answer computed, and that is what is graded.

The record travels as JSON text. This module writes it (:func:`array_record`,
:func:`to_json`) and reads it back strictly (:func:`from_json`, :func:`array_from`,
:func:`text`, ...): anything malformed, oversized or of the wrong type raises
:class:`EvidenceError`, which the judge turns into a failure, never a pass.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from public_tests._common import Verdict, fmt_array, hidden_error_sentence, judged

#: Longest evidence text the grader reads (the model's weights are about 0.3 MB of it).
MAX_CHARS = 4_000_000
#: Most elements of one recorded array (the model's first kernel has 10,000).
MAX_ELEMENTS = 50_000
#: Longest string kept from the kernel (names, exception messages).
MAX_TEXT = 300
#: dtypes whose values travel as numbers; other arrays travel as their printed text only.
NUMERIC_KINDS = "biuf"


class EvidenceError(ValueError):
    """The evidence is not what a probe writes (malformed, oversized, wrong types)."""


def clip(value: object, limit: int = MAX_TEXT) -> str:
    """``str(value)`` cut to ``limit`` characters (with an ellipsis when cut)."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def array_record(a: Any) -> dict[str, Any]:
    """An array as data: dtype, shape, and its values when they are numbers (else ``text``)."""
    arr = np.asarray(a)
    rec: dict[str, Any] = {"dtype": str(arr.dtype), "shape": [int(n) for n in arr.shape]}
    if arr.dtype.kind in NUMERIC_KINDS and arr.size <= MAX_ELEMENTS:
        rec["values"] = arr.tolist()
    else:
        rec["text"] = clip(fmt_array(arr) if arr.size <= 1000 else np.array2string(arr, threshold=20), 2000)
    return rec


def to_json(evidence: dict[str, Any]) -> str:
    """The evidence as one JSON text (NaN and infinities written as JSON's extensions)."""
    return json.dumps(evidence, allow_nan=True, separators=(",", ":"))


def from_json(data: object) -> dict[str, Any]:
    """Parse evidence text from the kernel; :class:`EvidenceError` unless it is a JSON object."""
    if not isinstance(data, str):
        raise EvidenceError(f"evidence must be text, got {type(data).__name__}")
    if len(data) > MAX_CHARS:
        raise EvidenceError(f"evidence of {len(data)} characters, over the {MAX_CHARS} limit")
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise EvidenceError(f"evidence is not JSON ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise EvidenceError("evidence must be a JSON object")
    return value


def field(rec: object, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    """``rec[key]``, checked to be of ``kind`` (bool is never taken for int)."""
    if not isinstance(rec, dict):
        raise EvidenceError(f"expected an object holding {key!r}")
    if key not in rec or rec[key] is None:
        if optional:
            return None
        raise EvidenceError(f"{key!r} is missing")
    value = rec[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise EvidenceError(f"{key!r} must be {kinds[0].__name__}, got a boolean")
    if not isinstance(value, kinds):
        raise EvidenceError(f"{key!r} must be {kinds[0].__name__}, got {type(value).__name__}")
    return value


def text(rec: object, key: str, *, optional: bool = False) -> str | None:
    """A string field, cut to :data:`MAX_TEXT` characters."""
    value = field(rec, key, str, optional=optional)
    return None if value is None else clip(value)


def flag(rec: object, key: str) -> bool:
    """A boolean field; missing means False."""
    return bool(field(rec, key, bool, optional=True))


def count(rec: object, key: str, *, optional: bool = False) -> int | None:
    """A non-negative integer field."""
    value = field(rec, key, int, optional=optional)
    if value is not None and value < 0:
        raise EvidenceError(f"{key!r} must not be negative")
    return value


def shape_of(rec: object, key: str = "shape") -> tuple[int, ...]:
    """A shape: a list of at most 8 non-negative integers."""
    raw = field(rec, key, list)
    if len(raw) > 8 or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in raw):
        raise EvidenceError(f"{key!r} is not a shape")
    return tuple(raw)


def dtype_of(rec: object) -> np.dtype:
    """The recorded dtype: one NumPy knows, not structured (object arrays travel as text)."""
    name = field(rec, "dtype", str)
    try:
        dtype = np.dtype(name)
    except (TypeError, ValueError, SyntaxError):
        raise EvidenceError(f"unknown dtype {clip(name, 40)!r}") from None
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind == "V":
        raise EvidenceError(f"dtype {clip(dtype, 40)} is not allowed")
    return dtype


def array_from(rec: object) -> np.ndarray | None:
    """The recorded array, or None when only its text was recorded (a non-numeric dtype).

    Checks that the values are numbers of the recorded shape and fit the recorded dtype.
    """
    dtype, shape = dtype_of(rec), shape_of(rec)
    if math.prod(shape) > MAX_ELEMENTS:
        raise EvidenceError(f"an array of {math.prod(shape)} elements, over the {MAX_ELEMENTS} limit")
    if dtype.kind not in NUMERIC_KINDS:
        text(rec, "text")
        return None
    values = field(rec, "values", (list, int, float))
    _check_numbers(values, len(shape))
    try:
        arr = np.array(values, dtype=dtype)
    except (ValueError, TypeError, OverflowError):
        raise EvidenceError(f"values do not fit dtype {dtype}") from None
    if arr.shape != shape:
        raise EvidenceError(f"values of shape {arr.shape} recorded as shape {shape}")
    return arr


def _check_numbers(values: object, depth: int) -> None:
    if depth == 0:
        if isinstance(values, bool) or isinstance(values, (int, float)):
            return
        raise EvidenceError("an array value is not a number")
    if not isinstance(values, list):
        raise EvidenceError("array values are not nested lists of the recorded shape")
    for item in values:
        _check_numbers(item, depth - 1)


def judged_record(body: Any, what: str, *, hidden: bool = False) -> Verdict:
    """``judged(body)``, with a record that cannot be read (:class:`EvidenceError`) a failure
    naming ``what`` could not be read, not a crash. A hidden judge says only the fixed
    sentence: the error's text quotes the record, which the kernel wrote (it could spell out
    the hidden inputs it was called on)."""
    try:
        return judged(body)
    except EvidenceError as exc:
        if hidden:
            return Verdict(False, hidden_error_sentence(None), "evidence")
        return Verdict(False, f"The autograder could not read {what} ({exc}).", "evidence")
