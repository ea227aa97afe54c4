"""The Makefile's instructor targets, run for real with this test's venv (already installed:
``-o`` keeps make from reinstalling it). ``make lab`` is driven in Chromium by
tests/browser/test_student_lab.py."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers.repo import ROOT

VENV = Path(sys.executable).parent.parent


def make(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", "-o", f"{VENV}/.student",
                           f"VENV={VENV}", *args], capture_output=True, text=True, timeout=timeout)


def test_make_instructor_says_what_to_run_next() -> None:
    done = make("instructor")
    assert done.returncode == 0, done.stderr
    said = done.stdout
    assert f"The course environment is ready in {VENV}/" in said
    for step in (f"export PATH={VENV}/bin:$PATH", "make release", "make student-kit",
                 "python -m grading multiclass_digits", "docs/instructors.md"):
        assert step in said, step
    assert done.stderr == ""


@pytest.mark.slow
def test_make_student_kit_checks_the_release_and_writes_the_kit(tmp_path: Path) -> None:
    out = tmp_path / "kit"
    done = make("student-kit", f"KIT_DIR={out}", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "release/ is up to date" in done.stdout
    assert "no solution or hidden-test line of source/ in it" in done.stdout
    assert (out / "lab.py").is_file() and (out / "multiclass_digits.ipynb").is_file()
    with zipfile.ZipFile(out.with_name("kit.zip")) as zf:
        assert "kit/lab.py" in zf.namelist()
