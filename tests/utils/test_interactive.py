"""utils.interactive: what the slider explorers share (display next to the figure, keep-alive).

pyplot runs on Agg (tests/conftest.py); ``shown`` and ``ipympl_canvas_class`` are fixtures there.
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

from utils import interactive


def test_keep_alive_holds_the_latest_explorers_only():
    objs = [object() for _ in range(interactive.MAX_LIVE + 3)]
    for o in objs:
        interactive.keep_alive(o)
    assert interactive._LIVE == objs[-interactive.MAX_LIVE:]


def test_controls_then_figure_on_a_plain_backend(shown):
    fig = plt.figure()
    box = widgets.VBox([widgets.FloatSlider()])
    interactive.display_with_controls(fig, box)
    assert shown == [box, fig]
    plt.close(fig)


@pytest.mark.filterwarnings("ignore:Passing unrecognized arguments:DeprecationWarning")  # ipympl's Toolbar
def test_one_box_with_controls_left_of_an_ipympl_canvas(shown, ipympl_canvas_class):
    from matplotlib.figure import Figure

    fig = Figure()
    canvas = ipympl_canvas_class(fig)
    box = widgets.VBox([widgets.FloatSlider()])
    interactive.display_with_controls(fig, box)
    assert len(shown) == 1 and isinstance(shown[0], widgets.HBox)
    assert list(shown[0].children) == [box, canvas]
