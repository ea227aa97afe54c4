"""utils' figures, checked through their artists and data."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from utils import (
    as_image,
    display_digit,
    display_errors,
    display_predictions_grid,
    display_random_digits,
    plot_loss_tf,
    plt_act_trio,
    widgvis,
)

pytestmark = pytest.mark.usefixtures("close_figures")  # tests/conftest.py


class FakeModel:
    """Stands in for a Keras model: predicts fixed scores and counts predict calls."""

    def __init__(self, predicted: np.ndarray, classes: int = 10):
        self.predicted = np.asarray(predicted)
        self.classes = classes
        self.calls: list[tuple[int, object]] = []

    def predict(self, X, verbose="auto"):
        self.calls.append((len(X), verbose))
        # look the rows up by their first pixel, which the tests set to the row index
        rows = np.rint(np.asarray(X)[:, 0] * 1000).astype(int)
        scores = np.full((len(X), self.classes), -1.0)
        scores[np.arange(len(X)), self.predicted[rows]] = 3.0
        return scores


def digits(m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.random((m, 400))
    X[:, 0] = np.arange(m) / 1000  # row id for FakeModel
    y = (np.arange(m) % 10).reshape(-1, 1)
    return X, y


def titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_widgvis_hides_ipympl_chrome_and_ignores_plain_canvases():
    fig = plt.figure()
    assert widgvis(fig) is fig  # Agg canvas: nothing to hide, no new attributes
    assert not hasattr(fig.canvas, "toolbar_visible")

    class Canvas:
        toolbar_visible = header_visible = footer_visible = True

    class Fig:
        canvas = Canvas()

    widgvis(Fig)
    assert (Canvas.toolbar_visible, Canvas.header_visible, Canvas.footer_visible) == (True,) * 3
    assert (Fig.canvas.toolbar_visible, Fig.canvas.header_visible, Fig.canvas.footer_visible) == (False,) * 3


def test_act_trio_plots_linear_sigmoid_relu():
    fig = plt_act_trio()
    assert titles(fig) == ["Linear", "Sigmoid", "ReLU"]
    expected = {
        "Linear": lambda z: z,
        "Sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "ReLU": lambda z: np.where(z > 0, z, 0.0),
    }
    for ax in fig.axes:
        line = ax.get_lines()[0]
        z, a = line.get_xdata(), line.get_ydata()
        assert z.min() < 0 < z.max()
        np.testing.assert_allclose(a, expected[ax.get_title()](z))


def test_display_digit_shows_upright_image():
    X, _ = digits(3)
    fig = display_digit(X[2])
    shown = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_array_equal(shown, X[2].reshape(20, 20).T)
    fig2 = display_digit(X[2].reshape(1, 400))
    np.testing.assert_array_equal(fig2.axes[0].get_images()[0].get_array(), shown)
    with pytest.raises(ValueError, match="400 pixel values"):
        display_digit(np.zeros(20))


def test_random_digit_grid_titles_are_labels():
    X, y = digits(200)
    fig = display_random_digits(X, y, seed=3)
    assert len(fig.axes) == 64
    assert fig._suptitle.get_text() == "Label, image"
    for ax in fig.axes:
        image = ax.get_images()[0].get_array()
        row = int(np.rint(image.T.reshape(-1)[0] * 1000))  # row id stored in pixel 0
        assert ax.get_title() == str(y[row, 0])
    again = display_random_digits(X, y, seed=3)
    assert titles(again) == titles(fig)


def test_prediction_grid_uses_one_batched_predict():
    X, y = digits(300)
    predicted = (y[:, 0] + (np.arange(300) % 7 == 0)) % 10  # some deliberately wrong
    model = FakeModel(predicted)
    fig = display_predictions_grid(model, X, y, seed=5)
    assert model.calls == [(64, 0)]
    assert len(fig.axes) == 64 and fig._suptitle.get_text() == "Label, yhat"
    for ax in fig.axes:
        row = int(np.rint(ax.get_images()[0].get_array().T.reshape(-1)[0] * 1000))
        assert ax.get_title() == f"{y[row, 0]},{predicted[row]}"


@pytest.mark.parametrize("n_wrong", [0, 1, 5, 30])
def test_display_errors_counts_and_shows_up_to_eight(n_wrong):
    X, y = digits(100)
    predicted = y[:, 0].copy()
    wrong_rows = np.arange(n_wrong) * 3
    predicted[wrong_rows] = (predicted[wrong_rows] + 1) % 10
    model = FakeModel(predicted)
    before = plt.get_fignums()
    count = display_errors(model, X, y)
    assert count == n_wrong
    assert model.calls == [(100, 0)]
    new = [plt.figure(n) for n in plt.get_fignums() if n not in before]
    if n_wrong == 0:
        assert new == []
        return
    (fig,) = new
    assert len(fig.axes) == min(n_wrong, 8)
    for ax, row in zip(fig.axes, wrong_rows):
        assert ax.get_title() == f"{y[row, 0]},{predicted[row]}"
        np.testing.assert_array_equal(ax.get_images()[0].get_array(), as_image(X[row]))


def test_display_errors_rejects_mismatched_inputs():
    X, y = digits(10)
    model = FakeModel(y[:, 0])
    with pytest.raises(ValueError, match="9 labels but X has 10 rows"):
        display_errors(model, X, y[:9])
    with pytest.raises(ValueError, match=r"shape \(m, 400\)"):
        display_errors(model, X[:, :300], y)


def test_plot_loss_tf_plots_history_per_epoch():
    class History:
        history = {"loss": [2.0, 1.0, 0.5, 0.25]}

    fig = plot_loss_tf(History())
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), [2.0, 1.0, 0.5, 0.25])
    assert fig.axes[0].get_xlabel() == "Epoch"
    with pytest.raises(ValueError, match="History returned by model.fit"):
        plot_loss_tf({"loss": [1.0]})
