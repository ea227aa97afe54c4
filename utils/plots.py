"""Figures used by the graded lab: activations, digits, losses, predictions and errors."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from utils.checks import check_labels
from utils.data import N_PIXELS, as_image

GRID_SIDE = 8  # the lab's digit grids are 8 x 8
MAX_ERRORS_SHOWN = 8


def widgvis(fig: Figure) -> Figure:
    """Hide the ipympl toolbar, header and footer of ``fig``; harmless on other backends."""
    canvas = fig.canvas
    for name in ("toolbar_visible", "header_visible", "footer_visible"):
        if hasattr(canvas, name):
            setattr(canvas, name, False)
    return fig


def _check_digits(X: Any, name: str = "X") -> np.ndarray:
    arr = np.asarray(X)
    if arr.ndim != 2 or arr.shape[1] != N_PIXELS:
        raise ValueError(f"{name} must have shape (m, {N_PIXELS}); got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} holds no digits")
    return arr


def predict_scores(model: Any, X: np.ndarray) -> np.ndarray:
    """One row of class scores (floats) per row of ``X``, from one batched, silent
    ``model.predict``; a clear error if the model returns another shape."""
    scores = np.asarray(model.predict(X, verbose=0), dtype=float)
    if scores.ndim != 2 or scores.shape[0] != X.shape[0]:
        raise ValueError(f"model.predict returned shape {scores.shape}; expected ({X.shape[0]}, classes)")
    return scores


def predict_labels(model: Any, X: np.ndarray) -> np.ndarray:
    """Predicted digit for every row of ``X``, from one batched, silent ``model.predict``."""
    return np.argmax(predict_scores(model, X), axis=1)


def plt_act_trio() -> Figure:
    """Plot the linear, sigmoid and ReLU activations side by side; return the figure."""
    z = np.linspace(-5, 5, 201)
    curves = {
        "Linear": z,
        "Sigmoid": 1 / (1 + np.exp(-z)),
        "ReLU": np.maximum(0, z),
    }
    fig, axes = plt.subplots(1, 3, figsize=(7, 2.4))
    widgvis(fig)
    for ax, (name, a) in zip(axes, curves.items(), strict=False):
        ax.plot(z, a, label=name)
        ax.axhline(0, color="0.7", linewidth=0.8)
        ax.axvline(0, color="0.7", linewidth=0.8)
        ax.set_title(name)
        ax.set_xlabel("z")
    axes[0].set_ylabel("a = g(z)")
    fig.suptitle("Activation functions")
    fig.tight_layout()
    return fig


def display_digit(x: Any) -> Figure:
    """Show one digit (400 values, column-major as in ``load_data``) upright; return the figure."""
    image = as_image(x)
    fig, ax = plt.subplots(figsize=(1, 1))
    widgvis(fig)
    ax.imshow(image, cmap="gray")
    ax.set_axis_off()
    return fig


def _digit_grid(X: np.ndarray, idx: np.ndarray, titles: list[str], suptitle: str) -> Figure:
    fig, axes = plt.subplots(GRID_SIDE, GRID_SIDE, figsize=(5, 5))
    widgvis(fig)
    for ax, i, title in zip(axes.flat, idx, titles, strict=False):
        ax.imshow(as_image(X[i]), cmap="gray")
        ax.set_title(title, fontsize=9, pad=2)
        ax.set_axis_off()
    fig.suptitle(suptitle, fontsize=12)
    fig.tight_layout(pad=0.13, rect=(0, 0.03, 1, 0.91))
    return fig


def _sample(m: int, seed: int | None) -> np.ndarray:
    return np.random.default_rng(seed).choice(m, size=GRID_SIDE * GRID_SIDE, replace=m < 64)


def display_random_digits(X: Any, y: Any, seed: int | None = None) -> Figure:
    """Show 64 random digits of ``X`` in an 8x8 grid, each titled with its label."""
    X = _check_digits(X)
    labels = check_labels(y, X.shape[0])
    idx = _sample(X.shape[0], seed)
    return _digit_grid(X, idx, [str(labels[i]) for i in idx], "Label, image")


def display_predictions_grid(model: Any, X: Any, y: Any, seed: int | None = None) -> Figure:
    """Show 64 random digits titled "label,prediction"; all 64 are predicted in one call."""
    X = _check_digits(X)
    labels = check_labels(y, X.shape[0])
    idx = _sample(X.shape[0], seed)
    yhat = predict_labels(model, X[idx])
    titles = [f"{labels[i]},{p}" for i, p in zip(idx, yhat, strict=True)]
    return _digit_grid(X, idx, titles, "Label, yhat")


def display_errors(model: Any, X: Any, y: Any) -> int:
    """Show up to 8 misclassified digits titled "label,prediction"; return the error count.

    All rows are predicted in one batched call. With no errors no figure is drawn.
    """
    X = _check_digits(X)
    labels = check_labels(y, X.shape[0])
    yhat = predict_labels(model, X)
    wrong = np.flatnonzero(yhat != labels)
    shown = wrong[:MAX_ERRORS_SHOWN]
    if shown.size:
        fig, axes = plt.subplots(1, shown.size, figsize=(0.75 * shown.size + 0.5, 1.4), squeeze=False)
        widgvis(fig)
        for ax, i in zip(axes.flat, shown, strict=False):
            ax.imshow(as_image(X[i]), cmap="gray")
            ax.set_title(f"{labels[i]},{yhat[i]}", fontsize=9)
            ax.set_axis_off()
        fig.suptitle("Label, yhat", fontsize=10)
        fig.tight_layout(pad=0.2, rect=(0, 0, 1, 0.85))
    return int(wrong.size)


def plot_loss_tf(history: Any) -> Figure:
    """Plot the per-epoch training loss recorded in a Keras ``History``; return the figure."""
    record = getattr(history, "history", None)
    if not isinstance(record, dict) or not record.get("loss"):
        raise ValueError("plot_loss_tf needs the History returned by model.fit (with a 'loss' record)")
    loss = np.asarray(record["loss"], dtype=float)
    fig, ax = plt.subplots(figsize=(5, 2.6))
    widgvis(fig)
    ax.plot(np.arange(1, loss.size + 1), loss, label="loss")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Loss (cost)")
    ax.set_title("Training loss")
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    return fig
