"""Optional lab 1 (ReLU): piecewise-linear targets built from ReLU units.

A "network" here has one input x, a hidden layer of ReLU units
``a_j = max(0, w_j x + b_j)`` and a linear output ``f(x) = sum_j v_j a_j + c``.
This module computes such networks, finds the exact units for a target made of
straight pieces and draws static figures of the decomposition; the slider explorer
of the notebook is in ``utils.relu_explorer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from utils.palette import COLORS, DARK_RED, GREY, LIGHT_GREY
from utils.plots import widgvis

N_GRID = 401  # sample points of every curve (breakpoints are added exactly)
UNIT_COLORS = tuple(c for c in COLORS if c != DARK_RED)  # dark red draws the network's output


# --------------------------------------------------------------------------- checks
def _as_float_vector(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-D float array of finite numbers, or a clear ValueError/TypeError."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a sequence of numbers; got {values!r}") from err
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite numbers; got {arr.tolist()}")
    return arr


def _check_knots(knots_x: Any, knots_y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate breakpoints: same length, at least two, x strictly increasing."""
    kx = _as_float_vector(knots_x, "knots_x")
    ky = _as_float_vector(knots_y, "knots_y")
    if kx.shape != ky.shape:
        raise ValueError(f"knots_x and knots_y need the same length; got {kx.size} and {ky.size}")
    if kx.size < 2:
        raise ValueError(f"a piecewise-linear target needs at least 2 breakpoints; got {kx.size}")
    if np.any(np.diff(kx) <= 0):
        raise ValueError(f"knots_x must be strictly increasing; got {kx.tolist()}")
    return kx, ky


# --------------------------------------------------------------------------- maths
def relu(z: Any) -> np.ndarray:
    """The ReLU activation ``max(0, z)``, element by element (float array)."""
    z_arr = np.asarray(z, dtype=float)
    return np.maximum(0.0, z_arr)


def piecewise_target(x: Any, knots_x: Any, knots_y: Any) -> np.ndarray:
    """The piecewise-linear function through the breakpoints ``(knots_x[k], knots_y[k])``.

    Left of the first breakpoint it is flat (``knots_y[0]``); right of the last one
    the last piece carries on with the same slope. Exactly this family can be built
    from ReLU units plus an output bias (see :func:`relu_decomposition`).
    """
    kx, ky = _check_knots(knots_x, knots_y)
    x_arr = np.asarray(x, dtype=float)
    y = np.interp(x_arr, kx, ky)  # flat outside [kx[0], kx[-1]]
    last_slope = (ky[-1] - ky[-2]) / (kx[-1] - kx[-2])
    return np.where(x_arr > kx[-1], ky[-1] + last_slope * (x_arr - kx[-1]), y)


def unit_outputs(x: Any, w: Any, b: Any) -> np.ndarray:
    """Hidden-layer activations ``a[i, j] = max(0, w[j] * x[i] + b[j])``, shape (len(x), units)."""
    x_arr = _as_float_vector(x, "x")
    w_arr = _as_float_vector(w, "w")
    b_arr = _as_float_vector(b, "b")
    if w_arr.shape != b_arr.shape:
        raise ValueError(f"w and b need one entry per unit; got {w_arr.size} and {b_arr.size}")
    return relu(np.outer(x_arr, w_arr) + b_arr)


def network_output(x: Any, w: Any, b: Any, v: Any, c: float = 0.0) -> np.ndarray:
    """Output ``f(x) = sum_j v[j] * max(0, w[j] x + b[j]) + c`` of the one-hidden-layer network."""
    a = unit_outputs(x, w, b)
    v_arr = _as_float_vector(v, "v")
    if v_arr.size != a.shape[1]:
        raise ValueError(f"v needs one output weight per unit ({a.shape[1]}); got {v_arr.size}")
    if not np.isfinite(c):
        raise ValueError(f"c must be a finite number; got {c!r}")
    return a @ v_arr + float(c)


