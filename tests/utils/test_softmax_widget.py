"""plt_softmax: sliders drive the bars through the student's function."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from utils import plt_softmax
from utils.interactive import _LIVE


def reference_softmax(z):
    exps = [math.exp(v) for v in z]
    return [e / sum(exps) for e in exps]


def heights(explorer) -> list[float]:
    return [bar.get_height() for bar in explorer.bars]


def student_softmax(z):
    ez = np.exp(z)
    return ez / ez.sum()


def test_initial_bars_match_the_lab_example():
    ex = plt_softmax(student_softmax)
    assert [s.description for s in ex.sliders] == ["z0", "z1", "z2", "z3"]
    np.testing.assert_allclose(ex.z(), [1, 2, 3, 4])
    np.testing.assert_allclose(heights(ex), reference_softmax([1, 2, 3, 4]))
    assert [t.get_text() for t in ex.labels] == ["0.03", "0.09", "0.24", "0.64"]
    plt.close(ex.fig)


def test_moving_a_slider_updates_the_bars():
    calls = []

    def spy(z):
        calls.append(np.array(z))
        return student_softmax(z)

    ex = plt_softmax(spy)
    ex.sliders[0].value = 5.0
    np.testing.assert_allclose(calls[-1], [5, 2, 3, 4])
    np.testing.assert_allclose(heights(ex), reference_softmax([5, 2, 3, 4]))
    assert ex.fig.axes[0].get_title() == "softmax(z), sum = 1.000"
    plt.close(ex.fig)


def test_references_are_kept_alive():
    ex = plt_softmax(student_softmax)
    assert _LIVE[-1] is ex
    for _ in range(20):
        plt.close(plt_softmax(student_softmax).fig)
    assert len(_LIVE) <= 8


def test_an_unanswered_function_fails_before_any_widget_is_made():
    def unanswered(z):
        raise NotImplementedError("not yet")

    shown = len(_LIVE)
    with pytest.raises(NotImplementedError, match="not yet"):
        plt_softmax(unanswered)
    assert len(_LIVE) == shown


def test_failures_while_sliding_are_reported_in_the_figure():
    def fails_above_five(z):
        if z.max() > 5:
            raise ValueError("too big")
        return student_softmax(z)

    ex = plt_softmax(fails_above_five)
    ex.sliders[1].value = 5.5
    assert "ValueError: too big" in ex.fig.axes[0].get_title()
    assert heights(ex) == [0, 0, 0, 0]
    ex.sliders[1].value = 2.0
    np.testing.assert_allclose(heights(ex), reference_softmax([1, 2, 3, 4]))

    ex2 = plt_softmax(lambda z: np.ones(3) if z[0] > 2 else student_softmax(z))
    ex2.sliders[0].value = 3.0
    assert "returned shape (3,)" in ex2.fig.axes[0].get_title()
    plt.close("all")


def test_rejects_non_callable():
    with pytest.raises(TypeError, match="needs a function"):
        plt_softmax([1, 2, 3])
