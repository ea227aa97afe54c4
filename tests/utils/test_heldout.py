"""The held-out section's helpers (utils.heldout): the split, the confusion matrix and the
figures, checked against counts made here and through the figures' artists."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.image import AxesImage

from utils import display_confident_errors, load_data, plot_confusion_matrix, stratified_split
from utils.heldout import confident_errors, confusion_matrix, largest_confusions

pytestmark = pytest.mark.usefixtures("close_figures")  # tests/conftest.py


def digits(m: int, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.random((m, 400))
    X[:, 0] = np.arange(m) / 1000  # row id, read back by LogitModel
    y = (np.arange(m) % classes).reshape(-1, 1)
    return X, y


class LogitModel:
    """Stands in for a Keras model: returns the given logits of each row (found by its row id)."""

    def __init__(self, logits: np.ndarray):
        self.logits = np.asarray(logits, dtype=float)
        self.calls: list[tuple[int, object]] = []

    def predict(self, X, verbose="auto"):
        self.calls.append((len(X), verbose))
        return self.logits[np.rint(np.asarray(X)[:, 0] * 1000).astype(int)]


# ------------------------------------------------------------------ the split


def test_split_of_the_course_data_is_stratified_disjoint_complete_and_seeded():
    X, y = load_data()
    X_train, X_held, y_train, y_held = stratified_split(X, y, held_out=0.2, seed=1234)
    assert X_train.shape == (4000, 400) and X_held.shape == (1000, 400)
    assert y_train.shape == (4000, 1) and y_held.shape == (1000, 1)
    assert np.bincount(y_held[:, 0]).tolist() == [100] * 10
    assert np.bincount(y_train[:, 0]).tolist() == [400] * 10
    # every example lands in exactly one part, with its own label (rows matched by content)
    rows = {X[i].tobytes(): y[i, 0] for i in range(len(X))}
    assert len(rows) == 5000
    parts = [X_train[i].tobytes() for i in range(4000)] + [X_held[i].tobytes() for i in range(1000)]
    assert sorted(parts) == sorted(rows)
    assert all(rows[X_held[i].tobytes()] == y_held[i, 0] for i in range(1000))
    # the same seed gives the same split, another seed another one
    again = stratified_split(X, y, held_out=0.2, seed=1234)
    assert np.array_equal(again[1], X_held) and np.array_equal(again[3], y_held)
    other = stratified_split(X, y, held_out=0.2, seed=1)
    assert not np.array_equal(other[1], X_held)


def test_split_keeps_the_order_of_the_rows():
    X, y = digits(50, classes=5)
    X_train, X_held, y_train, y_held = stratified_split(X, y, held_out=0.2, seed=3)
    for part in (X_train, X_held):
        assert np.all(np.diff(part[:, 0]) > 0)
    assert np.bincount(y_held[:, 0]).tolist() == [2] * 5
    # 1-D labels stay 1-D
    assert stratified_split(X, y[:, 0], held_out=0.2, seed=3)[3].shape == (10,)


@pytest.mark.parametrize("kwargs, message", [
    ({"held_out": 0.0}, "strictly between 0 and 1"),
    ({"held_out": 1.0}, "strictly between 0 and 1"),
    ({"held_out": 1}, "strictly between 0 and 1"),
    ({"seed": -1}, "non-negative int"),
    ({"seed": 1.5}, "non-negative int"),
])
def test_split_rejects_bad_arguments(kwargs, message):
    X, y = digits(50)
    with pytest.raises(ValueError, match=message):
        stratified_split(X, y, **kwargs)


def test_split_rejects_classes_too_small_and_mismatched_labels():
    X, y = digits(12)  # digits 0 and 1 twice, the others once
    with pytest.raises(ValueError, match="too few to hold out"):
        stratified_split(X, y, held_out=0.2)
    with pytest.raises(ValueError, match="labels but X has"):
        stratified_split(X, y[:5])
    with pytest.raises(ValueError, match=r"shape \(m, 400\) with m > 0"):
        stratified_split(X[:, :20], y)


# ------------------------------------------------------------------ the confusion matrix


def test_confusion_matrix_counts_label_prediction_pairs():
    true = [0, 0, 1, 2, 2, 2, 9]
    pred = [0, 1, 1, 2, 8, 8, 4]
    counts = confusion_matrix(true, pred)
    expected = np.zeros((10, 10), dtype=int)
    for t, p in zip(true, pred):
        expected[t][p] += 1
    assert counts.tolist() == expected.tolist()
    assert largest_confusions(counts) == [(2, 8, 2), (0, 1, 1), (9, 4, 1)]
    assert largest_confusions(np.eye(10, dtype=int)) == []
    with pytest.raises(ValueError, match="7 labels but 6 predictions"):
        confusion_matrix(true, pred[:6])
    with pytest.raises(ValueError, match=r"labels must hold labels in 0\.\.9"):
        confusion_matrix([0, 10], [0, 1])
    with pytest.raises(ValueError, match="predictions must hold whole-number class labels"):
        confusion_matrix([0, 1], [0.5, 1.0])


def test_confusion_matrix_figure_writes_every_count_in_its_cell():
    rng = np.random.default_rng(5)
    true = np.repeat(np.arange(10), 100)
    pred = np.where(rng.random(1000) < 0.9, true, rng.integers(0, 10, 1000))
    fig = plot_confusion_matrix(true.reshape(-1, 1), pred)
    (ax,) = fig.axes
    cells = {}
    for t in ax.texts:
        x, y = t.get_position()
        cells[(int(round(y)), int(round(x)))] = int(t.get_text())
    expected = {}
    for t, p in zip(true, pred):  # counted here, independently of utils.heldout
        expected[(t, p)] = expected.get((t, p), 0) + 1
    assert cells == expected
    wrong = int(np.count_nonzero(true != pred))
    assert ax.get_title() == f"Held-out digits: {wrong} of 1000 wrong"
    assert ax.get_xlabel() == "Predicted digit" and ax.get_ylabel() == "True digit (label)"
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)]
    images = [im for im in ax.get_images() if isinstance(im, AxesImage)]
    assert len(images) == 2  # the mistakes (off the diagonal) and the correct predictions
    off = images[0].get_array()
    assert off.mask.diagonal().all() and not off.mask[0, 1]
    assert int(off.max()) == max(v for (t, p), v in expected.items() if t != p)


# ------------------------------------------------------------------ the most confident mistakes


def test_confident_errors_orders_mistakes_by_the_probability_of_the_wrong_answer():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95], [0.7, 0.3]])
    y = [0, 0, 1, 0, 1]  # rows 1, 2, 3, 4 are wrong, with confidence 0.8, 0.6, 0.95, 0.7
    assert confident_errors(p, y).tolist() == [3, 1, 4, 2]
    assert confident_errors(p, y, k=2).tolist() == [3, 1]
    assert confident_errors(p, [0, 1, 0, 1, 0]).tolist() == []
    with pytest.raises(ValueError, match="probabilities must have shape"):
        confident_errors(p, y[:3])


def test_display_confident_errors_shows_the_most_confident_mistakes_with_their_probability():
    X, y = digits(30)
    logits = np.zeros((30, 10))
    logits[np.arange(30), y[:, 0]] = 5.0  # right, except:
    wrong = {4: (7, 9.0), 11: (3, 2.0), 20: (5, 12.0)}  # row: (prediction, its logit)
    for row, (digit, z) in wrong.items():
        logits[row, digit] = z + 5.0
    model = LogitModel(logits)
    fig = display_confident_errors(model, X, y)
    assert model.calls == [(30, 0)]  # one batched, silent predict
    titles = [ax.get_title() for ax in fig.axes]
    expected = []
    for row in (20, 4, 11):  # by the softmax probability of the wrong answer, largest first
        e = np.exp(logits[row] - logits[row].max())
        p = e / e.sum()
        digit = wrong[row][0]
        expected.append(f"{y[row, 0]},{digit}\n{100 * p[digit]:.2f}%")
    assert titles == expected
    for ax, row in zip(fig.axes, (20, 4, 11)):
        assert np.array_equal(ax.get_images()[0].get_array(), X[row].reshape(20, 20).T)
    assert "label, yhat, probability" in fig._suptitle.get_text()


def test_display_confident_errors_without_mistakes_draws_nothing():
    X, y = digits(10)
    logits = np.full((10, 10), -1.0)
    logits[np.arange(10), y[:, 0]] = 3.0
    before = plt.get_fignums()
    assert display_confident_errors(LogitModel(logits), X, y) is None
    assert plt.get_fignums() == before
    with pytest.raises(ValueError, match="model.predict returned shape"):
        display_confident_errors(LogitModel(np.zeros(10)), X, y)
