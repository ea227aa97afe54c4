"""What the model learned: a held-out split of the digits and the figures that read it.

The graded lab trains on all 5000 digits, so its error count is a *training* error.
These helpers split the data into training and held-out digits (stratified: every
digit keeps its share), and draw the held-out confusion matrix and the held-out
digits the model gets wrong with the most confidence.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from utils.checks import check_labels
from utils.data import N_PIXELS, as_image
from utils.plots import predict_scores, widgvis

N_CONFIDENT_ERRORS = 8


def _digits_and_labels(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(X)
    if arr.ndim != 2 or arr.shape[1] != N_PIXELS or arr.shape[0] == 0:
        raise ValueError(f"X must have shape (m, {N_PIXELS}) with m > 0; got {arr.shape}")
    return arr, check_labels(y, m=arr.shape[0])


def stratified_split(
    X: Any, y: Any, held_out: float = 0.2, seed: int = 1234
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``X``, ``y`` into training and held-out parts, each digit in the same proportion.

    From every class, ``round(held_out * count)`` examples (chosen with a NumPy generator
    seeded with ``seed``) go to the held-out part, the rest to the training part; both
    parts keep the original order of ``X``. Returns ``X_train, X_held, y_train, y_held``
    with ``y`` parts shaped like ``y``.
    """
    X, labels = _digits_and_labels(X, y)
    if not (isinstance(held_out, float) and 0.0 < held_out < 1.0):
        raise ValueError(f"held_out must be a float strictly between 0 and 1, got {held_out!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    rng = np.random.default_rng(seed)
    held = np.zeros(X.shape[0], dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_held = int(round(held_out * members.size))
        if n_held == 0 or n_held == members.size:
            raise ValueError(
                f"digit {label} has {members.size} examples: too few to hold out {held_out:.0%} and still train on some"
            )
        held[rng.choice(members, size=n_held, replace=False)] = True
    y_arr = np.asarray(y)
    return X[~held], X[held], y_arr[~held], y_arr[held]


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int = 10) -> np.ndarray:
    """Counts ``C[i, j]``: examples of class ``i`` predicted as class ``j``."""
    true = check_labels(y_true, n_classes=n_classes, name="labels")
    pred = check_labels(y_pred, n_classes=n_classes, name="predictions")
    if true.shape != pred.shape:
        raise ValueError(f"{true.size} labels but {pred.size} predictions")
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (true, pred), 1)
    return counts


def largest_confusions(counts: np.ndarray, k: int = 3) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal cells as ``(label, predicted, count)``, largest first
    (ties: smaller label, then smaller prediction first); cells with count 0 are left out."""
    off = np.asarray(counts).copy()
    np.fill_diagonal(off, 0)
    cells = [(int(off[i, j]), i, j) for i in range(off.shape[0]) for j in range(off.shape[1]) if off[i, j]]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(i, j, n) for n, i, j in cells[:k]]


def plot_confusion_matrix(y_true: Any, y_pred: Any, title: str = "Held-out digits") -> Figure:
    """Draw the confusion matrix of ``y_pred`` against ``y_true`` (rows: label, columns:
    prediction), every non-zero count written in its cell; return the figure."""
    counts = confusion_matrix(y_true, y_pred)
    n = counts.shape[0]
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    widgvis(fig)
    off = counts.copy()
    np.fill_diagonal(off, 0)
    # colour shows the mistakes: the diagonal (the correct predictions) stays light
    shown = np.ma.masked_array(off, mask=np.eye(n, dtype=bool))
    ax.imshow(shown, cmap="Reds", vmin=0, vmax=max(1, int(off.max())))
    diag = np.ma.masked_array(counts, mask=~np.eye(n, dtype=bool))
    ax.imshow(diag, cmap="Greens", vmin=0, vmax=max(1, int(counts.max())) * 3, alpha=0.6)
    strong = 0.6 * max(1, int(off.max()))
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                light = i != j and counts[i, j] > strong
                ax.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if light else "black",
                    fontweight="bold" if i == j else "normal",
                )
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("Predicted digit")
    ax.set_ylabel("True digit (label)")
    errors = int(off.sum())
    ax.set_title(f"{title}: {errors} of {int(counts.sum())} wrong", fontsize=10)
    fig.tight_layout()
    return fig


def confident_errors(probabilities: Any, y: Any, k: int = N_CONFIDENT_ERRORS) -> np.ndarray:
    """Indices of the (at most ``k``) wrongly predicted rows whose predicted class has the
    highest probability, most confident first."""
    p = np.asarray(probabilities, dtype=float)
    labels = np.asarray(y).reshape(-1)
    if p.ndim != 2 or p.shape[0] != labels.size:
        raise ValueError(f"probabilities must have shape ({labels.size}, classes); got {p.shape}")
    pred = np.argmax(p, axis=1)
    wrong = np.flatnonzero(pred != labels)
    confidence = p[wrong, pred[wrong]]
    order = np.argsort(-confidence, kind="stable")
    return wrong[order[:k]]


def display_confident_errors(model: Any, X: Any, y: Any, k: int = N_CONFIDENT_ERRORS) -> Figure | None:
    """Show the ``k`` digits of ``X`` that ``model`` gets wrong with the highest softmax
    probability, titled "label,prediction" and that probability; return the figure
    (None when the model makes no mistake). The logits are predicted in one call."""
    X, labels = _digits_and_labels(X, y)
    logits = predict_scores(model, X)
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    shown = confident_errors(p, labels, k)
    if not shown.size:
        return None
    pred = np.argmax(p, axis=1)
    fig, axes = plt.subplots(1, shown.size, figsize=(0.85 * shown.size + 0.4, 1.7), squeeze=False)
    widgvis(fig)
    for ax, i in zip(axes.flat, shown, strict=False):
        ax.imshow(as_image(X[i]), cmap="gray")
        ax.set_title(f"{labels[i]},{pred[i]}\n{100 * p[i, pred[i]]:.2f}%", fontsize=8)
        ax.set_axis_off()
    fig.suptitle("Most confident mistakes: label, yhat, probability of yhat", fontsize=9)
    fig.tight_layout(pad=0.2, rect=(0, 0, 1, 0.84))
    return fig
