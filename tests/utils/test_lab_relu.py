"""Tests of utils.lab_relu (optional lab 1): maths, decomposition, figures and the slider explorer.

pyplot runs on Agg (tests/conftest.py); ``close_figures``, ``shown`` (what plt_relu_units passes
to IPython's display) and ``ipympl_canvas_class`` are fixtures there.
"""
import base64
import struct

import matplotlib.pyplot as plt
import numpy as np
import pytest

from utils import interactive
from utils.interactive import snapshot_widget_figure
from utils.lab_relu import (
    ReluDecomposition,
    network_output,
    on_interval,
    piecewise_target,
    plot_decomposition,
    plot_linear_vs_relu,
    relu,
    relu_decomposition,
    unit_outputs,
)
from utils.relu_explorer import plt_relu_units

pytestmark = pytest.mark.usefixtures("close_figures")

# The lab's static example, and its slopes written out by hand: 0, 1, 2, -1.
KX = [0.0, 1.0, 2.0, 3.5, 5.0]
KY = [0.5, 0.5, 1.5, 4.5, 3.0]


def hand_target(x: float) -> float:
    """The lab's static target written piece by piece, independently of the module."""
    if x <= 1.0:
        return 0.5
    if x <= 2.0:
        return 0.5 + (x - 1.0)
    if x <= 3.5:
        return 1.5 + 2.0 * (x - 2.0)
    return 4.5 - (x - 3.5)


# --------------------------------------------------------------------------- maths
def test_relu_is_zero_in_the_off_region_and_identity_in_the_on_region():
    z = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    assert relu(z).tolist() == [0.0, 0.0, 0.0, 0.25, 2.0]
    assert relu(-1) == 0.0 and relu(1.5) == 1.5


def test_piecewise_target_matches_hand_written_pieces_including_outside_the_knots():
    x = np.linspace(-2.0, 7.0, 181)
    expected = [hand_target(t) for t in x]
    np.testing.assert_allclose(piecewise_target(x, KX, KY), expected, atol=1e-12)


def test_unit_outputs_and_network_output_shapes_and_values():
    x = np.array([-1.0, 0.0, 2.0])
    a = unit_outputs(x, [1.0, -2.0], [0.5, 1.0])
    assert a.shape == (3, 2)
    np.testing.assert_allclose(a, [[0.0, 3.0], [0.5, 1.0], [2.5, 0.0]])
    np.testing.assert_allclose(network_output(x, [1.0, -2.0], [0.5, 1.0], [2.0, -1.0], c=0.25),
                               [-2.75, 0.25, 5.25])


@pytest.mark.parametrize(
    "w, b, expected",
    [
        (1.0, -1.0, (1.0, 5.0)),     # on to the right of x = 1
        (-2.0, 4.0, (0.0, 2.0)),     # negative weight: on to the left of x = 2
        (1.0, 1.0, (0.0, 5.0)),      # switches on left of the domain: on everywhere here
        (1.0, -7.0, None),           # switches on right of the domain: off everywhere here
        (-1.0, -1.0, None),          # on only for x < -1
        (0.0, 0.5, (0.0, 5.0)),      # w = 0: constant, positive
        (0.0, 0.0, None),            # w = 0, b = 0: z = 0 is not "on"
    ],
)
def test_on_interval_cases(w, b, expected):
    assert on_interval(w, b, 0.0, 5.0) == expected


