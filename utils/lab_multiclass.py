"""Optional lab 3 (multiclass): figures that show how a ReLU hidden layer and a linear output
layer divide the plane (the lab's data set comes from ``utils.blobs``).

Everything here is plain NumPy + Matplotlib (no TensorFlow import), so the helpers also work
with any object that has ``predict(X, verbose=0)`` or NumPy weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from utils.checks import check_labels, check_points
from utils.palette import COLORS, DARK_GREY, ON_SHADE
from utils.plots import widgvis

CLASS_COLORS = COLORS  # class k is drawn in COLORS[k]: up to eight classes
DEFAULT_RESOLUTION = 200  # mesh points along x0 in region plots
_PAD = 1.0  # margin around the data when the plot extent is derived from X


# --------------------------------------------------------------------------- input checks


def _check_extent(extent: Any, X: np.ndarray | None) -> tuple[float, float, float, float]:
    if extent is None:
        if X is None:
            raise ValueError("give X (the plot covers the data) or extent=(x0_min, x0_max, x1_min, x1_max)")
        lo, hi = X.min(axis=0) - _PAD, X.max(axis=0) + _PAD
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
    try:
        left, right, bottom, top = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise ValueError(f"extent must be four numbers (x0_min, x0_max, x1_min, x1_max); got {extent!r}") from None
    if not all(map(math.isfinite, (left, right, bottom, top))) or left >= right or bottom >= top:
        raise ValueError(f"extent needs finite x0_min < x0_max and x1_min < x1_max; got {extent!r}")
    return left, right, bottom, top


def _check_resolution(resolution: Any) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 2 <= resolution <= 2000:
        raise ValueError(f"resolution must be an int from 2 to 2000; got {resolution!r}")
    return int(resolution)


def mesh_points(extent: Sequence[float], resolution: int = DEFAULT_RESOLUTION) -> tuple[np.ndarray, tuple[int, int]]:
    """Pixel centres covering ``extent`` = (x0_min, x0_max, x1_min, x1_max).

    Returns ``(P, (ny, nx))``: ``P`` has shape ``(ny * nx, 2)``, row-major with x0 varying
    fastest, so ``values.reshape(ny, nx)`` is an image for ``imshow(origin="lower")``.
    ``nx = resolution``; ``ny`` keeps the pixels square.
    """
    left, right, bottom, top = _check_extent(extent, None)
    nx = _check_resolution(resolution)
    ny = max(2, round(nx * (top - bottom) / (right - left)))
    xs = left + (np.arange(nx) + 0.5) * (right - left) / nx
    ys = bottom + (np.arange(ny) + 0.5) * (top - bottom) / ny
    xx, yy = np.meshgrid(xs, ys)
    return np.column_stack([xx.ravel(), yy.ravel()]), (ny, nx)


def hidden_weights(model_or_W: Any, b: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(W1, b1)`` of the first layer: from a Keras model, or checked NumPy arrays.

    ``W1`` has shape ``(2, units)`` (column ``j`` is unit ``j``'s weight vector), ``b1`` ``(units,)``.
    """
    if hasattr(model_or_W, "layers"):
        if b is not None:
            raise ValueError("pass either a model, or W1 and b1; not a model and b1")
        layers = list(model_or_W.layers)
        if not layers or not hasattr(layers[0], "get_weights"):
            raise ValueError("the model has no first layer with weights")
        weights = layers[0].get_weights()
        if len(weights) != 2:
            raise ValueError("the model's first layer must be a Dense layer with a bias (weights W1, b1)")
        W, b = weights
    else:
        if b is None:
            raise ValueError("with a weight matrix W1, also pass the biases b1")
        W = model_or_W
    W_arr = np.asarray(W, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    if W_arr.ndim != 2 or W_arr.shape[0] != 2 or W_arr.shape[1] == 0:
        raise ValueError(f"W1 must have shape (2, units) for 2 inputs; got {W_arr.shape}")
    if b_arr.shape != (W_arr.shape[1],):
        raise ValueError(f"b1 must have shape ({W_arr.shape[1]},) to match W1 {W_arr.shape}; got {b_arr.shape}")
    if not (np.all(np.isfinite(W_arr)) and np.all(np.isfinite(b_arr))):
        raise ValueError("W1 and b1 must be finite")
    return W_arr, b_arr


# --------------------------------------------------------------------------- drawing pieces


def _light(color: str, amount: float = 0.6) -> tuple[float, float, float]:
    """``color`` mixed with ``amount`` of white."""
    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _scatter_classes(ax: Axes, X: np.ndarray, y: np.ndarray, size: float = 24) -> None:
    for k in np.unique(y):
        pts = X[y == k]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=size,
            color=CLASS_COLORS[k],
            edgecolors="white",
            linewidths=0.5,
            label=f"class {k}",
            zorder=3,
        )


