"""Input checks shared by the figure helpers: whole numbers, class labels, points in the plane.

Each raises ``ValueError`` with a message that names the argument and what was wrong.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np


def check_int(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int, if it is a whole number (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def check_positive(value: Any, name: str) -> float:
    """``value`` as a float, if it is a positive, finite number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number; got {value!r}")
    return float(value)


def check_labels(y: Any, m: int | None = None, n_classes: int | None = None, name: str = "y") -> np.ndarray:
    """Class labels as a 1-D int64 array.

    ``y`` has shape ``(m,)`` or ``(m, 1)`` and holds whole numbers ``>= 0`` (floats such as
    ``2.0`` are accepted). With ``m`` it must hold one label per row of ``X``; with
    ``n_classes`` every label must lie in ``0 .. n_classes - 1``.
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must hold one label per example, shape (m,) or (m, 1); got shape {np.shape(y)}")
    if m is not None and arr.shape[0] != m:
        raise ValueError(f"{name} has {arr.shape[0]} labels but X has {m} rows")
    if arr.size == 0:
        return arr.astype(np.int64)
    if (
        not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating))
        or not np.all(np.isfinite(arr))
        or np.any(arr != np.round(arr))
    ):
        raise ValueError(f"{name} must hold whole-number class labels; got dtype {arr.dtype}")
    labels = arr.astype(np.int64)
    if labels.min() < 0:
        raise ValueError(f"{name} must hold labels >= 0; got {labels.min()}")
    if n_classes is not None and labels.max() >= n_classes:
        raise ValueError(f"{name} must hold labels in 0..{n_classes - 1}; got values up to {labels.max()}")
    return labels


def check_points(X: Any, name: str = "X") -> np.ndarray:
    """Points in the plane as a float64 array of shape ``(m, 2)``, ``m >= 1``, all finite."""
    arr = np.asarray(X)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (m, 2): one row per point in the plane; got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} holds no points (m >= 1 needed)")
    if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite numbers")
    return arr.astype(np.float64)
