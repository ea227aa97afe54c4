"""Pictures of the graded lab's network, drawn with matplotlib (no image files).

``plot_network_diagram`` draws the 400-25-15-10 network: its layers, their sizes and
activations, and the shapes of the weights between them. ``plot_softmax_layer`` draws
the output layer's last step: ten logits turned into ten probabilities by softmax.

Both are pictures, not interactive figures, so they are shown as PNG images
(:class:`StaticFigure`): a notebook exported to HTML, and nbgrader's feedback page, show
them without the ipympl JavaScript that interactive canvases need.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: the lab's network: (name, units, activation); the input layer first
LAYERS: tuple[tuple[str, int, str], ...] = (
    ("input x", 400, "pixels"),
    ("layer 1", 25, "ReLU"),
    ("layer 2", 15, "ReLU"),
    ("layer 3", 10, "linear"),
)
MAX_DRAWN_UNITS = 16  # a longer layer is drawn as its first and last units with a gap
SHOWN_EACH_SIDE = 6
LAYER_COLOURS = ("0.55", "#0096FF", "#0096FF", "#C00000")
#: example logits for the softmax picture (any 1-D vector of ten numbers works)
EXAMPLE_LOGITS = np.array([-1.5, 0.3, 3.2, 0.9, -2.8, -0.6, -1.9, 1.6, 0.2, -1.0])


PNG_DPI = 100


class StaticFigure:
    """A matplotlib figure that Jupyter displays as a PNG image (``_repr_png_``).

    ``figure`` is the matplotlib Figure (its artists are what tests check); the plain-text
    form is a fixed description, so a notebook's text output does not change between runs.
    """

    def __init__(self, figure: Figure, description: str) -> None:
        self.figure = figure
        self.description = description

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=PNG_DPI)
        return buf.getvalue()

    def __repr__(self) -> str:
        return self.description


def _new_figure(figsize: tuple[float, float]) -> Figure:
    # not through pyplot: no interactive (ipympl) canvas, nothing left open in pyplot
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _unit_positions(n: int) -> tuple[np.ndarray, bool]:
    """Vertical positions of the drawn units of a layer of ``n`` units, and whether some
    are left out (drawn as a gap with dots)."""
    if n <= MAX_DRAWN_UNITS:
        return np.linspace(-(n - 1) / 2, (n - 1) / 2, n) * 0.8, False
    top = np.arange(SHOWN_EACH_SIDE) * 0.8 + 1.6
    return np.concatenate([-top[::-1], top]), True


def weight_shapes(sizes: Sequence[int]) -> list[tuple[tuple[int, int], tuple[int]]]:
    """Shapes of ``W`` and ``b`` of each layer: ``W`` is (units in, units out), ``b`` is (units out,)."""
    if len(sizes) < 2 or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be two or more positive ints, got {list(sizes)!r}")
    return [((int(a), int(b)), (int(b),)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


def plot_network_diagram() -> StaticFigure:
    """Draw the lab's 400-25-15-10 network; return it as a :class:`StaticFigure` (a PNG in Jupyter).

    Each layer is a column of units (the 400 inputs and the 25 units of layer 1 are
    shown in part), labelled with its size and activation; between two layers the
    shapes of ``W`` and ``b``; the ten outputs are labelled with their digits.
    """
    fig = _new_figure((7.4, 4.4))
    ax = fig.subplots()
    xs = np.arange(len(LAYERS)) * 2.6
    columns = []
    for x, (name, n, act), colour in zip(xs, LAYERS, LAYER_COLOURS, strict=False):
        ys, gap = _unit_positions(n)
        columns.append(ys)
        ax.scatter(
            np.full(ys.size, x),
            ys,
            s=70,
            facecolor="white",
            edgecolor=colour,
            linewidth=1.5,
            zorder=3,
            label=f"{name}: {n}",
        )
        if gap:
            ax.text(x, 0, "⋮", ha="center", va="center", fontsize=14, color=colour)
        label = f"{name}\n{n} values\n(20×20 image)" if act == "pixels" else f"{name}\n{n} units\n{act}"
        ax.text(x, -6.3, label, ha="center", va="top", fontsize=9, color=colour)
    for k, (shape_w, shape_b) in enumerate(weight_shapes([n for _, n, _ in LAYERS])):
        left, right = columns[k], columns[k + 1]
        for y0 in left:
            for y1 in right:
                ax.plot([xs[k], xs[k + 1]], [y0, y1], color="0.8", linewidth=0.3, zorder=1)
        ax.text(
            (xs[k] + xs[k + 1]) / 2,
            6.2,
            f"W{k + 1}: {shape_w}\nb{k + 1}: {shape_b}",
            ha="center",
            va="bottom",
            fontsize=8.5,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "#F4F4F4", "edgecolor": "0.7"},
        )
    for digit, y1 in enumerate(columns[-1][::-1]):
        ax.text(xs[-1] + 0.35, y1, str(digit), ha="left", va="center", fontsize=8)
    ax.text(xs[-1] + 0.9, 0, "10 logits\nz0 ... z9", ha="left", va="center", fontsize=8.5)
    ax.set_xlim(xs[0] - 1.0, xs[-1] + 2.4)
    ax.set_ylim(-9.2, 8.2)
    ax.set_axis_off()
    ax.set_title("The network of this lab: 400 → 25 → 15 → 10", fontsize=11)
    fig.tight_layout(pad=0.3)
    return StaticFigure(fig, "Picture: the network of this lab, 400 -> 25 -> 15 -> 10")


def softmax(z: Any) -> np.ndarray:
    """Softmax of a 1-D array, computed stably (largest entry subtracted first)."""
    arr = np.asarray(z, dtype=float)
    if arr.ndim != 1 or arr.size < 2 or not np.all(np.isfinite(arr)):
        raise ValueError(f"z must be a 1-D array of two or more finite numbers; got shape {arr.shape}")
    e = np.exp(arr - arr.max())
    return e / e.sum()


def plot_softmax_layer(z: Any = None) -> StaticFigure:
    """Draw the output layer turning logits ``z`` (default: ten example logits) into
    probabilities: the logits as bars on the left, the softmax formula in the middle,
    the probabilities as bars (with their values) on the right; return it as a
    :class:`StaticFigure` (a PNG in Jupyter)."""
    z = EXAMPLE_LOGITS if z is None else np.asarray(z, dtype=float)
    a = softmax(z)
    n = a.size
    rows = np.arange(n)
    fig = _new_figure((7.4, 3.4))
    ax_z, ax_f, ax_a = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 0.8, 1]})
    ax_z.barh(rows, z, color=np.where(z >= 0, "#0096FF", "#7FB8E6"), height=0.6)
    ax_z.axvline(0, color="0.5", linewidth=0.8)
    ax_z.set_yticks(rows, [f"z{j}" for j in rows])
    ax_z.invert_yaxis()
    ax_z.set_xlabel("logit z_j (any real number)")
    ax_z.set_title("Layer 3 (linear): logits", fontsize=10)

    ax_f.set_axis_off()
    ax_f.set_xlim(0, 1)
    ax_f.set_ylim(0, 1)
    ax_f.annotate(
        "", xy=(0.95, 0.5), xytext=(0.05, 0.5), arrowprops={"arrowstyle": "-|>", "color": "0.3", "linewidth": 1.5}
    )
    ax_f.text(0.5, 0.62, "softmax", ha="center", va="bottom", fontsize=11, fontweight="bold")
    ax_f.text(
        0.5,
        0.40,
        r"$a_j = \dfrac{e^{z_j}}{\sum_{k=0}^{" + str(n - 1) + r"} e^{z_k}}$",
        ha="center",
        va="top",
        fontsize=11,
    )

    ax_a.barh(rows, a, color="#C00000", height=0.6)
    for j, p in enumerate(a):
        ax_a.text(p + 0.02, j, f"{p:.2f}", va="center", fontsize=7.5)
    ax_a.set_yticks(rows, [f"a{j}" for j in rows])
    ax_a.invert_yaxis()
    ax_a.set_xlim(0, 1.15)
    ax_a.set_xlabel("probability a_j")
    ax_a.set_title(f"Probabilities (sum = {a.sum():.2f})", fontsize=10)
    fig.tight_layout(pad=0.4)
    return StaticFigure(fig, f"Picture: a softmax output layer turning {n} logits into {n} probabilities")
