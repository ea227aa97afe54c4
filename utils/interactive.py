"""What the slider explorers share: showing controls next to a figure, keeping them alive,
and a picture of the figure for notebooks executed without a browser."""

from __future__ import annotations

import base64
import io
from typing import Any

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure

MAX_LIVE = 8
_LIVE: list[Any] = []  # the latest explorers: their figures and slider callbacks stay alive


def keep_alive(explorer: Any) -> None:
    """Hold a reference to ``explorer`` (the last ``MAX_LIVE`` are kept), so its sliders keep
    working even when the notebook does not store the returned object."""
    _LIVE.append(explorer)
    del _LIVE[:-MAX_LIVE]


def display_with_controls(fig: Figure, controls: widgets.Widget) -> None:
    """Display ``controls`` (e.g. a box of sliders) left of ``fig``'s ipympl canvas, in one box.

    Other backends (Agg in tests, inline) cannot put a figure in a widget box: the controls
    and then the figure are displayed one after the other.
    """
    if isinstance(fig.canvas, widgets.DOMWidget):
        display(widgets.HBox([controls, fig.canvas]))
    else:
        display(controls)
        display(fig)


def snapshot_widget_figure(fig: Figure) -> None:
    """Store a PNG of ``fig`` in its ipympl canvas while no browser is attached.

    ipympl keeps such a picture (trait ``_data_url``) in the saved widget state so a
    notebook executed headless (nbconvert) still shows the figure before a kernel runs.
    It only makes one itself when the canvas is displayed on its own; interactive
    figures whose canvas sits inside a widget box with sliders call this after each
    update. No-op on other backends and once a browser front end is connected
    (it then receives live frames instead).
    """
    canvas = fig.canvas
    if not (isinstance(canvas, widgets.DOMWidget) and getattr(canvas, "syncing_data_url", False)):
        return
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi="figure")
    canvas._data_url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
