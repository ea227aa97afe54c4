"""The four-class data set in the plane used by optional labs 2 and 3 (plain NumPy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from utils.checks import check_int, check_positive

# Four clusters along a zig-zag, so that no single straight line separates one class from
# all the others without help from a hidden layer.
CENTERS: tuple[tuple[float, float], ...] = ((-5.0, 2.0), (-2.0, -2.0), (1.0, 2.0), (5.0, -2.0))
"""The class centres (x0, x1): class k is drawn around ``CENTERS[k]``."""
N_CLASSES = len(CENTERS)
STD = 1.0
N_PER_CLASS = 100
SEED = 1234


def make_blobs(
    centers: Sequence[Sequence[float]] = CENTERS,
    std: float = STD,
    n_per_class: int = N_PER_CLASS,
    seed: int = SEED,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_per_class`` Gaussian points around each centre; class k belongs to ``centers[k]``.

    Returns ``X`` of shape (m, 2), float64, and ``y`` of shape (m,), int64, with
    ``m = len(centers) * n_per_class``: point i is ``centers[y[i]]`` plus noise of standard
    deviation ``std`` in each coordinate. The same arguments always give the same arrays
    (NumPy's global random state is neither used nor advanced). With ``shuffle=False`` rows
    are grouped by class (class 0 first).
    """
    c = np.asarray(centers, dtype=float)
    if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] < 2:
        raise ValueError(f"centers must have shape (k, 2) with k >= 2 classes; got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("centers must be finite numbers")
    spread = check_positive(std, "std")
    n = check_int(n_per_class, "n_per_class", 1)
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    k = c.shape[0]
    labels: Any = rng.permutation(np.tile(np.arange(k), n)) if shuffle else np.repeat(np.arange(k), n)
    y = np.asarray(labels, dtype=np.int64)
    X = c[y] + spread * rng.standard_normal((k * n, 2))
    return X, y