def on_interval(w: float, b: float, lo: float, hi: float) -> tuple[float, float] | None:
    """The part of ``[lo, hi]`` where the unit is on (``w x + b > 0``), or None if it is off there.

    A ReLU unit is on on one side of ``x = -b / w``: to the right when ``w > 0``,
    to the left when ``w < 0``; with ``w == 0`` it is on everywhere or nowhere.
    """
    w, b, lo, hi = (float(t) for t in (w, b, lo, hi))
    if not all(np.isfinite(t) for t in (w, b, lo, hi)):
        raise ValueError(f"on_interval needs finite numbers; got w={w}, b={b}, lo={lo}, hi={hi}")
    if lo >= hi:
        raise ValueError(f"on_interval needs lo < hi; got lo={lo}, hi={hi}")
    if w == 0.0:
        return (lo, hi) if b > 0 else None
    edge = -b / w
    start, end = (max(lo, edge), hi) if w > 0 else (lo, min(hi, edge))
    return (start, end) if start < end else None


@dataclass(frozen=True)
class ReluDecomposition:
    """Units ``(w, b)``, output weights ``v`` and output bias ``c`` that rebuild a target."""

    w: np.ndarray
    b: np.ndarray
    v: np.ndarray
    c: float
    knots_x: np.ndarray
    knots_y: np.ndarray

    def __post_init__(self) -> None:
        w = _as_float_vector(self.w, "w")
        for name in ("b", "v"):
            if _as_float_vector(getattr(self, name), name).shape != w.shape:
                raise ValueError(f"w, b and v need one entry per unit; {name} does not match w ({w.size})")
        if np.any(w == 0):
            raise ValueError("every unit needs a non-zero weight w (a unit with w = 0 never bends)")
        _check_knots(self.knots_x, self.knots_y)

    @property
    def n_units(self) -> int:
        """Number of ReLU units (one per bend of the target)."""
        return int(self.w.size)

    def predict(self, x: Any) -> np.ndarray:
        """The network's output at ``x``."""
        return network_output(x, self.w, self.b, self.v, self.c)

    def target(self, x: Any) -> np.ndarray:
        """The target function at ``x`` (independently of the units)."""
        return piecewise_target(x, self.knots_x, self.knots_y)


def relu_decomposition(knots_x: Any, knots_y: Any, tol: float = 1e-12) -> ReluDecomposition:
    """The exact ReLU network for the piecewise-linear target through the breakpoints.

    The target is flat (value ``knots_y[0]``) before the first breakpoint, so the
    output bias is ``c = knots_y[0]``. At each breakpoint ``x_k`` where the slope
    changes by ``d_k`` one unit ``max(0, x - x_k)`` (``w = 1``, ``b = -x_k``)
    switches on with output weight ``v = d_k``: it is off, contributing exactly
    0, to the left of its breakpoint. Breakpoints where the slope does not change
    (``|d_k| <= tol``) need no unit.
    """
    kx, ky = _check_knots(knots_x, knots_y)
    slopes = np.diff(ky) / np.diff(kx)
    changes = np.diff(slopes, prepend=0.0)  # slope change at kx[0], ..., kx[-2]
    keep = np.abs(changes) > tol
    starts = kx[:-1][keep]
    return ReluDecomposition(
        w=np.ones(starts.size),
        b=-starts,
        v=changes[keep],
        c=float(ky[0]),
        knots_x=kx,
        knots_y=ky,
    )


def _affine_text(w: float, b: float) -> str:
    """``w x + b`` as readable text, e.g. ``1x − 3.5`` (one decimal at most for slider values)."""
    sign = "−" if b < 0 else "+"
    return f"{w:.3g}x {sign} {abs(b):.3g}"


def _on_text(w: float, b: float) -> str:
    """Where the unit ``max(0, w x + b)`` is on, in words."""
    if w == 0:
        return "on everywhere" if b > 0 else "off everywhere"
    return f"on for x {'>' if w > 0 else '<'} {-b / w + 0.0:.2f}"  # (+ 0.0: no "-0.00")


def _grid(lo: float, hi: float, extra: Any = ()) -> np.ndarray:
    """N_GRID points on [lo, hi] plus any ``extra`` points inside (so kinks are drawn exactly)."""
    pts = np.asarray(extra, dtype=float).reshape(-1)
    pts = pts[(pts > lo) & (pts < hi)]
    return np.unique(np.concatenate([np.linspace(lo, hi, N_GRID), pts]))


def _unit_breaks(w: np.ndarray, b: np.ndarray) -> np.ndarray:
    nz = w != 0
    return -b[nz] / w[nz]