# --------------------------------------------------------------------------- decomposition
def test_decomposition_weights_for_the_lab_example_are_the_slope_changes():
    dec = relu_decomposition(KX, KY)
    # slopes 0, 1, 2, -1 -> bends of +1 at x=1, +1 at x=2, -3 at x=3.5; no unit at x=0
    np.testing.assert_allclose(dec.w, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(dec.b, [-1.0, -2.0, -3.5])
    np.testing.assert_allclose(dec.v, [1.0, 1.0, -3.0])
    assert dec.c == 0.5
    assert dec.n_units == 3


def test_decomposition_reproduces_the_target_numerically():
    dec = relu_decomposition(KX, KY)
    x = np.linspace(-2.0, 7.0, 2001)
    expected = np.array([hand_target(t) for t in x])
    np.testing.assert_allclose(dec.predict(x), expected, atol=1e-12)


def test_decomposition_of_random_targets_matches_interpolation():
    rng = np.random.default_rng(7)
    for _ in range(20):
        kx = np.cumsum(rng.uniform(0.1, 2.0, size=6))
        ky = rng.normal(size=6)
        dec = relu_decomposition(kx, ky)
        x = np.linspace(kx[0] - 1, kx[-1], 1501)
        np.testing.assert_allclose(dec.predict(x), np.interp(x, kx, ky), atol=1e-9)


def test_decomposition_with_a_first_slope_needs_a_unit_at_the_first_knot():
    dec = relu_decomposition([0.0, 2.0], [1.0, 5.0])  # one line of slope 2 starting at x = 0
    np.testing.assert_allclose(dec.b, [0.0])
    np.testing.assert_allclose(dec.v, [2.0])
    np.testing.assert_allclose(dec.predict([-1.0, 0.0, 1.0, 3.0]), [1.0, 1.0, 3.0, 7.0])


def test_collinear_knot_needs_no_unit():
    dec = relu_decomposition([0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 1.0, 2.0])  # x=2 is not a bend
    assert dec.n_units == 1


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kx, ky, message",
    [
        ([0, 1, 1, 2], [0, 1, 2, 3], "strictly increasing"),
        ([0, 2, 1], [0, 1, 2], "strictly increasing"),
        ([0, 1, 2], [0, 1], "same length"),
        ([0], [1], "at least 2"),
        ([0, np.nan, 2], [0, 1, 2], "finite"),
        ([[0, 1], [2, 3]], [[0, 1], [2, 3]], "one-dimensional"),
    ],
)
def test_bad_knots_raise_clear_errors(kx, ky, message):
    with pytest.raises(ValueError, match=message):
        relu_decomposition(kx, ky)
    with pytest.raises(ValueError, match=message):
        piecewise_target([0.5], kx, ky)


def test_non_numeric_knots_raise_type_error():
    with pytest.raises(TypeError, match="sequence of numbers"):
        relu_decomposition(["a", "b"], [0, 1])


