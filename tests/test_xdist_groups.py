"""The suite's own xdist scheduling (helpers.xdist_groups): a small suite run on two pytest
workers builds its shared session fixture once, where xdist's plain load scheduling builds it
on both workers (the check can fail), and the grouped tests all pass."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.repo import TESTS

SUITE = '''
import time
import pytest

@pytest.fixture(scope="session")
def lab_batch():  # the name of the suite's shared session fixture
    with open({log!r}, "a") as fh:
        fh.write("built\\n")
    time.sleep(0.5)
    return 42

{marker}@pytest.mark.parametrize("i", range(8))
def test_uses_the_batch(lab_batch, i):
    time.sleep(0.1)
    assert lab_batch == 42

@pytest.mark.parametrize("i", range(8))
def test_alone(i):
    time.sleep(0.1)
'''


def _run(tmp_path: Path, dist: str, unmarked: bool = False,
         args: tuple[str, ...] = ()) -> tuple[int, subprocess.CompletedProcess]:
    folder = tmp_path / f"{dist}{'-unmarked' if unmarked else ''}"
    folder.mkdir()
    log = folder / "built.txt"
    (folder / "pytest.ini").write_text("[pytest]\nmarkers = slow\n")
    marker = "" if unmarked else "@pytest.mark.slow\n"
    (folder / "test_small.py").write_text(SUITE.format(log=str(log), marker=marker))
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    env.pop("COURSE_TEST_GROUPS_FILE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", dist, "--no-loadscope-reorder",
         "-p", "helpers.xdist_groups", "-p", "no:cacheprovider", "-q", *args, str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    return (len(log.read_text().splitlines()) if log.exists() else 0), proc


@pytest.mark.slow  # two nested pytest-xdist runs (10 s): make test, not the fast loop
def test_grouped_tests_share_one_fixture_on_two_workers(tmp_path):
    built, proc = _run(tmp_path, "loadgroup")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "16 passed" in proc.stdout
    assert built == 1
    built_plain, proc = _run(tmp_path, "load")  # without the groups: once per worker
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert built_plain == 2


def test_a_test_using_a_shared_fixture_is_slow_even_unmarked(tmp_path):
    """A test that uses a shared fixture without a heavy marker is left out of a fast run
    (``-m "not slow"``, as make test-fast), which would otherwise build the fixture."""
    built, proc = _run(tmp_path, "loadgroup", unmarked=True, args=("-m", "not slow"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().splitlines()[-1].startswith("8 passed") and built == 0, proc.stdout
