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
import nbformat
import pytest

import utils  # noqa: F401  (sets TensorFlow's quiet environment before any test imports TF)
from helpers.repo import RELEASE_NB, SOURCE_NB

matplotlib.use("Agg")

os.environ.setdefault("MPLBACKEND", "Agg")

# Fixtures that build something expensive once (a graded batch, a JupyterLab server) and are
# shared by several tests. Under pytest-xdist (`make test` runs `-n auto --dist loadgroup`)
# every test that uses one goes to the same worker, so it is still built once per run.
SESSION_SHARED = {"lab_batch"}  # session-scoped: one group for the whole suite
MODULE_SHARED = {"red_batch", "toy_batch", "pg_batch", "student_root", "student_server",
                 "labs_server"}  # module-scoped: one group per test module
HEAVY_MARKERS = ("slow", "sandbox", "browser", "postgres")


def _group(item: pytest.Item) -> str | None:
    names = set(item.fixturenames)
    shared = sorted(names & SESSION_SHARED)
    if shared:
        return shared[0]
    if names & MODULE_SHARED:
        return item.nodeid.split("::")[0]
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group the tests of a shared fixture (xdist_group), and put the long work first:
    the session-wide batch, then everything that executes notebooks, grades or drives a
    browser, then the quick tests, which fill both cores at the end. A group keeps its tests
    together and in pytest's order."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        group = _group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
        units.setdefault(group or item.nodeid, []).append(item)

    def rank(key: str) -> int:
        if key in SESSION_SHARED:
            return 0
        heavy = any(i.get_closest_marker(m) for i in units[key] for m in HEAVY_MARKERS)
        return 1 if heavy else 2

    order = sorted(units, key=rank)  # stable: pytest's order within each rank
    items[:] = [item for key in order for item in units[key]]


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
