"""Optional lab 3 (multiclass): the data as the output layer sees it.

A network with two ReLU hidden units maps every point ``x`` of the plane to
``a = (a0, a1) = max(0, x W1 + b1)``. The output layer only ever sees ``a``: each of its
units computes a logit ``z_k = a . v_k + c_k``, a linear function over the ``(a0, a1)``
plane. :func:`plot_hidden_space` draws that plane: the data mapped into it, the class the
output layer picks at every ``a``, and every output unit's logit. Plain NumPy forward pass
from the layers' weights (no ``predict``), so it works with any object whose ``layers``
have ``get_weights()``.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from utils.checks import check_labels, check_points
from utils.lab_multiclass import DEFAULT_RESOLUTION, _light, _linear_text, _scatter_classes, mesh_points
from utils.palette import COLORS, GREY
from utils.plots import widgvis

HIDDEN_NAMES = ("$a_0$", "$a_1$")
LOGIT_CMAP = plt.get_cmap("coolwarm", 16)  # bands of equal logit; blue: against its class, red: for it
_MARGIN = 0.08  # share of the data's range added above the largest a_j


def _dense_weights(layer: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not hasattr(layer, "get_weights"):
        raise ValueError(f"the model's {name} layer has no weights")
    weights = layer.get_weights()
    if len(weights) != 2:
        raise ValueError(f"the model's {name} layer must be a Dense layer with a bias")
    W, b = (np.asarray(w, dtype=np.float64) for w in weights)
    if W.ndim != 2 or b.shape != (W.shape[1],) or not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
        raise ValueError(f"the model's {name} layer has weights of shapes {W.shape} and {b.shape}")
    return W, b


def _activation(layer: Any) -> str | None:
    act = getattr(layer, "activation", None)
    return None if act is None else getattr(act, "__name__", str(act))


def two_unit_network(model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(W1, b1, W2, b2)`` of a model 2 inputs -> 2 ReLU units -> 2..8 linear outputs, checked."""
    layers = list(getattr(model, "layers", []))
    if len(layers) != 2:
        raise ValueError(f"the hidden-layer view needs a model with exactly two Dense layers; got {len(layers)}")
    W1, b1 = _dense_weights(layers[0], "first")
    W2, b2 = _dense_weights(layers[1], "second")
    if W1.shape != (2, 2):
        raise ValueError(
            f"the hidden-layer view needs 2 inputs and exactly 2 hidden units (a0, a1); "
            f"the first layer's W has shape {W1.shape}"
        )
    if W2.shape[0] != 2 or not 2 <= W2.shape[1] <= len(COLORS):
        raise ValueError(f"the second layer needs 2 inputs and 2 to {len(COLORS)} outputs; its W has shape {W2.shape}")
    for layer, wanted in ((layers[0], "relu"), (layers[1], "linear")):
        found = _activation(layer)
        if found is not None and found != wanted:
            name = getattr(layer, "name", "?")
            raise ValueError(f"layer {name!r} has activation {found!r}; this view needs {wanted!r}")
    return W1, b1, W2, b2


def hidden_activations(model: Any, X: Any) -> np.ndarray:
    """``a = max(0, X W1 + b1)`` for every row of ``X``: shape (m, 2)."""
    W1, b1, _, _ = two_unit_network(model)
    return np.maximum(check_points(X) @ W1 + b1, 0.0)


