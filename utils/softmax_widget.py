"""Interactive softmax explorer: four sliders for z0..z3 and the bars of softmax(z)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from utils.interactive import display_with_controls, keep_alive, snapshot_widget_figure
from utils.palette import BLUE
from utils.plots import widgvis

N_INPUTS = 4
START = (1.0, 2.0, 3.0, 4.0)  # the lab's example z


@dataclass
class SoftmaxExplorer:
    """The figure, bars and sliders behind one ``plt_softmax`` display."""

    softmax_fn: Callable[[np.ndarray], np.ndarray]
    fig: Figure
    bars: BarContainer
    sliders: list[widgets.FloatSlider]
    labels: list = field(default_factory=list)

    def _ipython_display_(self) -> None:
        """Nothing to show: ``plt_softmax`` already displayed the sliders and figure."""

    def z(self) -> np.ndarray:
        """The slider values as a float array."""
        return np.array([s.value for s in self.sliders], dtype=float)

    def update(self, _change: object = None) -> None:
        """Recompute softmax_fn(z) and redraw the bars and their value labels."""
        z = self.z()
        try:
            a = np.asarray(self.softmax_fn(z), dtype=float).reshape(-1)
            if a.shape != z.shape:
                raise ValueError(f"returned shape {a.shape}, expected {z.shape}")
        except Exception as err:  # show the problem in the figure, keep the sliders alive
            a = np.zeros_like(z)
            self.fig.axes[0].set_title(f"softmax_fn failed: {type(err).__name__}: {err}", color="red", fontsize=8)
        else:
            self.fig.axes[0].set_title(f"softmax(z), sum = {a.sum():0.3f}", color="black")
        for bar, text, value in zip(self.bars, self.labels, a, strict=False):
            bar.set_height(value)
            text.set_y(value)
            text.set_text(f"{value:0.2f}")
        self.fig.canvas.draw_idle()
        snapshot_widget_figure(self.fig)


def plt_softmax(softmax_fn: Callable[[np.ndarray], np.ndarray]) -> SoftmaxExplorer:
    """Display sliders for z0..z3 and bars of ``softmax_fn(z)`` that follow the sliders.

    Works with any function mapping a float array of shape (4,) to one of the same
    shape (the student's ``my_softmax`` or ``tf.nn.softmax``). An exception from the
    function on the start values propagates; one raised while sliding is shown in
    the figure's title instead, so the sliders stay usable. Returns the explorer;
    a reference is also kept here so the callbacks stay alive.
    """
    if not callable(softmax_fn):
        raise TypeError(f"plt_softmax needs a function, got {type(softmax_fn).__name__}")
    # Fail here, before any widget exists, if the function cannot handle the start
    # values (e.g. an unanswered my_softmax); later failures show in the title.
    softmax_fn(np.array(START))
    with plt.ioff():  # displayed below, inside the widget box, not twice
        fig, ax = plt.subplots(figsize=(4.5, 2.8))
    widgvis(fig)
    names = [f"z{j}" for j in range(N_INPUTS)]
    bars = ax.bar(names, np.zeros(N_INPUTS), color=BLUE)
    labels = [ax.text(j, 0.0, "", ha="center", va="bottom", fontsize=8) for j in range(N_INPUTS)]
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("a = softmax(z)")
    ax.set_title("softmax(z), sum = 1.000")  # room for the title that update() writes
    fig.tight_layout()
    sliders = [
        widgets.FloatSlider(value=v, min=-4.0, max=6.0, step=0.1, description=n, continuous_update=True)
        for n, v in zip(names, START, strict=True)
    ]
    explorer = SoftmaxExplorer(softmax_fn, fig, bars, sliders, labels)
    for s in sliders:
        s.observe(explorer.update, names="value")
    explorer.update()
    display_with_controls(fig, widgets.VBox(sliders))
    keep_alive(explorer)
    return explorer
