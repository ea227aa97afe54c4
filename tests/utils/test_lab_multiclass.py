"""Tests of utils.lab_multiclass (optional lab 3): data, unit regions, decision regions.

Figures are checked through their artists (image arrays, line data, scatter offsets, titles);
expected values come from formulas written out here, not from the module under test.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

from utils.blobs import make_blobs  # noqa: E402
from utils.lab_multiclass import (  # noqa: E402
    boundary_segment,
    mesh_points,
    plot_data,
    plot_decision_regions,
    plot_unit_regions,
)

pytestmark = pytest.mark.usefixtures("close_figures")  # tests/conftest.py


def pixel_centres(image) -> tuple[np.ndarray, np.ndarray]:
    """x0 and x1 of every pixel centre of an ``imshow(origin="lower")`` image, from its extent."""
    ny, nx = image.get_array().shape
    left, right, bottom, top = image.get_extent()
    xs = left + (np.arange(nx) + 0.5) * (right - left) / nx
    ys = bottom + (np.arange(ny) + 0.5) * (top - bottom) / ny
    return np.meshgrid(xs, ys)


def scatters(ax) -> list[PathCollection]:
    return [c for c in ax.collections if isinstance(c, PathCollection)]


class FakeLayer:
    def __init__(self, W, b):
        self.W, self.b = np.asarray(W, float), np.asarray(b, float)

    def get_weights(self):
        return [self.W, self.b]


class StubModel:
    """Four outputs (x0, -x0, x1, -x1): the winner is the larger of |x0|, |x1| and its sign."""

    def __init__(self, layers=()):
        self.calls: list[tuple[tuple[int, ...], dict]] = []
        self.layers = list(layers)

    def predict(self, X, **kwargs):
        X = np.asarray(X)
        self.calls.append((X.shape, kwargs))
        return np.column_stack([X[:, 0], -X[:, 0], X[:, 1], -X[:, 1]])


# --------------------------------------------------------------------------- mesh and lines


def test_mesh_points_are_pixel_centres_with_x0_fastest():
    P, (ny, nx) = mesh_points((0.0, 4.0, 0.0, 2.0), resolution=4)
    assert (ny, nx) == (2, 4)
    expected = [[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [3.5, 0.5],
                [0.5, 1.5], [1.5, 1.5], [2.5, 1.5], [3.5, 1.5]]
    np.testing.assert_allclose(P, expected)


@pytest.mark.parametrize("w, b", [((1.0, 2.0), -1.0), ((3.0, 0.5), 2.0), ((0.0, -1.0), 1.5), ((2.0, 0.0), 4.0)])
def test_boundary_segment_lies_on_the_line_and_spans_the_plot(w, b):
    seg = boundary_segment(np.array(w), b, (-8.0, 8.0, -6.0, 6.0))
    np.testing.assert_allclose(seg @ np.array(w) + b, [0.0, 0.0], atol=1e-12)
    assert not np.allclose(seg[0], seg[1])


def test_boundary_segment_of_a_zero_weight_unit_is_none():
    assert boundary_segment(np.zeros(2), 1.0, (-1.0, 1.0, -1.0, 1.0)) is None


# --------------------------------------------------------------------------- plot_data


def test_plot_data_draws_each_class_in_its_own_colour():
    X, y = make_blobs(n_per_class=10, seed=2)
    fig = plot_data(X, y)
    ax = fig.axes[0]
    sc = scatters(ax)
    assert len(sc) == 4
    for k, coll in enumerate(sc):
        np.testing.assert_allclose(coll.get_offsets(), X[y == k])
        assert coll.get_label() == f"class {k}"
    colours = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in sc}
    assert len(colours) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2", "class 3"]
    assert ax.get_title()
    # the plot covers every point
    x_lo, x_hi = ax.get_xlim()
    y_lo, y_hi = ax.get_ylim()
    assert x_lo < X[:, 0].min() and X[:, 0].max() < x_hi and y_lo < X[:, 1].min() and X[:, 1].max() < y_hi


def test_plot_data_accepts_column_labels():
    X, y = make_blobs(n_per_class=5, seed=2)
    fig = plot_data(X, y.reshape(-1, 1).astype(float))
    assert sum(len(c.get_offsets()) for c in scatters(fig.axes[0])) == 20


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.zeros((5, 3)), np.zeros(5), r"X must have shape \(m, 2\)"),
        (np.zeros((0, 2)), np.zeros(0), "X holds no points"),
        (np.full((2, 2), np.nan), np.zeros(2), "finite"),
        (np.zeros((5, 2)), np.zeros(4), "4 labels but X has 5 rows"),
        (np.zeros((2, 2)), np.array([0.0, 1.5]), "whole-number"),
        (np.zeros((2, 2)), np.array([0, 9]), r"labels in 0\.\.7"),
        (np.zeros((2, 2)), np.array([-1, 0]), "labels >= 0"),
    ],
)
def test_plot_data_rejects_bad_input(X, y, message):
    with pytest.raises(ValueError, match=message):
        plot_data(X, y)


# --------------------------------------------------------------------------- unit regions

# Three units: x0 > 0 ; x1 - 1 > 0 ; -x0 + 2 x1 + 0.5 > 0
W_EXAMPLE = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 2.0]])
B_EXAMPLE = np.array([0.0, -1.0, 0.5])
ON_RULES = [
    lambda x0, x1: x0 > 0,
    lambda x0, x1: x1 > 1,
    lambda x0, x1: -x0 + 2 * x1 + 0.5 > 0,
]
EXTENT = (-4.0, 4.0, -3.0, 3.0)
TITLE_FORMULAS = [
    "$z$ = 1.00$x_0$ + 0.00$x_1$ + 0.00",
    "$z$ = 0.00$x_0$ + 1.00$x_1$ - 1.00",
    "$z$ = -1.00$x_0$ + 2.00$x_1$ + 0.50",
]


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.axison]


def check_unit_panels(fig):
    axes = visible_axes(fig)
    assert len(axes) == 3
    for j, (ax, rule) in enumerate(zip(axes, ON_RULES)):
        (image,) = ax.images
        assert tuple(image.get_extent()) == EXTENT
        x0, x1 = pixel_centres(image)
        shaded = np.asarray(image.get_array()) > 0.5
        np.testing.assert_array_equal(shaded, rule(x0, x1))
        assert 0 < shaded.mean() < 1  # both sides appear in this extent
        (line,) = ax.get_lines()
        pts = np.column_stack(line.get_data())
        w, b = W_EXAMPLE[:, j], B_EXAMPLE[j]
        np.testing.assert_allclose(pts @ w + b, 0.0, atol=1e-12)
        assert ax.get_title() == f"unit {j}: on where shaded\n{TITLE_FORMULAS[j]}"


def test_unit_regions_from_arrays_shade_exactly_where_z_is_positive():
    fig = plot_unit_regions(W_EXAMPLE, B_EXAMPLE, extent=EXTENT, resolution=80)
    check_unit_panels(fig)


def test_unit_regions_from_a_model_use_its_first_layer():
    model = StubModel(layers=[FakeLayer(W_EXAMPLE, B_EXAMPLE), FakeLayer(np.ones((3, 4)), np.zeros(4))])
    fig = plot_unit_regions(model, extent=EXTENT, resolution=80)
    check_unit_panels(fig)
    assert model.calls == []  # weights only: no prediction needed


def test_unit_regions_arrow_points_into_the_on_side():
    fig = plot_unit_regions(W_EXAMPLE, B_EXAMPLE, extent=EXTENT, resolution=20)
    for j, ax in enumerate(visible_axes(fig)):
        (arrow,) = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
        tail, tip = np.array(arrow.xyann), np.array(arrow.xy)
        w, b = W_EXAMPLE[:, j], B_EXAMPLE[j]
        assert abs(tail @ w + b) < 1e-9  # starts on the boundary
        assert tip @ w + b > 0  # ends where the unit is on


def test_unit_regions_overlay_data_and_default_extent_covers_it():
    X, y = make_blobs(n_per_class=10, seed=4)
    fig = plot_unit_regions(W_EXAMPLE, B_EXAMPLE, X, y, resolution=20)
    for ax in visible_axes(fig):
        offsets = np.concatenate([c.get_offsets() for c in scatters(ax)])
        assert offsets.shape == (40, 2)
        left, right, bottom, top = ax.images[0].get_extent()
        assert left < X[:, 0].min() and X[:, 0].max() < right and bottom < X[:, 1].min() and X[:, 1].max() < top


def test_unit_regions_constant_unit_has_no_line():
    fig = plot_unit_regions(np.zeros((2, 2)), np.array([1.0, -1.0]), extent=EXTENT, resolution=10)
    on_ax, off_ax = visible_axes(fig)
    assert np.all(np.asarray(on_ax.images[0].get_array()) == 1) and on_ax.get_lines() == []
    assert np.all(np.asarray(off_ax.images[0].get_array()) == 0) and off_ax.get_lines() == []
    assert "on everywhere" in on_ax.get_title() and "off everywhere" in off_ax.get_title()


def test_unit_regions_many_units_wrap_into_rows():
    W = np.vstack([np.cos(np.arange(6)), np.sin(np.arange(6))])
    fig = plot_unit_regions(W, np.zeros(6), extent=EXTENT, resolution=10)
    assert len(visible_axes(fig)) == 6 and len(fig.axes) == 8


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((np.zeros((3, 2)), np.zeros(2)), {}, r"W1 must have shape \(2, units\)"),
        ((np.zeros((2, 3)), np.zeros(2)), {}, r"b1 must have shape \(3,\)"),
        ((np.zeros((2, 3)),), {}, "also pass the biases"),
        ((np.full((2, 1), np.inf), np.zeros(1)), {}, "finite"),
        ((StubModel(layers=[FakeLayer(W_EXAMPLE, B_EXAMPLE)]), B_EXAMPLE), {}, "not a model and b1"),
        ((StubModel(layers=[]),), {}, "no first layer"),
        ((W_EXAMPLE, B_EXAMPLE), {}, "give X"),
        ((W_EXAMPLE, B_EXAMPLE), {"extent": (1, 0, 0, 1)}, "x0_min < x0_max"),
        ((W_EXAMPLE, B_EXAMPLE), {"extent": (0, 1, 0)}, "four numbers"),
        ((W_EXAMPLE, B_EXAMPLE), {"extent": EXTENT, "resolution": 1}, "resolution must be"),
        ((W_EXAMPLE, B_EXAMPLE), {"extent": EXTENT, "y": np.zeros(3)}, "y was given without X"),
    ],
)
def test_unit_regions_reject_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_unit_regions(*args, **kwargs)


# --------------------------------------------------------------------------- decision regions


def test_decision_regions_image_is_the_argmax_of_the_model_outputs():
    X, y = make_blobs(n_per_class=10, seed=3)
    model = StubModel()
    fig = plot_decision_regions(model, X, y, resolution=60)
    ax = fig.axes[0]
    (image,) = ax.images
    x0, x1 = pixel_centres(image)
    # argmax of (x0, -x0, x1, -x1), written as geometry
    expected = np.where(np.abs(x0) > np.abs(x1), np.where(x0 > 0, 0, 1), np.where(x1 > 0, 2, 3))
    regions = np.asarray(image.get_array())
    np.testing.assert_array_equal(regions, expected)
    assert set(np.unique(regions)) == {0, 1, 2, 3}
    # one batched, silent predict over the whole mesh
    assert len(model.calls) == 1
    shape, kwargs = model.calls[0]
    assert shape == (regions.size, 2)
    assert kwargs == {"verbose": 0}
    # each region is drawn in a light version of its class colour, and the points on top
    sc = scatters(ax)
    for k in range(4):
        region_rgb = np.array(image.cmap(image.norm(k))[:3])
        point_rgb = np.array(sc[k].get_facecolor()[0][:3])
        np.testing.assert_allclose(region_rgb, point_rgb + 0.6 * (1 - point_rgb), atol=1e-6)
        np.testing.assert_allclose(sc[k].get_offsets(), X[y == k])
    assert ax.get_title()


def test_decision_regions_predict_once_per_plot():
    X, y = make_blobs(n_per_class=5, seed=3)
    model = StubModel()
    plot_decision_regions(model, X, y, resolution=10)
    plot_decision_regions(model, X, y, resolution=12)
    assert len(model.calls) == 2


def test_decision_regions_can_draw_the_hidden_unit_lines():
    X, y = make_blobs(n_per_class=5, seed=3)
    model = StubModel(layers=[FakeLayer(W_EXAMPLE, B_EXAMPLE)])
    ax = plot_decision_regions(model, X, y, resolution=10, show_units=True).axes[0]
    lines = ax.get_lines()
    assert len(lines) == 3 and all(line.get_linestyle() == "--" for line in lines)
    for j, line in enumerate(lines):
        pts = np.column_stack(line.get_data())
        np.testing.assert_allclose(pts @ W_EXAMPLE[:, j] + B_EXAMPLE[j], 0.0, atol=1e-12)
    assert plot_decision_regions(StubModel(), X, y, resolution=10).axes[0].get_lines() == []


class WrongShapeModel:
    def predict(self, X, verbose=0):
        return np.zeros((len(X), 1))


@pytest.mark.parametrize(
    "model, y, message",
    [
        (object(), np.zeros(4), "must have a predict"),
        (WrongShapeModel(), np.zeros(4), "model.predict returned shape"),
        (StubModel(), np.array([0, 1, 2, 4]), "only 4 outputs"),
    ],
)
def test_decision_regions_reject_bad_input(model, y, message):
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=message):
        plot_decision_regions(model, X, y, resolution=10)


# --------------------------------------------------------------------------- with a real Keras model


def test_keras_model_weights_and_predictions_match_a_numpy_forward_pass():
    from utils import setup_tensorflow

    tf = setup_tensorflow(1234)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(2,)),
        tf.keras.layers.Dense(2, activation="relu"),
        tf.keras.layers.Dense(4, activation="linear"),
    ])
    W1, b1 = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0.5, -1.0])
    W2, b2 = np.array([[1.0, -1.0, 0.0, 0.5], [0.0, 1.0, -1.0, 0.5]]), np.array([0.0, 0.2, 0.4, -0.3])
    model.layers[0].set_weights([W1, b1])
    model.layers[1].set_weights([W2, b2])
    X, y = make_blobs(n_per_class=10, seed=1)

    units = visible_axes(plot_unit_regions(model, X=X, y=y, resolution=30))
    for j, ax in enumerate(units):
        x0, x1 = pixel_centres(ax.images[0])
        np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()) > 0.5,
                                      W1[0, j] * x0 + W1[1, j] * x1 + b1[j] > 0)

    image = plot_decision_regions(model, X, y, resolution=30).axes[0].images[0]
    x0, x1 = pixel_centres(image)
    P = np.column_stack([x0.ravel(), x1.ravel()])
    logits = np.maximum(0, P @ W1 + b1) @ W2 + b2
    expected = np.argmax(logits, axis=1).reshape(x0.shape)
    regions = np.asarray(image.get_array())
    # float32 inside Keras: allow disagreement only at near-ties
    top2 = np.sort(logits, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0] > 1e-4).reshape(x0.shape)
    np.testing.assert_array_equal(regions[clear], expected[clear])
