"""The graded lab's pictures (utils.diagrams), checked through their artists."""
from __future__ import annotations

import io
import math
import struct

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from utils import plot_network_diagram, plot_softmax_layer
from utils.diagrams import EXAMPLE_LOGITS, weight_shapes

pytestmark = pytest.mark.usefixtures("close_figures")  # tests/conftest.py


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def reference_softmax(z) -> list[float]:
    exps = [math.exp(v) for v in z]
    return [e / sum(exps) for e in exps]


def bar_widths(ax) -> list[float]:
    return [p.get_width() for p in ax.patches if isinstance(p, Rectangle)]


# ------------------------------------------------------------------ the network


def test_weight_shapes_follow_the_layer_sizes():
    assert weight_shapes([400, 25, 15, 10]) == [((400, 25), (25,)), ((25, 15), (15,)), ((15, 10), (10,))]
    for bad in ([400], [400, 0, 10], [400, 2.5]):
        with pytest.raises(ValueError, match="layer sizes"):
            weight_shapes(bad)


def test_network_diagram_shows_layers_sizes_activations_and_weight_shapes():
    fig = plot_network_diagram().figure
    (ax,) = fig.axes
    layers = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [c.get_label() for c in layers] == ["input x: 400", "layer 1: 25", "layer 2: 15", "layer 3: 10"]
    drawn = [len(c.get_offsets()) for c in layers]
    assert drawn == [12, 12, 15, 10]  # 400 and 25 in part (a gap with dots), 15 and 10 in full
    columns = [np.unique(np.round(c.get_offsets()[:, 0], 6)) for c in layers]
    assert all(col.size == 1 for col in columns)  # each layer is one column
    assert np.all(np.diff([col[0] for col in columns]) > 0)  # input on the left, output on the right
    assert texts(ax).count("⋮") == 2  # the two layers drawn in part
    shown = texts(ax)
    for label in ("input x\n400 values\n(20×20 image)", "layer 1\n25 units\nReLU", "layer 2\n15 units\nReLU",
                  "layer 3\n10 units\nlinear"):
        assert label in shown, label
    # the shapes between the layers: W is (units in, units out), b is (units out,)
    for k, (n_in, n_out) in enumerate([(400, 25), (25, 15), (15, 10)], start=1):
        assert f"W{k}: ({n_in}, {n_out})\nb{k}: ({n_out},)" in shown
    # every drawn unit is connected to every drawn unit of the next layer
    assert len(ax.lines) == 12 * 12 + 12 * 15 + 15 * 10
    # the ten outputs are labelled 0..9 from top to bottom, next to the output units
    out = layers[-1].get_offsets()
    digit_texts = sorted((t for t in ax.texts if t.get_text() in [str(d) for d in range(10)]),
                         key=lambda t: -t.get_position()[1])
    assert [t.get_text() for t in digit_texts] == [str(d) for d in range(10)]
    assert np.allclose(sorted(t.get_position()[1] for t in digit_texts), sorted(out[:, 1]))
    assert "400 → 25 → 15 → 10" in ax.get_title()


# ------------------------------------------------------------------ the softmax output layer


def test_softmax_layer_turns_the_logits_into_their_softmax():
    fig = plot_softmax_layer().figure
    ax_z, ax_f, ax_a = fig.axes
    z = list(EXAMPLE_LOGITS)
    assert len(z) == 10
    assert np.allclose(bar_widths(ax_z), z)
    probabilities = bar_widths(ax_a)
    assert np.allclose(probabilities, reference_softmax(z), rtol=1e-12)
    assert math.isclose(sum(probabilities), 1.0)
    assert int(np.argmax(probabilities)) == int(np.argmax(z))
    assert texts(ax_a) == [f"{p:.2f}" for p in reference_softmax(z)]
    assert [t.get_text() for t in ax_z.get_yticklabels()] == [f"z{j}" for j in range(10)]
    assert [t.get_text() for t in ax_a.get_yticklabels()] == [f"a{j}" for j in range(10)]
    assert "sum = 1.00" in ax_a.get_title() and "logits" in ax_z.get_title()
    assert "softmax" in texts(ax_f) and any("e^{z_j}" in t and "k=0}^{9}" in t for t in texts(ax_f))


def test_softmax_layer_takes_any_logits_and_rejects_bad_ones():
    fig = plot_softmax_layer([1.0, 2.0, 3.0, 4.0]).figure
    ax_z, ax_f, ax_a = fig.axes
    assert np.allclose(bar_widths(ax_a), reference_softmax([1, 2, 3, 4]))
    assert any("k=0}^{3}" in t for t in texts(ax_f))
    # large logits do not overflow (the largest is subtracted first)
    fig = plot_softmax_layer([1000.0, 999.0]).figure
    assert np.allclose(bar_widths(fig.axes[2]), reference_softmax([1.0, 0.0]))
    for bad in ([1.0], [[1.0, 2.0]], [1.0, float("nan")]):
        with pytest.raises(ValueError, match="1-D array of two or more finite numbers"):
            plot_softmax_layer(bad)


# ------------------------------------------------------------------ shown as PNG images


@pytest.mark.parametrize("draw, size, text", [
    (plot_network_diagram, (740, 440), "Picture: the network of this lab, 400 -> 25 -> 15 -> 10"),
    (plot_softmax_layer, (740, 340), "Picture: a softmax output layer turning 10 logits into 10 probabilities"),
])
def test_pictures_display_as_png_with_a_fixed_text_form(draw, size, text):
    before = plt.get_fignums()
    picture = draw()
    assert plt.get_fignums() == before  # not a pyplot (ipympl) figure: nothing to keep open
    png = picture._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == size
    image = plt.imread(io.BytesIO(png))
    assert (image[..., :3] < 0.9).any(axis=-1).mean() > 0.02  # drawn, not blank
    assert repr(picture) == text and "0x" not in repr(picture)  # nbval compares text/plain
