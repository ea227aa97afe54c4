"""Tests for utils.lab_softmax: data, one-hot, figures, models and the two cross-entropies."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils import setup_tensorflow  # noqa: E402  (sets TF's quiet env vars first)
from utils.blobs import make_blobs  # noqa: E402
from utils.lab_softmax import build_model, one_hot, plot_blobs, plot_outputs  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")  # tests/conftest.py


def np_cross_entropy(z: np.ndarray, y: np.ndarray) -> float:
    """Mean of -log softmax(z)[y], written from the formula (log-sum-exp with the max shifted out)."""
    zmax = z.max(axis=1, keepdims=True)
    log_sum = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
    return float(np.mean(log_sum - z[np.arange(len(y)), y]))


# ---------------------------------------------------------------- one_hot

def test_one_hot_matches_identity_rows():
    y = np.array([2, 0, 3, 1, 3])
    expected = np.eye(4)[[2, 0, 3, 1, 3]]
    out = one_hot(y)
    assert out.shape == (5, 4)
    assert np.array_equal(out, expected)
    assert np.array_equal(out.argmax(axis=1), y)


def test_one_hot_explicit_width_and_column_input():
    out = one_hot(np.array([[0], [1]]), n_classes=5)
    assert out.shape == (2, 5)
    assert out.sum() == 2 and out[0, 0] == 1 and out[1, 1] == 1


def test_one_hot_accepts_whole_floats():
    assert np.array_equal(one_hot([1.0, 0.0]), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    "y, n, match",
    [
        ([0, 4], 4, "does not fit"),
        ([-1, 0], None, ">= 0"),
        ([0.5, 1.0], None, "whole-number"),
        ([[0, 1], [1, 0]], None, r"shape \(m,\) or \(m, 1\)"),
        ([], None, "n_classes is needed"),
        ([0, 1], 0, "n_classes"),
    ],
)
def test_one_hot_bad_input(y, n, match):
    with pytest.raises(ValueError, match=match):
        one_hot(y, n)


# ---------------------------------------------------------------- figures

def test_plot_blobs_artists_hold_the_data():
    X, y = make_blobs(n_per_class=12, seed=5)
    fig = plot_blobs(X, y, title="my blobs")
    ax = fig.axes[0]
    assert ax.get_title() == "my blobs"
    assert len(ax.collections) == 4
    for k, coll in enumerate(ax.collections):
        assert np.allclose(coll.get_offsets(), X[y == k])
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["class 0", "class 1", "class 2", "class 3"]


def test_plot_blobs_on_given_axes():
    fig, (ax0, ax1) = plt.subplots(1, 2)
    X = np.array([[0.0, 1.0], [2.0, 3.0]])
    out = plot_blobs(X, [1, 1], ax=ax1)
    assert out is fig and not ax0.collections
    assert np.allclose(ax1.collections[0].get_offsets(), X)
    assert [t.get_text() for t in ax1.get_legend().get_texts()] == ["class 1"]


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.zeros((3, 3)), [0, 1, 2], "shape"),
        (np.zeros((3, 2)), [0, 1], "2 labels but X has 3 rows"),
        (np.zeros((0, 2)), [], "no points"),
    ],
)
def test_plot_blobs_bad_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        plot_blobs(X, y)


def test_plot_outputs_bar_heights_and_titles():
    z = np.array([2.0, -1.0, 0.5, -3.0])
    a = np.exp(z) / np.exp(z).sum()
    fig = plot_outputs(z, a, label=0)
    ax_z, ax_a = fig.axes
    assert np.allclose([b.get_height() for b in ax_z.patches], z)
    assert np.allclose([b.get_height() for b in ax_a.patches], a)
    assert "sum -1.50" in ax_z.get_title()
    assert "sum 1.00" in ax_a.get_title()
    assert fig._suptitle.get_text() == "One example of class 0"


def test_plot_outputs_bad_input():
    with pytest.raises(ValueError, match="one length"):
        plot_outputs([1.0, 2.0], [1.0])


# ---------------------------------------------------------------- models

@pytest.mark.parametrize("output, from_logits", [("softmax", False), ("linear", True)])
def test_build_model_structure(output, from_logits):
    setup_tensorflow(0)
    model = build_model(output)
    assert model.input_shape == (None, 2)
    dense = model.layers
    assert [layer.units for layer in dense] == [25, 15, 4]
    assert [layer.activation.__name__ for layer in dense] == ["relu", "relu", output]
    assert model.output_shape == (None, 4)
    assert type(model.loss).__name__ == "SparseCategoricalCrossentropy"
    assert model.loss.get_config()["from_logits"] is from_logits


def test_build_model_outputs_probabilities_or_logits():
    setup_tensorflow(0)
    X, _ = make_blobs(n_per_class=5, seed=0)
    a = np.asarray(build_model("softmax").predict(X, verbose=0))
    assert np.all(a >= 0) and np.allclose(a.sum(axis=1), 1.0, atol=1e-5)
    setup_tensorflow(0)
    z = np.asarray(build_model("linear").predict(X, verbose=0))
    # same seed, same weights: softmax of the logits equals the softmax model's output
    ez = np.exp(z - z.max(axis=1, keepdims=True))
    assert np.allclose(ez / ez.sum(axis=1, keepdims=True), a, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"output": "sigmoid"}, "output"), ({"output": "linear", "n_classes": 1}, "n_classes"),
     ({"output": "linear", "hidden": (4, 0)}, "hidden")],
)
def test_build_model_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_model(**kwargs)


# ---------------------------------------------------------------- the two cross-entropies

def test_sparse_and_categorical_losses_agree_with_numpy():
    tf = setup_tensorflow(0)
    rng = np.random.default_rng(11)
    z = rng.normal(0, 3, size=(9, 4)).astype(np.float32)
    y = rng.integers(0, 4, size=9)
    ref = np_cross_entropy(z.astype(np.float64), y)
    sparse = float(tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, z))
    categorical = float(tf.keras.losses.CategoricalCrossentropy(from_logits=True)(one_hot(y, 4), z))
    assert sparse == pytest.approx(ref, rel=1e-5)
    assert categorical == pytest.approx(ref, rel=1e-5)
    a = np.asarray(tf.nn.softmax(z))
    sparse_p = float(tf.keras.losses.SparseCategoricalCrossentropy()(y, a))
    assert sparse_p == pytest.approx(ref, rel=1e-4)


def test_tiny_training_same_with_sparse_or_categorical_targets():
    tf = setup_tensorflow(0)
    X, y = make_blobs(n_per_class=16, seed=2)
    histories = []
    for loss, target in [
        (tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), y),
        (tf.keras.losses.CategoricalCrossentropy(from_logits=True), one_hot(y, 4)),
    ]:
        setup_tensorflow(99)
        model = build_model("linear", hidden=(8,))
        model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss=loss)
        z0 = np.asarray(model.predict(X, verbose=0), dtype=np.float64)
        first = float(model.evaluate(X, target, verbose=0, return_dict=True)["loss"])
        assert first == pytest.approx(np_cross_entropy(z0, y), rel=1e-4)
        hist = model.fit(X, target, epochs=3, batch_size=16, shuffle=False, verbose=0)
        histories.append(hist.history["loss"])
    assert np.allclose(histories[0], histories[1], rtol=1e-5)
    assert histories[0][-1] < histories[0][0]  # it did learn
