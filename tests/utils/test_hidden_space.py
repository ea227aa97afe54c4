"""Tests of utils.hidden_space (optional lab 3: the data in the hidden layer's space) and of the
"size of a" contour lines of plot_unit_regions. Figures are checked through their artists;
expected values are computed here from the weights, not taken from the module."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from utils.hidden_space import hidden_activations, plot_hidden_space  # noqa: E402
from utils.lab_multiclass import plot_unit_regions  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")  # tests/conftest.py

# A hand-made network: unit 0 is on for x0 > 1, unit 1 for x1 > -1; four linear outputs.
W1 = np.array([[1.0, 0.0], [0.0, 1.0]])
b1 = np.array([-1.0, 1.0])
W2 = np.array([[-1.0, 2.0, 0.5, 1.0], [-1.0, -0.5, 2.0, 1.0]])
b2 = np.array([3.0, 0.0, -1.0, -2.5])
COURSE_COLORS = ["#0096ff", "#ff9300", "#c00000", "#7030a0"]  # the style's first four, written out


class Act:
    def __init__(self, name: str):
        self.__name__ = name


class Layer:
    def __init__(self, W, b, activation="relu", name="L"):
        self.W, self.b, self.name = np.asarray(W, float), np.asarray(b, float), name
        self.activation = Act(activation)

    def get_weights(self):
        return [self.W, self.b]


class Net:
    def __init__(self, *layers):
        self.layers = list(layers)


def net(W1=W1, b1=b1, W2=W2, b2=b2, act2="linear") -> Net:
    return Net(Layer(W1, b1, "relu", "L1"), Layer(W2, b2, act2, "L2"))


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    X = rng.uniform(-4, 4, size=(60, 2))
    y = rng.integers(0, 4, size=60)
    y[:4] = [0, 1, 2, 3]
    return X, y


def pixel_centres(image: AxesImage) -> np.ndarray:
    """(a0, a1) of every pixel centre of an ``imshow(origin="lower")`` image, row-major."""
    ny, nx = image.get_array().shape
    left, right, bottom, top = image.get_extent()
    xs = left + (np.arange(nx) + 0.5) * (right - left) / nx
    ys = bottom + (np.arange(ny) + 0.5) * (top - bottom) / ny
    xx, yy = np.meshgrid(xs, ys)
    return np.column_stack([xx.ravel(), yy.ravel()])


def test_points_sit_at_their_relu_activations(data):
    X, y = data
    fig = plot_hidden_space(net(), X, y)
    ax0 = fig.axes[0]
    a = np.column_stack([np.maximum(X[:, 0] - 1.0, 0.0), np.maximum(X[:, 1] + 1.0, 0.0)])  # by hand
    points = [c for c in ax0.collections if c.get_offsets().shape[0]]
    assert len(points) == 4
    for k, coll in enumerate(points):
        np.testing.assert_allclose(coll.get_offsets(), a[y == k])
        assert to_hex(coll.get_facecolor()[0]) == COURSE_COLORS[k]
    # points with a unit off lie exactly on an axis, and the axes start at a = 0
    assert np.any(a[:, 0] == 0) and np.any(a[:, 1] == 0)
    assert ax0.get_xlim()[0] == 0 and ax0.get_ylim()[0] == 0
    assert ax0.get_xlim()[1] >= a[:, 0].max() and ax0.get_ylim()[1] >= a[:, 1].max()
    np.testing.assert_allclose(hidden_activations(net(), X), a)


def test_background_is_the_class_the_linear_output_layer_picks(data):
    X, y = data
    fig = plot_hidden_space(net(), X, y, resolution=60)
    image = fig.axes[0].images[0]
    P = pixel_centres(image)
    expected = np.argmax(P @ W2 + b2, axis=1).reshape(image.get_array().shape)
    np.testing.assert_array_equal(np.asarray(image.get_array()), expected)
    assert len(np.unique(expected)) >= 3  # the test sees several regions, not one colour


def test_each_output_panel_is_that_units_logit_on_one_colour_scale(data):
    X, y = data
    fig = plot_hidden_space(net(), X, y, resolution=50)
    panels = [ax for ax in fig.axes[1:] if ax.images]
    assert len(panels) == 4
    limits = {p.images[0].get_clim() for p in panels}
    assert len(limits) == 1  # shared scale ...
    low, high = limits.pop()
    assert high > 0 and low == -high  # ... centred on 0
    for k, ax in enumerate(panels):
        image = ax.images[0]
        P = pixel_centres(image)
        logit = P[:, 0] * W2[0, k] + P[:, 1] * W2[1, k] + b2[k]
        np.testing.assert_allclose(np.asarray(image.get_array()).ravel(), logit, atol=1e-12)
        assert f"output {k}" in ax.get_title()
        assert f"{abs(W2[0, k]):.2f}$a_0$" in ax.get_title()
        own = [c for c in ax.collections if c.get_label() == f"class {k}"]
        assert len(own) == 1 and to_hex(own[0].get_facecolor()[0]) == COURSE_COLORS[k]
        assert own[0].get_offsets().shape[0] == np.sum(y == k)
    # the colour bar is the extra axes
    assert any(ax.get_ylabel().startswith("logit") for ax in fig.axes)


def test_keras_model_outputs_are_the_logits_of_its_hidden_activations(data):
    from utils import setup_tensorflow

    tf = setup_tensorflow(0)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(2,)),
        tf.keras.layers.Dense(2, activation="relu"),
        tf.keras.layers.Dense(4, activation="linear"),
    ])
    model.layers[0].set_weights([W1.astype(np.float32), b1.astype(np.float32)])
    model.layers[1].set_weights([W2.astype(np.float32), b2.astype(np.float32)])
    X, y = data
    logits = np.asarray(model.predict(X, verbose=0))
    np.testing.assert_allclose(hidden_activations(model, X) @ W2 + b2, logits, atol=1e-5)
    fig = plot_hidden_space(model, X, y)
    assert len([ax for ax in fig.axes if ax.images]) == 5


@pytest.mark.parametrize(
    "model, message",
    [
        (Net(Layer(W1, b1)), "exactly two Dense layers"),
        (net(W1=np.ones((2, 3)), b1=np.zeros(3), W2=np.ones((3, 4))), "exactly 2 hidden units"),
        (net(W2=np.ones((2, 1)), b2=np.zeros(1)), "2 to 8 outputs"),
        (net(act2="softmax"), "activation 'softmax'"),
        (net(b2=np.zeros(3)), "weights of shapes"),
    ],
)
def test_rejects_models_it_cannot_draw(data, model, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        plot_hidden_space(model, X, y)


def test_rejects_bad_data(data):
    X, y = data
    with pytest.raises(ValueError, match="labels in 0..3"):
        plot_hidden_space(net(), X, np.full(len(y), 4))
    with pytest.raises(ValueError, match="59 labels but X has 60 rows"):
        plot_hidden_space(net(), X, y[1:])


def test_dead_unit_still_gets_a_drawable_range(data):
    X, y = data
    fig = plot_hidden_space(net(b1=np.array([-100.0, 1.0])), X, y)  # unit 0 never on
    assert fig.axes[0].get_xlim()[1] > 0
    assert np.all(fig.axes[0].collections[1].get_offsets()[:, 0] == 0)


# --------------------------------------------------------------------------- size of a_j


def test_unit_regions_size_lines_are_where_a_takes_their_value():
    W = np.array([[1.0, -0.5], [0.5, 1.0]])
    b = np.array([-1.0, 2.0])
    fig = plot_unit_regions(W, b, extent=(-4, 4, -3, 3), resolution=80, show_size=True)
    for j, ax in enumerate(fig.axes[:2]):
        sets = [c for c in ax.collections if hasattr(c, "levels")]
        assert len(sets) == 1
        cs = sets[0]
        assert len(cs.levels) >= 2 and np.all(np.asarray(cs.levels) > 0)
        for level, path in zip(cs.levels, cs.get_paths()):
            v = path.vertices
            assert len(v) >= 2
            np.testing.assert_allclose(v @ W[:, j] + b[j], level, atol=1e-9)  # a = w.x + b = level there
        labels = {t.get_text() for t in ax.texts if t.get_text()}  # (the arrow is an annotation without text)
        assert labels and labels <= {f"a={level:g}" for level in cs.levels}
    assert "how large" in fig._suptitle.get_text()


def test_unit_regions_without_size_draw_no_contours():
    fig = plot_unit_regions(np.eye(2), np.zeros(2), extent=(-1, 1, -1, 1))
    assert not [c for ax in fig.axes for c in ax.collections if hasattr(c, "levels")]
    assert "how large" not in fig._suptitle.get_text()
