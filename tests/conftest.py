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
import tempfile
from pathlib import Path

import matplotlib
import nbformat
import pytest

import utils  # noqa: F401  (sets TensorFlow's quiet environment before any test imports TF)
from helpers.repo import RELEASE_NB, SOURCE_NB
from helpers.xdist_groups import GROUPS_ENV, GroupScheduling, order_and_group

matplotlib.use("Agg")

os.environ.setdefault("MPLBACKEND", "Agg")

# `make test` runs two pytest workers (pytest-xdist); helpers.xdist_groups keeps the tests of
# one expensive shared fixture on one worker and schedules the longest work first.


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        fd, path = tempfile.mkstemp(prefix="course-test-groups-", suffix=".json")
        os.close(fd)
        os.environ[GROUPS_ENV] = path  # the workers inherit it


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and os.environ.get(GROUPS_ENV):
        Path(os.environ.pop(GROUPS_ENV)).unlink(missing_ok=True)


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture scope
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    order_and_group(config, items)


@pytest.hookimpl(tryfirst=True)  # before xdist's own choice of scheduler
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> GroupScheduling | None:
    return GroupScheduling(config, log) if config.getvalue("dist") == "loadgroup" else None


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
