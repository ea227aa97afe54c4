"""utils.interactive: what the slider explorers share (display next to the figure, keep-alive)."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils import interactive  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    calls = []
    monkeypatch.setattr(interactive, "display", lambda obj: calls.append(obj))
    return calls


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
def test_one_box_with_controls_left_of_an_ipympl_canvas(shown):
    from ipympl.backend_nbagg import Canvas
    from matplotlib.figure import Figure

    try:
        fig = Figure()
        canvas = Canvas(fig)
        box = widgets.VBox([widgets.FloatSlider()])
        interactive.display_with_controls(fig, box)
        assert len(shown) == 1 and isinstance(shown[0], widgets.HBox)
        assert list(shown[0].children) == [box, canvas]
    finally:
        plt.switch_backend("Agg")  # importing ipympl switched pyplot's backend