def boundary_segment(w: np.ndarray, b: float, extent: Sequence[float]) -> np.ndarray | None:
    """End points (2x2, one point per row) of the line ``w . x + b = 0`` across ``extent``.

    Returns ``None`` when ``w`` is zero (no line: the unit is on or off everywhere).
    """
    left, right, bottom, top = extent
    w0, w1 = float(w[0]), float(w[1])
    if w0 == 0 and w1 == 0:
        return None
    if abs(w1) >= abs(w0):  # mostly horizontal line: x1 as a function of x0
        xs = np.array([left, right])
        return np.column_stack([xs, -(w0 * xs + b) / w1])
    ys = np.array([bottom, top])
    return np.column_stack([-(w1 * ys + b) / w0, ys])


def _draw_boundary(ax: Axes, w: np.ndarray, b: float, extent: Sequence[float], **style: Any) -> None:
    seg = boundary_segment(w, b, extent)
    if seg is not None:
        ax.plot(seg[:, 0], seg[:, 1], **style)


def _linear_text(w: np.ndarray, b: float, names: tuple[str, str] = ("$x_0$", "$x_1$")) -> str:
    """``w . x + b`` written out for a title, e.g. "0.45 x0 - 1.56 x1 + 1.90" (mathtext)."""

    def term(value: float, text: str, first: bool) -> str:
        sign = ("-" if value < 0 else "") if first else (" - " if value < 0 else " + ")
        return f"{sign}{abs(value):.2f}{text}"

    return term(w[0], names[0], True) + term(w[1], names[1], False) + term(b, "", False)


def _figsize(extent: Sequence[float], ax_width: float, extra_w: float, extra_h: float = 0.75) -> tuple[float, float]:
    """Figure size whose axes (``ax_width`` inches wide) fit ``extent`` drawn with equal aspect."""
    height = ax_width * (extent[3] - extent[2]) / (extent[1] - extent[0])
    return ax_width + extra_w, min(max(height, 1.2), 2.5 * ax_width) + extra_h


def _finish_axes(ax: Axes, extent: Sequence[float]) -> None:
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")


# --------------------------------------------------------------------------- figures


def plot_data(X: Any, y: Any, title: str = "Four classes in the plane") -> Figure:
    """Scatter the points of ``X`` (m, 2), one colour and legend entry per class of ``y``."""
    X = check_points(X)
    y = check_labels(y, X.shape[0], n_classes=len(CLASS_COLORS))
    ext = _check_extent(None, X)
    fig, ax = plt.subplots(figsize=_figsize(ext, 3.4, 1.5))
    widgvis(fig)
    _scatter_classes(ax, X, y, size=30)
    _finish_axes(ax, ext)
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_unit_regions(
    model_or_W: Any,
    b: Any = None,
    X: Any = None,
    y: Any = None,
    *,
    extent: Sequence[float] | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    show_size: bool = False,
) -> Figure:
    """One panel per hidden ReLU unit: shaded where the unit is "on" (``w . x + b > 0``).

    ``model_or_W`` is a Keras model (its first layer is used) or ``W1`` of shape (2, units) with
    ``b`` = ``b1`` of shape (units,). Each panel draws the boundary line ``w . x + b = 0`` and an
    arrow along ``w`` that points into the "on" side; the unit's output ``max(0, w . x + b)``
    grows in that direction. ``X`` and ``y`` (optional) overlay the data; the plot covers the
    data unless ``extent`` = (x0_min, x0_max, x1_min, x1_max) is given. With ``show_size=True``
    labelled contour lines mark where the unit's output ``a`` equals 1, 2, ... (or other round
    values): how big ``a`` is, not only whether it is on.
    """
    W, bias = hidden_weights(model_or_W, b)
    Xc = None if X is None else check_points(X)
    yc = None if (Xc is None or y is None) else check_labels(y, Xc.shape[0], n_classes=len(CLASS_COLORS))
    if y is not None and Xc is None:
        raise ValueError("y was given without X")
    ext = _check_extent(extent, Xc)
    P, (ny, nx) = mesh_points(ext, resolution)
    units = W.shape[1]
    ncols = min(units, 4)
    nrows = math.ceil(units / ncols)
    panel_w, panel_h = _figsize(ext, 2.6, 0.6, 0.9)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_w * ncols, panel_h * nrows + 0.3), squeeze=False)
    widgvis(fig)
    cmap = ListedColormap(["white", ON_SHADE])
    z = P @ W + bias  # (points, units): every unit's z on the mesh, one matrix product
    for j, ax in enumerate(axes.flat):
        if j >= units:
            ax.set_axis_off()
            continue
        on = (z[:, j] > 0).reshape(ny, nx)
        ax.imshow(on.astype(np.float64), cmap=cmap, vmin=0, vmax=1, origin="lower", extent=ext, interpolation="nearest")
        w, bj = W[:, j], float(bias[j])
        _draw_boundary(ax, w, bj, ext, color="k", linewidth=1.5, label="$w \\cdot x + b = 0$")
        if show_size and on.any():
            a = np.maximum(z[:, j], 0.0).reshape(ny, nx)
            levels = [v for v in MaxNLocator(nbins=5).tick_values(0.0, float(a.max())) if 0 < v < a.max()]
            if levels:
                lines = ax.contour(a, levels=levels, origin="lower", extent=ext, colors=DARK_GREY, linewidths=0.8)
                ax.clabel(lines, fontsize=7, fmt=lambda v: f"a={v:g}")
        norm2 = float(w @ w)
        if norm2 > 0:  # arrow from the boundary point nearest the middle, along w
            centre = np.array([(ext[0] + ext[1]) / 2, (ext[2] + ext[3]) / 2])
            foot = centre - (float(w @ centre) + bj) / norm2 * w
            tip = foot + w / math.sqrt(norm2) * 0.15 * (ext[1] - ext[0])
            if ext[0] <= foot[0] <= ext[1] and ext[2] <= foot[1] <= ext[3]:
                ax.annotate("", xy=tip, xytext=foot, arrowprops=dict(arrowstyle="->", color="k", lw=1.5))
        if Xc is not None:
            if yc is None:
                ax.scatter(Xc[:, 0], Xc[:, 1], s=8, color=DARK_GREY, zorder=3)
            else:
                _scatter_classes(ax, Xc, yc, size=10)
        _finish_axes(ax, ext)
        state = "on everywhere" if on.all() else "off everywhere" if not on.any() else "on where shaded"
        ax.set_title(f"unit {j}: {state}\n$z$ = {_linear_text(w, bj)}", fontsize=9)
    fig.suptitle(
        "Hidden layer: where each ReLU unit is on ($z > 0$)"
        + (", and how large its output $a$ is there" if show_size else "")
    )
    fig.tight_layout()
    return fig


