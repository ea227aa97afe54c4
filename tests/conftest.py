"""Shared pytest setup: a headless matplotlib backend, and the fixtures several test modules use.

Shared code lives in ``tests/helpers/`` (importable as ``helpers``: ``pythonpath`` in
pyproject.toml). The rule (see helpers/__init__.py): functions, constants and the catalogues
that feed ``parametrize`` are imported (``from helpers.x import y``); ready-made things a test
receives (notebooks read from disk, temporary course folders, servers, graded batches) are
fixtures, here or in the conftest.py of the one folder that uses them (tests/grading/,
tests/browser/).
"""
from __future__ import annotations

import os

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import pytest

import utils  # noqa: F401  (sets TensorFlow's quiet environment before any test imports TF)
from helpers.figures import ipympl_canvas, record_displays
from helpers.repo import RELEASE_NB, SOURCE_NB
# `make test` runs one pytest worker per core (pytest-xdist): these hooks keep the tests of an
# expensive shared fixture on one worker and start the longest work first
from helpers.xdist_groups import (  # noqa: F401  (pytest hooks, found by name in this module)
    pytest_collection_modifyitems, pytest_configure, pytest_unconfigure,
    pytest_xdist_make_scheduler,
)

matplotlib.use("Agg")

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="module")
def source_nb() -> nbformat.NotebookNode:
    """The graded lab's nbgrader source notebook (solutions and hidden tests), read once per
    test module; copy it before changing it."""
    return nbformat.read(SOURCE_NB, as_version=4)


@pytest.fixture(scope="module")
def release_nb() -> nbformat.NotebookNode:
    """The committed release notebook of the graded lab (what students download), read once
    per test module; copy it before changing it."""
    if not RELEASE_NB.is_file():
        pytest.fail(f"{RELEASE_NB} is missing: run `python tools/generate_release.py`")
    return nbformat.read(RELEASE_NB, as_version=4)


@pytest.fixture
def close_figures():
    """Close every pyplot figure after the test (figure modules use it for all their tests:
    ``pytestmark = pytest.mark.usefixtures("close_figures")``)."""
    yield
    plt.close("all")


@pytest.fixture
def shown(monkeypatch) -> list[object]:
    """What ``utils.interactive`` passes to IPython's display during the test, in order."""
    return record_displays(monkeypatch)


@pytest.fixture
def ipympl_canvas_class():
    """ipympl's widget Canvas class; pyplot is back on Agg after the test."""
    with ipympl_canvas() as canvas_class:
        yield canvas_class