def test_network_output_checks_unit_counts():
    with pytest.raises(ValueError, match="one entry per unit"):
        unit_outputs([0.0], [1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match="one output weight per unit"):
        network_output([0.0], [1.0, 2.0], [0.0, 0.0], [1.0])


def test_on_interval_rejects_empty_domain():
    with pytest.raises(ValueError, match="lo < hi"):
        on_interval(1.0, 0.0, 2.0, 2.0)


def test_decomposition_rejects_zero_weight_units():
    with pytest.raises(ValueError, match="non-zero weight"):
        ReluDecomposition(np.array([0.0]), np.array([1.0]), np.array([1.0]), 0.0,
                          np.array([0.0, 1.0]), np.array([0.0, 1.0]))


def test_plot_functions_reject_wrong_types():
    with pytest.raises(TypeError, match="ReluDecomposition"):
        plot_decomposition((KX, KY))
    with pytest.raises(TypeError, match="ReluDecomposition"):
        plot_linear_vs_relu(None)


# --------------------------------------------------------------------------- static figures
def test_decomposition_figure_panels_show_each_contribution_and_the_sum():
    dec = relu_decomposition(KX, KY)
    fig = plot_decomposition(dec)
    axes = fig.axes
    assert len(axes) == dec.n_units + 1
    for j, ax in enumerate(axes[:-1]):
        line = ax.get_lines()[0]
        x, y = line.get_xdata(), line.get_ydata()
        np.testing.assert_allclose(y, dec.v[j] * np.maximum(0.0, x - KX[j + 1]), atol=1e-12)
        (span,) = ax.patches  # the shaded on region: right of the unit's breakpoint
        assert span.get_x() == pytest.approx(KX[j + 1])
        assert span.get_x() + span.get_width() == pytest.approx(KX[-1])
    target, total = axes[-1].get_lines()[:2]
    x = total.get_xdata()
    np.testing.assert_allclose(total.get_ydata(), [hand_target(t) for t in x], atol=1e-12)
    np.testing.assert_allclose(target.get_ydata(), np.interp(target.get_xdata(), KX, KY), atol=1e-12)
    assert set(KX) <= set(x.tolist())  # the kinks are drawn exactly


def test_linear_units_give_a_straight_line():
    dec = relu_decomposition(KX, KY)
    fig = plot_linear_vs_relu(dec)
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    linear = next(ln for label, ln in lines.items() if label.startswith("same weights"))
    x, y = linear.get_xdata(), linear.get_ydata()
    slope, intercept = np.polyfit(x, y, 1)
    np.testing.assert_allclose(y, slope * x + intercept, atol=1e-9)
    # with g(z) = z: c + sum v_j (x - x_j) = 0.5 + 1(x-1) + 1(x-2) - 3(x-3.5)
    np.testing.assert_allclose(y, 0.5 + (x - 1) + (x - 2) - 3 * (x - 3.5), atol=1e-12)


# --------------------------------------------------------------------------- explorer
def _check_explorer_against_sliders(ex):
    """Every artist must equal what the slider values give, computed here from scratch."""
    w = [ex.sliders["w1"].value, ex.sliders["w2"].value]
    b = [ex.sliders["b1"].value, ex.sliders["b2"].value]
    v = [ex.sliders["v1"].value, ex.sliders["v2"].value]
    total = np.zeros_like(ex.sum_line.get_xdata())
    for j in range(2):
        x = np.asarray(ex.unit_lines[j].get_xdata())
        expected = np.maximum(0.0, w[j] * x + b[j])
        np.testing.assert_allclose(ex.unit_lines[j].get_ydata(), expected, atol=1e-12)
        np.testing.assert_allclose(ex.contrib_lines[j].get_ydata(), v[j] * expected, atol=1e-12)
        total = total + v[j] * expected
        # shading: every grid point with w x + b > 0 is inside the band, every other one outside
        span = ex.on_spans[j]
        on = w[j] * x + b[j] > 1e-9
        off = w[j] * x + b[j] < -1e-9
        if span.get_visible():
            left, right = span.get_x(), span.get_x() + span.get_width()
            inside = (x >= left - 1e-9) & (x <= right + 1e-9)
            assert np.all(inside[on])
            strictly_inside = (x > left + 1e-9) & (x < right - 1e-9)
            assert not np.any(strictly_inside[off])
        else:
            assert not np.any(on)
    np.testing.assert_allclose(ex.sum_line.get_ydata(), total + ex.c, atol=1e-12)


def test_explorer_displays_sliders_and_figure_separately_on_agg(shown):
    ex = plt_relu_units()
    assert sorted(ex.sliders) == ["b1", "b2", "v1", "v2", "w1", "w2"]
    assert len(shown) == 2 and shown[1] is ex.fig  # Agg canvas is no widget: two displays
    assert ex in interactive._LIVE
    ex._ipython_display_()
    assert len(shown) == 2  # displaying the returned object shows nothing again
    _check_explorer_against_sliders(ex)


def test_moving_sliders_updates_line_data_and_shading(shown):
    ex = plt_relu_units()
    lines_before = list(ex.fig.axes[0].get_lines())
    for name, value in [("w1", 2.0), ("b1", -3.0), ("v2", -1.5), ("w2", -1.0), ("b2", 2.5)]:
        ex.sliders[name].value = value
        _check_explorer_against_sliders(ex)
    # updated in place: the same artists, no new ones
    assert ex.fig.axes[0].get_lines() == lines_before
    span = ex.on_spans[1]  # w2 = -1, b2 = 2.5: on for x < 2.5
    assert span.get_visible() and span.get_x() == pytest.approx(0.0)
    assert span.get_width() == pytest.approx(2.5)
    assert "on for x < 2.50" in ex.unit_titles[1].get_text()


def test_unit_switched_off_everywhere_hides_its_shading(shown):
    ex = plt_relu_units()
    ex.set_params(w1=0.0, b1=-1.0)
    assert not ex.on_spans[0].get_visible()
    assert np.all(ex.unit_lines[0].get_ydata() == 0.0)
    assert "off everywhere" in ex.unit_titles[0].get_text()
    _check_explorer_against_sliders(ex)


def test_solution_closes_the_gap_and_the_title_says_so(shown):
    ex = plt_relu_units()
    assert ex.max_error() > 1.0
    ex.set_params(w1=1.0, b1=-1.0, v1=1.0, w2=1.0, b2=-3.0, v2=-2.0)
    assert ex.max_error() == pytest.approx(0.0, abs=1e-12)
    x = ex.sum_line.get_xdata()
    # the tent: 0 up to 1, up to 2 at x = 3, back to 0 at x = 5
    tent = np.where(x < 1, 0.0, np.where(x < 3, x - 1, 5 - x))
    np.testing.assert_allclose(ex.sum_line.get_ydata(), tent, atol=1e-12)
    assert "gap to target = 0.00" in ex.title.get_text()
    # the same curve with scaled weights: w and b times 2, v divided by 2
    ex.set_params(w1=2.0, b1=-2.0, v1=0.5)
    assert ex.max_error() == pytest.approx(0.0, abs=1e-12)


def test_max_error_is_the_largest_gap_on_a_fine_grid(shown):
    ex = plt_relu_units(start={"w1": 1.3, "b1": -0.7, "v1": 0.9, "w2": -0.4, "b2": 1.1, "v2": 2.2})
    x = np.linspace(0.0, 5.0, 100001)
    w, b, v = ex.params()
    out = sum(v[j] * np.maximum(0.0, w[j] * x + b[j]) for j in range(2))
    tent = np.where(x < 1, 0.0, np.where(x < 3, x - 1, 5 - x))
    assert ex.max_error() == pytest.approx(np.max(np.abs(out - tent)), abs=1e-4)


def test_explorer_bad_inputs(shown):
    with pytest.raises(KeyError, match="unknown start"):
        plt_relu_units(start={"w3": 1.0})
    with pytest.raises(ValueError, match="outside the slider range"):
        plt_relu_units(start={"b1": 50.0})
    with pytest.raises(ValueError, match="strictly increasing"):
        plt_relu_units([0, 2, 1], [0, 1, 0])
    ex = plt_relu_units()
    with pytest.raises(KeyError, match="unknown slider"):
        ex.set_params(w=1.0)
    with pytest.raises(ValueError, match="outside the slider range"):
        ex.set_params(w1=10.0)


@pytest.mark.filterwarnings("ignore:Passing unrecognized arguments:DeprecationWarning")  # ipympl's Toolbar
def test_snapshot_stores_a_png_of_the_figure_in_an_ipympl_canvas_without_front_end(ipympl_canvas_class):
    Canvas = ipympl_canvas_class
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.0, 1.5), dpi=50)
    canvas = Canvas(fig)
    assert canvas._data_url in (None, "")
    snapshot_widget_figure(fig)
    head, _, data = canvas._data_url.partition(",")
    assert head == "data:image/png;base64"
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR: 2 in x 50 dpi, 1.5 in x 50 dpi
    assert (width, height) == (100, 75)
    canvas.syncing_data_url = False  # a browser is attached: leave the live canvas alone
    canvas._data_url = None
    snapshot_widget_figure(fig)
    assert canvas._data_url is None


def test_snapshot_is_a_no_op_on_agg():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    snapshot_widget_figure(fig)
    assert not hasattr(fig.canvas, "_data_url")
    assert plt.get_backend().lower() == "agg"  # this module's tests really run on Agg


def test_switching_point_zero_is_written_without_a_minus_sign(shown):
    ex = plt_relu_units()  # starts with w1 = 1, b1 = 0: on for x > 0
    assert "on for x > 0.00" in ex.unit_titles[0].get_text()
    assert "-0.00" not in ex.unit_titles[0].get_text()