def plot_decision_regions(
    model: Any,
    X: Any,
    y: Any,
    *,
    extent: Sequence[float] | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    show_units: bool = False,
) -> Figure:
    """Colour the plane by the class the model predicts (argmax of its outputs); overlay the data.

    The whole mesh is predicted in ONE batched, silent ``model.predict(P, verbose=0)`` call.
    With ``show_units=True`` the boundary lines of the model's hidden ReLU units (first layer)
    are drawn dashed: the decision boundaries can bend only where they cross those lines.
    """
    if not callable(getattr(model, "predict", None)):
        raise ValueError("model must have a predict(X, verbose=0) method (e.g. a Keras model)")
    Xc = check_points(X)
    yc = check_labels(y, Xc.shape[0], n_classes=len(CLASS_COLORS))
    ext = _check_extent(extent, Xc)
    P, (ny, nx) = mesh_points(ext, resolution)
    scores = np.asarray(model.predict(P, verbose=0))
    if scores.ndim != 2 or scores.shape[0] != P.shape[0] or not 2 <= scores.shape[1] <= len(CLASS_COLORS):
        raise ValueError(
            f"model.predict returned shape {scores.shape}; expected ({P.shape[0]}, classes) "
            f"with 2 to {len(CLASS_COLORS)} classes"
        )
    n_classes = scores.shape[1]
    if yc.max() >= n_classes:
        raise ValueError(f"y has label {yc.max()} but the model has only {n_classes} outputs")
    regions = np.argmax(scores, axis=1).reshape(ny, nx)
    fig, ax = plt.subplots(figsize=_figsize(ext, 3.6, 1.9))
    widgvis(fig)
    cmap = ListedColormap([_light(c) for c in CLASS_COLORS[:n_classes]])
    ax.imshow(regions, cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5, origin="lower", extent=ext, interpolation="nearest")
    if show_units:
        W, bias = hidden_weights(model)
        for j in range(W.shape[1]):
            _draw_boundary(
                ax,
                W[:, j],
                float(bias[j]),
                ext,
                color=DARK_GREY,
                linestyle="--",
                linewidth=1,
                label="unit boundaries" if j == 0 else None,
            )
    _scatter_classes(ax, Xc, yc)
    _finish_axes(ax, ext)
    ax.set_title("Decision regions: the class with the largest output")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
