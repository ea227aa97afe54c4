"""utils.blobs (the four-class data of optional labs 2 and 3) and utils.checks (shared input checks)."""
from __future__ import annotations

import numpy as np
import pytest

from utils.blobs import CENTERS, make_blobs
from utils.checks import check_int, check_labels, check_points, check_positive

# The labs' cluster centres, written out independently of the module.
EXPECTED_CENTERS = np.array([[-5.0, 2.0], [-2.0, -2.0], [1.0, 2.0], [5.0, -2.0]])


# ---------------------------------------------------------------- make_blobs

def test_the_centres_are_the_labs_centres():
    np.testing.assert_array_equal(np.asarray(CENTERS), EXPECTED_CENTERS)


def test_blobs_shapes_dtypes_and_balanced_labels():
    X, y = make_blobs(n_per_class=30, seed=1)
    assert X.shape == (120, 2) and X.dtype == np.float64 and np.all(np.isfinite(X))
    assert y.shape == (120,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [30, 30, 30, 30]


def test_blobs_three_custom_centres():
    X, y = make_blobs(centers=[(0, 0), (10, 0), (0, 10)], std=0.5, n_per_class=7, seed=3)
    assert X.shape == (21, 2)
    assert sorted(set(y.tolist())) == [0, 1, 2]


def test_blobs_class_means_and_spread_match_request():
    centres = np.array([(-3.0, 1.0), (2.0, -4.0), (6.0, 6.0), (0.0, 0.0)])
    std, n = 0.8, 2000
    X, y = make_blobs(centers=centres, std=std, n_per_class=n, seed=7)
    tol = 5 * std / np.sqrt(n)  # five standard errors of a class mean
    for k, c in enumerate(centres):
        pts = X[y == k]
        assert np.all(np.abs(pts.mean(axis=0) - c) < tol), (k, pts.mean(axis=0), c)
        assert np.allclose(pts.std(axis=0), std, rtol=0.08)


def test_default_blobs_sit_on_the_lab_centres_and_the_nearest_centre_is_mostly_the_label():
    X, y = make_blobs(std=0.5, n_per_class=2000, seed=7)
    for k in range(4):
        np.testing.assert_allclose(X[y == k].mean(axis=0), EXPECTED_CENTERS[k], atol=0.05)
    nearest = np.argmin(((X[:, None, :] - EXPECTED_CENTERS[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest == y) > 0.99


def test_blobs_unshuffled_is_grouped_and_shuffled_is_mixed():
    _, y_grouped = make_blobs(n_per_class=5, seed=0, shuffle=False)
    assert np.array_equal(y_grouped, np.repeat(np.arange(4), 5))
    _, y_mixed = make_blobs(n_per_class=100, seed=0)
    assert not np.all(np.diff(y_mixed) >= 0)  # not sorted by label
    assert not np.array_equal(y_mixed, np.arange(400) % 4)  # not the plain cycle either
    assert np.array_equal(np.sort(y_mixed), np.repeat(np.arange(4), 100))


def test_blobs_are_deterministic_and_ignore_global_random_state():
    np.random.seed(0)
    X1, y1 = make_blobs(n_per_class=25, seed=5)
    np.random.seed(99)
    X2, y2 = make_blobs(n_per_class=25, seed=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make_blobs(n_per_class=25, seed=6)
    assert not np.allclose(X1, X3)
    np.random.seed(42)  # the generator does not advance NumPy's global state
    first = np.random.random()
    np.random.seed(42)
    make_blobs(n_per_class=25, seed=5)
    assert np.random.random() == first


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"centers": [(0, 0)]}, "k >= 2"),
        ({"centers": [(0, 0, 0), (1, 1, 1)]}, "shape"),
        ({"centers": [(0, np.nan), (1, 1)]}, "finite"),
        ({"std": 0}, "std must be a positive"),
        ({"std": -1.0}, "std must be a positive"),
        ({"std": float("nan")}, "std must be a positive"),
        ({"std": "big"}, "std must be a positive"),
        ({"std": True}, "std must be a positive"),
        ({"n_per_class": 0}, "n_per_class must be an int >= 1"),
        ({"n_per_class": 2.5}, "n_per_class must be an int"),
        ({"n_per_class": True}, "n_per_class must be an int"),
        ({"seed": -1}, "seed must be an int >= 0"),
        ({"seed": None}, "seed must be an int >= 0"),
    ],
)
def test_blobs_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_blobs(**kwargs)


# ---------------------------------------------------------------- checks

def test_check_labels_accepts_rows_columns_and_whole_floats():
    np.testing.assert_array_equal(check_labels([2, 0, 1]), [2, 0, 1])
    np.testing.assert_array_equal(check_labels(np.array([[3], [1]]), m=2), [3, 1])
    out = check_labels(np.array([1.0, 0.0]), n_classes=2)
    assert out.dtype == np.int64 and out.tolist() == [1, 0]
    assert check_labels([], m=0).shape == (0,)


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        ([[0, 1], [1, 0]], {}, r"shape \(m,\) or \(m, 1\)"),
        ([0, 1, 2], {"m": 4}, "y has 3 labels but X has 4 rows"),
        ([0.5, 1.0], {}, "whole-number"),
        ([0.0, np.nan], {}, "whole-number"),
        (["a", "b"], {}, "whole-number"),
        ([-1, 0], {}, "labels >= 0"),
        ([0, 4], {"n_classes": 4}, r"labels in 0\.\.3; got values up to 4"),
    ],
)
def test_check_labels_rejects(y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_labels(y, **kwargs)


def test_check_points():
    out = check_points([[1, 2], [3, 4]])
    assert out.dtype == np.float64 and out.shape == (2, 2)
    for bad, match in [(np.zeros((3, 3)), r"shape \(m, 2\)"), (np.zeros((0, 2)), "no points"),
                       (np.array([[np.inf, 0.0]]), "finite"), (np.array([["a", "b"]]), "finite")]:
        with pytest.raises(ValueError, match=match):
            check_points(bad)


def test_check_int_and_check_positive():
    assert check_int(np.int64(3), "n", 1) == 3
    assert check_positive(np.float32(0.5), "std") == 0.5
    for bad in (0, 1.0, True, "2"):
        with pytest.raises(ValueError, match="n must be an int >= 1"):
            check_int(bad, "n", 1)
    for bad in (0, -2.0, float("inf"), False, None):
        with pytest.raises(ValueError, match="std must be a positive, finite number"):
            check_positive(bad, "std")


# ---------------------------------------------------------------- one colour per class, everywhere

def test_palette_is_the_styles_colour_cycle():
    import re

    from helpers.repo import ROOT
    from utils.palette import COLORS

    text = (ROOT / "utils" / "course.mplstyle").read_text()
    cycle = re.search(r"axes\.prop_cycle:\s*cycler\('color',\s*\[([^\]]*)\]\)", text).group(1)
    assert list(COLORS) == ["#" + c.strip().strip("'\"") for c in cycle.split(",")]


def test_labs_two_and_three_draw_each_class_in_the_same_colour():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from utils.lab_multiclass import plot_data
    from utils.lab_softmax import plot_blobs
    from utils.palette import COLORS

    X, y = make_blobs(n_per_class=5, seed=0)
    try:
        lab2 = [to_hex(c.get_facecolor()[0]) for c in plot_blobs(X, y).axes[0].collections]
        lab3 = [to_hex(c.get_facecolor()[0]) for c in plot_data(X, y).axes[0].collections]
    finally:
        plt.close("all")
    assert lab2 == lab3 == list(COLORS[:4])
