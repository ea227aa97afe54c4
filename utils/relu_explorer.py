"""Optional lab 1 (ReLU): the slider explorer, two ReLU units against a "tent" target.

Six sliders (w, b and output weight v of each unit) drive an ipympl figure: each unit's
output with its on region shaded, and the sum ``v1 a1 + v2 a2 + c`` against the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from utils.interactive import display_with_controls, keep_alive, snapshot_widget_figure
from utils.lab_relu import (
    UNIT_COLORS,
    _affine_text,
    _check_knots,
    _grid,
    _move_span,
    _on_text,
    _shade,
    _unit_breaks,
    network_output,
    on_interval,
    piecewise_target,
    unit_outputs,
)
from utils.palette import DARK_RED, GREEN, GREY, LIGHT_GREY
from utils.plots import widgvis

# The explorer's target: flat, then up with slope 1, then down with slope -1 (a "tent").
TENT_X = (0.0, 1.0, 3.0, 5.0)
TENT_Y = (0.0, 0.0, 2.0, 0.0)
# Slider start values (deliberately not a solution): w1, b1, v1, w2, b2, v2.
EXPLORER_START = {"w1": 1.0, "b1": 0.0, "v1": 1.0, "w2": 1.0, "b2": -2.0, "v2": 1.0}
SLIDER_RANGES = {"w": (-3.0, 3.0), "b": (-6.0, 6.0), "v": (-3.0, 3.0)}
SLIDER_STEP = 0.1


# --------------------------------------------------------------------------- explorer
@dataclass
class ReluExplorer:
    """Figure, artists and sliders behind one :func:`plt_relu_units` display.

    ``unit_lines[j]`` draws ``a_j = max(0, w_j x + b_j)``, ``on_spans[j]`` shades
    where ``w_j x + b_j > 0``, ``contrib_lines[j]`` draws ``v_j a_j`` in the output
    panel, ``sum_line`` the network output and ``target_line`` the target.
    """

    knots_x: np.ndarray
    knots_y: np.ndarray
    c: float
    fig: Figure
    sliders: dict[str, widgets.FloatSlider]
    unit_lines: list[Line2D]
    on_spans: list[Rectangle]
    contrib_lines: list[Line2D]
    sum_line: Line2D
    target_line: Line2D
    title: Text
    unit_titles: list[Text]

    def _ipython_display_(self) -> None:
        """Nothing to show: :func:`plt_relu_units` already displayed sliders and figure."""

    @property
    def domain(self) -> tuple[float, float]:
        """The x range drawn (first to last breakpoint of the target)."""
        return float(self.knots_x[0]), float(self.knots_x[-1])

    def params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Current slider values as arrays ``(w, b, v)``, one entry per unit."""
        get = lambda p: np.array([self.sliders[f"{p}{j}"].value for j in (1, 2)], dtype=float)  # noqa: E731
        return get("w"), get("b"), get("v")

    def set_params(self, **values: float) -> None:
        """Move sliders, e.g. ``set_params(w1=1, b1=-1)``; the figure follows."""
        unknown = sorted(set(values) - set(self.sliders))
        if unknown:
            raise KeyError(f"unknown slider(s) {unknown}; the sliders are {sorted(self.sliders)}")
        for name, value in values.items():
            s = self.sliders[name]
            value = float(value)
            if not s.min <= value <= s.max:
                raise ValueError(f"{name}={value} is outside the slider range [{s.min}, {s.max}]")
            s.value = value

    def max_error(self) -> float:
        """Largest ``|output - target|`` over the domain (exact: both are piecewise linear,
        so the largest gap sits at a breakpoint of one of them or at an end)."""
        w, b, v = self.params()
        lo, hi = self.domain
        pts = np.concatenate([[lo, hi], self.knots_x, _unit_breaks(w, b)])
        pts = pts[(pts >= lo) & (pts <= hi)]
        gap = network_output(pts, w, b, v, self.c) - piecewise_target(pts, self.knots_x, self.knots_y)
        return float(np.max(np.abs(gap)))

    def update(self, _change: object = None) -> None:
        """Redraw units, shading, contributions and sum from the slider values (in place)."""
        w, b, v = self.params()
        lo, hi = self.domain
        x = _grid(lo, hi, np.concatenate([self.knots_x, _unit_breaks(w, b)]))
        a = unit_outputs(x, w, b)
        for j in range(2):
            self.unit_lines[j].set_data(x, a[:, j])
            self.contrib_lines[j].set_data(x, v[j] * a[:, j])
            _move_span(self.on_spans[j], on_interval(w[j], b[j], lo, hi))
            self.unit_titles[j].set_text(
                f"unit {j + 1}: a{j + 1} = max(0, {_affine_text(w[j], b[j])}), {_on_text(w[j], b[j])}"
            )
        self.sum_line.set_data(x, a @ v + self.c)
        err = self.max_error()
        self.title.set_text(f"output = v1·a1 + v2·a2 + c,   largest gap to target = {err:.2f}")
        self.title.set_color(GREEN if err < 0.05 else "black")
        self.fig.canvas.draw_idle()
        snapshot_widget_figure(self.fig)