# --------------------------------------------------------------------------- static figures
def _shade(ax: Axes, interval: tuple[float, float] | None, color: str) -> Rectangle:
    """A full-height band over ``interval`` (hidden when None); returned for later updates."""
    span = ax.axvspan(0.0, 1.0, color=color, alpha=0.15, linewidth=0)
    _move_span(span, interval)
    return span


def _move_span(span: Rectangle, interval: tuple[float, float] | None) -> None:
    if interval is None:
        span.set_visible(False)
        return
    span.set_x(interval[0])
    span.set_width(interval[1] - interval[0])
    span.set_visible(True)


def _plot_range(dec: ReluDecomposition, lo: float | None, hi: float | None, name: str) -> tuple[float, float]:
    """Check ``dec`` and return the x range to plot (default: its first to last breakpoint)."""
    if not isinstance(dec, ReluDecomposition):
        raise TypeError(f"{name} needs a ReluDecomposition; got {type(dec).__name__}")
    lo = float(dec.knots_x[0]) if lo is None else float(lo)
    hi = float(dec.knots_x[-1]) if hi is None else float(hi)
    if not lo < hi:
        raise ValueError(f"need lo < hi; got lo={lo}, hi={hi}")
    return lo, hi


def plot_decomposition(dec: ReluDecomposition, lo: float | None = None, hi: float | None = None) -> Figure:
    """One panel per unit (its contribution ``v_j a_j``, on region shaded) and a last panel
    with the target and the sum of the contributions plus ``c``. Returns the figure."""
    lo, hi = _plot_range(dec, lo, hi, "plot_decomposition")
    x = _grid(lo, hi, np.concatenate([dec.knots_x, _unit_breaks(dec.w, dec.b)]))
    n = dec.n_units
    fig, axes = plt.subplots(n + 1, 1, figsize=(5.6, 1.35 * (n + 1) + 0.5), sharex=True)
    widgvis(fig)
    axes = np.atleast_1d(axes)
    a = unit_outputs(x, dec.w, dec.b)
    for j, ax in enumerate(axes[:n]):
        color = UNIT_COLORS[j % len(UNIT_COLORS)]
        _shade(ax, on_interval(dec.w[j], dec.b[j], lo, hi), color)
        ax.plot(x, dec.v[j] * a[:, j], color=color, label=f"unit {j + 1}")
        ax.axhline(0, color=LIGHT_GREY, linewidth=0.8, zorder=0)
        ax.set_ylabel(f"$v_{j + 1} a_{j + 1}$")
        ax.set_title(
            f"unit {j + 1}: {dec.v[j]:+g} · max(0, {_affine_text(dec.w[j], dec.b[j])}),"
            f" bends at x = {-dec.b[j] / dec.w[j]:g}",
            fontsize=8,
            loc="left",
        )
    ax = axes[-1]
    ax.plot(x, dec.target(x), color=GREY, linewidth=5, alpha=0.6, label="target")
    ax.plot(x, dec.predict(x), color=DARK_RED, linestyle="--", label="sum of units + c")
    ax.plot(dec.knots_x, dec.knots_y, "o", color="black", markersize=3, label="breakpoints")
    ax.set_ylabel("f(x)")
    ax.set_xlabel("x")
    ax.set_title(f"output: sum of the {n} contributions + c (c = {dec.c:.2g})", fontsize=8, loc="left")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def plot_linear_vs_relu(dec: ReluDecomposition, lo: float | None = None, hi: float | None = None) -> Figure:
    """The same weights with ReLU and with a linear activation ``g(z) = z``, against the target."""
    lo, hi = _plot_range(dec, lo, hi, "plot_linear_vs_relu")
    x = _grid(lo, hi, dec.knots_x)
    linear = (np.outer(x, dec.w) + dec.b) @ dec.v + dec.c
    fig, ax = plt.subplots(figsize=(6.6, 2.6), layout="constrained")
    widgvis(fig)
    ax.plot(x, dec.target(x), color=GREY, linewidth=5, alpha=0.6, label="target")
    ax.plot(x, dec.predict(x), color=DARK_RED, linestyle="--", label="ReLU units\ng(z) = max(0, z)")
    ax.plot(x, linear, color=COLORS[0], label="same weights,\nlinear units g(z) = z")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("Same weights, two activations")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), labelspacing=1.0)
    return fig