def plot_hidden_space(model: Any, X: Any, y: Any, *, resolution: int = DEFAULT_RESOLUTION) -> Figure:
    """The data in the hidden layer's space ``(a0, a1)`` and what the output layer does there.

    Left: every point of ``X`` at its hidden activations ``(a0, a1)`` (coloured by its class
    ``y``), on the class the output layer picks at each ``a`` (argmax of the logits; the borders
    are straight because the logits are linear in ``a``). Right: one panel per output unit ``k``,
    its logit ``z_k = v_k . a + c_k`` over the same square (one colour scale for all, shown by the
    colour bar), with the points of class ``k`` in their colour and the border of the region
    where ``k`` wins. Points where a unit is off sit on an axis: ``a_j = 0``.
    """
    W1, b1, W2, b2 = two_unit_network(model)
    Xc = check_points(X)
    n_out = W2.shape[1]
    yc = check_labels(y, Xc.shape[0], n_classes=n_out)
    A = np.maximum(Xc @ W1 + b1, 0.0)
    top = np.maximum(A.max(axis=0), 0.5) * (1 + _MARGIN)  # a dead unit (always 0) still gets a range
    ext = (0.0, float(top[0]), 0.0, float(top[1]))  # ReLU outputs are never negative
    P, (ny, nx) = mesh_points(ext, resolution)
    logits = P @ W2 + b2
    winner = np.argmax(logits, axis=1).reshape(ny, nx)
    # one colour scale for all panels, set by the logits the data actually gets
    limit = float(np.percentile(np.abs(A @ W2 + b2), 98)) or 1.0

    ncols = math.ceil(n_out / 2)
    fig = plt.figure(figsize=(4.4 + 2.5 * ncols, 5.2), layout="constrained")
    widgvis(fig)
    grid = fig.add_gridspec(2, ncols + 1, width_ratios=[1.7] + [1.0] * ncols)
    ax0 = fig.add_subplot(grid[:, 0])
    ax0.imshow(
        winner,
        cmap=ListedColormap([_light(c) for c in COLORS[:n_out]]),
        vmin=-0.5,
        vmax=n_out - 0.5,
        origin="lower",
        extent=ext,
        interpolation="nearest",
        aspect="auto",
    )
    _scatter_classes(ax0, A, yc, size=18)
    for points in ax0.collections[1:]:
        points.set_clip_on(False)  # points with a unit off sit on an axis (a_j = 0)
    ax0.set_xlim(ext[0], ext[1])
    ax0.set_ylim(ext[2], ext[3])
    ax0.set_xlabel("$a_0$ = output of hidden unit 0")
    ax0.set_ylabel("$a_1$ = output of hidden unit 1")
    ax0.set_title("What the output layer sees:\neach point at its $(a_0, a_1)$, shaded by the winning class")
    ax0.legend(loc="upper right", fontsize=7)
    image: AxesImage | None = None
    for k in range(n_out):
        ax = fig.add_subplot(grid[k % 2, 1 + k // 2])
        image = ax.imshow(
            logits[:, k].reshape(ny, nx),
            cmap=LOGIT_CMAP,
            vmin=-limit,
            vmax=limit,
            origin="lower",
            extent=ext,
            interpolation="nearest",
            aspect="auto",
        )
        wins = winner == k
        if wins.any() and not wins.all():  # (contour warns when there is no border to draw)
            ax.contour(wins.astype(float), levels=[0.5], origin="lower", extent=ext, colors="k", linewidths=1.0)
        ax.scatter(A[yc != k, 0], A[yc != k, 1], s=4, color=GREY, zorder=2, clip_on=False)
        ax.scatter(
            A[yc == k, 0],
            A[yc == k, 1],
            s=9,
            color=COLORS[k],
            edgecolors="white",
            linewidths=0.4,
            zorder=3,
            clip_on=False,
            label=f"class {k}",
        )
        ax.set_xlim(ext[0], ext[1])
        ax.set_ylim(ext[2], ext[3])
        ax.set_title(f"output {k}: $z_{k}$ = {_linear_text(W2[:, k], float(b2[k]), HIDDEN_NAMES)}", fontsize=8)
        ax.tick_params(labelsize=7)
    assert image is not None  # n_out >= 2: two_unit_network checked it
    fig.colorbar(image, ax=fig.axes[1:], shrink=0.9, label="logit $z_k$ (the largest wins)")
    return fig