def _slider(name: str, value: float) -> widgets.FloatSlider:
    lo, hi = SLIDER_RANGES[name[0]]
    if not lo <= value <= hi:
        raise ValueError(f"start value {name}={value} is outside the slider range [{lo}, {hi}]")
    return widgets.FloatSlider(
        value=value,
        min=lo,
        max=hi,
        step=SLIDER_STEP,
        description=name,
        continuous_update=True,
        readout_format=".1f",
        layout=widgets.Layout(width="260px"),
    )


def plt_relu_units(
    knots_x: Any = TENT_X,
    knots_y: Any = TENT_Y,
    start: dict[str, float] | None = None,
    c: float | None = None,
) -> ReluExplorer:
    """Display sliders for two ReLU units (w, b and output weight v each) and a figure:
    each unit's output with its on region shaded, and the output ``v1 a1 + v2 a2 + c``
    against the piecewise-linear target. Returns the explorer (also kept alive here).

    ``start`` overrides some of the slider start values (keys w1, b1, v1, w2, b2, v2);
    ``c`` is the fixed output bias (default: the target's value left of its first breakpoint).
    """
    kx, ky = _check_knots(knots_x, knots_y)
    values = dict(EXPLORER_START)
    if start is not None:
        unknown = sorted(set(start) - set(values))
        if unknown:
            raise KeyError(f"unknown start key(s) {unknown}; use {sorted(values)}")
        values.update({k: float(val) for k, val in start.items()})
    bias = float(ky[0]) if c is None else float(c)
    if not np.isfinite(bias):
        raise ValueError(f"c must be finite; got {c!r}")
    sliders = {name: _slider(name, val) for name, val in values.items()}

    lo, hi = float(kx[0]), float(kx[-1])
    x_t = _grid(lo, hi, kx)
    with plt.ioff():  # displayed below, next to the sliders, not twice
        fig, axes = plt.subplots(3, 1, figsize=(5.4, 5.0), sharex=True, height_ratios=(1, 1, 1.6))
    widgvis(fig)
    unit_lines, spans, contribs, unit_titles = [], [], [], []
    for j, ax in enumerate(axes[:2]):
        color = UNIT_COLORS[j]
        spans.append(_shade(ax, None, color))
        (line,) = ax.plot([], [], color=color)
        unit_lines.append(line)
        ax.axhline(0, color=LIGHT_GREY, linewidth=0.8, zorder=0)
        ax.set_ylim(-0.4, 4.4)
        ax.set_ylabel(f"$a_{j + 1}$")
        unit_titles.append(ax.set_title("", fontsize=8, loc="left"))
    out = axes[2]
    target_line = out.plot(x_t, piecewise_target(x_t, kx, ky), color=GREY, linewidth=5, alpha=0.6, label="target")[0]
    for j in range(2):
        contribs.append(
            out.plot([], [], color=UNIT_COLORS[j], linewidth=1, linestyle=":", label=f"v{j + 1}·a{j + 1}")[0]
        )
    (sum_line,) = out.plot([], [], color=DARK_RED, linestyle="--", label="output")
    out.axhline(0, color=LIGHT_GREY, linewidth=0.8, zorder=0)
    span_y = float(np.ptp(ky)) or 1.0
    out.set_ylim(float(ky.min()) - 0.6 * span_y - 0.5, float(ky.max()) + 0.6 * span_y + 0.5)
    out.set_xlim(lo, hi)
    out.set_xlabel("x")
    out.set_ylabel("f(x)")
    out.legend(loc="lower center", ncols=4, fontsize=7, handlelength=1.6, columnspacing=1.0)
    title = out.set_title("", fontsize=8, loc="left")

    explorer = ReluExplorer(
        kx, ky, bias, fig, sliders, unit_lines, spans, contribs, sum_line, target_line, title, unit_titles
    )
    explorer.update()
    fig.tight_layout()  # after the first update: the titles have their text now
    for s in sliders.values():
        s.observe(explorer.update, names="value")

    groups = [widgets.VBox([widgets.HTML(f"<b>unit {j}</b>")] + [sliders[f"{p}{j}"] for p in "wbv"]) for j in (1, 2)]
    display_with_controls(fig, widgets.VBox(groups))
    keep_alive(explorer)
    return explorer
