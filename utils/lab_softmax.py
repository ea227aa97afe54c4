"""Helpers for the optional softmax lab (notebooks/02_softmax.ipynb).

A one-hot encoder, the two models the lab compares (softmax output vs linear output
trained with ``from_logits=True``) and the lab's figures. The data set comes from
``utils.blobs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from utils import _env  # noqa: F401  (TensorFlow is imported lazily, after this)
from utils.blobs import N_CLASSES
from utils.checks import check_int, check_labels, check_points
from utils.palette import COLORS, DARK_RED, GREY, ORANGE
from utils.plots import widgvis

HIDDEN_UNITS = (25, 15)
OUTPUTS = ("softmax", "linear")


def one_hot(y: Any, n_classes: int | None = None) -> np.ndarray:
    """Turn integer labels (m,) into one-hot rows (m, n_classes) of float32 zeros and a single one.

    ``n_classes`` defaults to ``max(y) + 1``; a label outside ``0 .. n_classes-1`` is an error.
    """
    labels = check_labels(y)
    if n_classes is None:
        if labels.size == 0:
            raise ValueError("n_classes is needed when y is empty")
        n_classes = int(labels.max()) + 1
    n_classes = check_int(n_classes, "n_classes", 1)
    if labels.size and labels.max() >= n_classes:
        raise ValueError(f"label {labels.max()} does not fit n_classes={n_classes} (labels run 0..{n_classes - 1})")
    out = np.zeros((labels.size, n_classes), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


def plot_blobs(X: Any, y: Any, ax: Axes | None = None, title: str = "Four-class blob data") -> Figure:
    """Scatter the points of ``X`` (m, 2) coloured by class ``y``, one legend entry per class.

    Draws on ``ax`` when given, else on a new ipympl-friendly figure; returns the figure.
    """
    X = check_points(X)
    labels = check_labels(y, X.shape[0], n_classes=len(COLORS))
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.8, 3.4))
        widgvis(fig)
    elif isinstance(ax.figure, Figure):
        fig = ax.figure
    else:  # a SubFigure has no tight_layout
        raise TypeError("plot_blobs draws on an Axes of a whole Figure, not of a SubFigure")
    for k in np.unique(labels):
        pts = X[labels == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, alpha=0.8, color=COLORS[k], label=f"class {k}")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def plot_outputs(logits: Any, probs: Any, label: int | None = None) -> Figure:
    """Two bar charts for one example: the raw outputs (logits) and softmax of them.

    ``logits`` and ``probs`` are vectors of the same length (one value per class);
    ``label``, when given, names the true class in the title. Returns the figure.
    """
    z = np.asarray(logits, dtype=float).reshape(-1)
    a = np.asarray(probs, dtype=float).reshape(-1)
    if z.size == 0 or z.shape != a.shape:
        raise ValueError(f"logits and probs must be non-empty and of one length, got {z.shape} and {a.shape}")
    names = [str(j) for j in range(z.size)]
    fig, (ax_z, ax_a) = plt.subplots(1, 2, figsize=(6.4, 2.6))
    widgvis(fig)
    ax_z.bar(names, z, color=[DARK_RED if v < 0 else COLORS[0] for v in z])
    ax_z.axhline(0, color=GREY, linewidth=0.8)
    ax_z.set_title(f"raw outputs z (sum {z.sum():.2f})")
    ax_z.set_xlabel("class")
    ax_a.bar(names, a, color=ORANGE)
    ax_a.set_ylim(0, 1.05)
    ax_a.set_title(f"softmax(z) (sum {a.sum():.2f})")
    ax_a.set_xlabel("class")
    if label is not None:
        fig.suptitle(f"One example of class {label}")
    fig.tight_layout()
    return fig


def build_model(
    output: str,
    n_classes: int = N_CLASSES,
    n_features: int = 2,
    hidden: Sequence[int] = HIDDEN_UNITS,
    learning_rate: float = 0.001,
) -> Any:
    """Build and compile the lab's classifier: ReLU hidden layers, then ``n_classes`` outputs.

    ``output="softmax"``: the last layer applies softmax and the loss receives probabilities.
    ``output="linear"``: the last layer is linear (it outputs logits) and the loss is told so
    with ``from_logits=True``. Both use Adam and sparse categorical cross-entropy (integer labels).
    Call ``setup_tensorflow(seed)`` just before, for reproducible initial weights.
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    n_classes = check_int(n_classes, "n_classes", 2)
    n_features = check_int(n_features, "n_features", 1)
    units = [check_int(u, "hidden units", 1) for u in hidden]
    import tensorflow as tf

    layers = [tf.keras.Input(shape=(n_features,))]
    layers += [tf.keras.layers.Dense(u, activation="relu") for u in units]
    layers.append(tf.keras.layers.Dense(n_classes, activation=output))
    model = tf.keras.Sequential(layers, name=f"{output}_output")
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=(output == "linear")),
        metrics=["accuracy"],
    )
    return model
