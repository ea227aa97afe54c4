"""grading.cli: ``python -m grading`` flags, errors and outputs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers.courses import lab_base, lab_course, submit, toy_submission
from helpers.faults import Case, student_notebook
from helpers.notebooks import find_cell, stream_text
from helpers.repo import LAB

from grading.cli import parser


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grading", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_defaults_and_levels():
    args = parser().parse_args(["lab"])
    assert (args.isolation, args.memory, args.pids, args.file_size) == ("sandboxed", "4G", 512, "1G")
    assert args.kernel_threads == 1
    with pytest.raises(SystemExit):
        parser().parse_args(["lab", "--isolation", "paranoid"])


def test_errors_are_one_clear_line(tmp_path, toy_course):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli("nope", "--course-dir", str(empty))
    assert proc.returncode == 2 and proc.stderr.startswith("error: no submissions")
    course = toy_course
    submit(course, "toy", "alice", toy_submission())
    proc = run_cli("toy", "--course-dir", str(course), "--memory", "lots")
    assert proc.returncode == 2 and "error: bad size 'lots'" in proc.stderr
    proc = run_cli("toy", "--course-dir", str(course), "--kernel-threads", "0")
    assert proc.returncode == 2 and "error: --kernel-threads must be at least 1" in proc.stderr
    # no bubblewrap on PATH: one line naming it and how to install it, nothing graded
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    proc = run_cli("toy", "--course-dir", str(course), env=dict(os.environ, PATH=str(bin_dir)))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: bubblewrap (bwrap) is missing: install it with `apt-get install bubblewrap` "
        "(Debian/Ubuntu) or `dnf install bubblewrap`, or pass --isolation none to grade without "
        "a sandbox"]
    assert not (course / "autograded").exists()


@pytest.mark.slow
@pytest.mark.sandbox
def test_cli_whole_notebook_solution_full_marks(tmp_path):
    course = lab_course(tmp_path)
    submit(course, LAB, "ref", student_notebook(lab_base(), Case("ref", "", [], {})))
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    proc = run_cli(LAB, "--course-dir", str(course), "--workers", "1", "--no-restore", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "isolation sandboxed (memory 4G, pids 512, cores 1, file size 1G)" in proc.stdout
    assert "[1/1] ref: ok 20/20" in proc.stdout
    nb = nbformat.read(course / "autograded" / "ref" / LAB / f"{LAB}.ipynb", as_version=4)
    assert "Epoch 40/40 - loss:" in stream_text(find_cell(nb, "compile_fit"))
    assert not any(o.get("name") == "stderr" for c in nb.cells for o in c.get("outputs", []))
