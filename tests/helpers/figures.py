"""What the figure tests share: pyplot on Agg, what ``utils.interactive`` displays, and ipympl's
canvas class (whose import switches pyplot's backend, so it is switched back).

The fixtures built on these (``close_figures``, ``shown``, ``ipympl_canvas_class``) are in
tests/conftest.py.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib.pyplot as plt
import pytest

from utils import interactive


def record_displays(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Replace IPython's ``display`` as ``utils.interactive`` calls it by a recorder; the list
    it returns receives every displayed object, in order (undone with ``monkeypatch``)."""
    calls: list[object] = []
    monkeypatch.setattr(interactive, "display", calls.append)
    return calls


@contextmanager
def ipympl_canvas() -> Iterator[type]:
    """ipympl's widget ``Canvas`` class; importing ipympl switches pyplot's backend, so pyplot is
    put back on Agg on the way out (and checked: every other figure test expects Agg)."""
    try:
        from ipympl.backend_nbagg import Canvas

        yield Canvas
    finally:
        plt.switch_backend("Agg")
    assert plt.get_backend().lower() == "agg"
