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

from grading import cli
from grading.batch.coordinator import Options
from grading.cli import parser
from grading.limits import Limits, parse_size


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grading", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_defaults_and_levels():
    args = parser().parse_args(["lab"])
    assert (args.isolation, args.memory, args.pids, args.file_size) == ("sandboxed", "4G", 512, "1G")
    assert args.kernel_threads == 1
    with pytest.raises(SystemExit):
        parser().parse_args(["lab", "--isolation", "paranoid"])


def test_flag_defaults_are_the_options_defaults():
    args, default = parser().parse_args(["lab"]), Options()
    assert (args.course_dir, args.workers, args.timeout, args.cell_timeout, args.isolation) == \
        (default.course_dir, default.workers, default.timeout, default.cell_timeout, default.isolation)
    limits = default.limits
    assert (parse_size(args.memory), args.pids, parse_size(args.file_size), args.kernel_threads) == \
        (limits.memory, limits.pids, limits.file_size, limits.threads)


@pytest.mark.parametrize("timeout", [None, 30.0, 300.0, 5000.0])
def test_cli_and_python_callers_get_the_same_options(monkeypatch, timeout):
    seen: list[Options] = []
    monkeypatch.setattr(cli, "autograde_all", lambda assignment, opts: seen.append(opts) or [])
    assert cli.main(["toy", *(["--timeout", str(timeout)] if timeout is not None else [])]) == 0
    (opts,) = seen
    python = Options() if timeout is None else Options(timeout=timeout)
    assert opts == python
    assert opts.kernel_limits == python.kernel_limits == \
        Limits(cpu_seconds=int(max(python.timeout, 60) * 4))


def test_cli_ends_with_the_next_commands_for_this_assignment(monkeypatch, capsys, tmp_path):
    from grading.batch.results import SubmissionResult

    done = [SubmissionResult("alice", "ok", 5, 5, 1.0), SubmissionResult("bob", "error", 0, 5, 1.0)]
    monkeypatch.setattr(cli, "autograde_all", lambda assignment, opts: done)
    course = tmp_path / "my course"
    assert cli.main(["hw3", "--course-dir", str(course)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert 3 <= len(lines) <= 5, lines
    assert f"cd '{course}'" in lines[0]
    commands = [line.split("#")[0].strip() for line in lines[1:]]
    assert commands == ["nbgrader generate_feedback hw3 --force",
                        "python -m grading.extensions.lms_feedback hw3", "nbgrader export"]
    assert cli.main(["hw3", "--db", "sqlite:////tmp/g.db"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert "cd" not in lines[0]
    assert [line.split("#")[0].strip() for line in lines[1:]] == \
        ["nbgrader generate_feedback hw3 --force --db=sqlite:////tmp/g.db",
         "python -m grading.extensions.lms_feedback hw3", "nbgrader export --db=sqlite:////tmp/g.db"]


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--pids", "0", "--pids must be at least 1"),
    ("--kernel-threads", "0", "--kernel-threads must be at least 1"),
    ("--memory", "0", "bad size '0': it must be positive"),
    ("--file-size", "lots", "bad size 'lots': use a number with an optional K, M, G or T"),
    ("--timeout", "0", "--timeout must be a positive number of seconds"),
    ("--timeout", "nan", "--timeout must be a positive number of seconds"),
    ("--cell-timeout", "0", "--cell-timeout must be at least 1 second"),
    ("--workers", "0", "--workers must be at least 1"),
])
def test_each_bad_value_is_one_line(tmp_path, capsys, flag, value, message):
    assert cli.main(["toy", "--course-dir", str(tmp_path), flag, value]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_errors_are_one_clear_line(tmp_path, toy_course, capsys, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    # the entry point itself, once: `python -m grading` prints the one line and exits 2
    proc = run_cli("nope", "--course-dir", str(empty))
    assert proc.returncode == 2 and proc.stderr.startswith("error: no submissions")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    course = toy_course
    submit(course, "toy", "alice", toy_submission())
    assert cli.main(["toy", "--course-dir", str(course), "--memory", "lots"]) == 2
    assert "error: bad size 'lots'" in capsys.readouterr().err
    assert cli.main(["toy", "--course-dir", str(course), "--kernel-threads", "0"]) == 2
    assert "error: --kernel-threads must be at least 1" in capsys.readouterr().err
    # no bubblewrap on PATH: one line naming it and how to install it, nothing graded
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    assert cli.main(["toy", "--course-dir", str(course)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
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
