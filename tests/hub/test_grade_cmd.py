"""deploy/grade.py runs ``python -m grading`` as root: with -P, from /, with root's copy of the
course's nbgrader config (--config), never importing from or configured by the instructor's
course folder. No hub needed (the subprocess is faked). Seen failing on d78c284's grade.py."""

from __future__ import annotations

import importlib.util
import os
import pwd
import subprocess
import sys
from pathlib import Path

from helpers.repo import ROOT


def _load_grade():
    sys.path.insert(0, str(ROOT / "deploy"))
    spec = importlib.util.spec_from_file_location("course_grade", ROOT / "deploy" / "grade.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


grade = _load_grade()


def test_grading_runs_with_safe_path_from_root_with_roots_config(tmp_path: Path, monkeypatch) -> None:
    course = tmp_path / "home" / "multiclass-digits"
    course.mkdir(parents=True)
    home = tmp_path / "opt"
    home.mkdir()
    (home / "nbgrader_config.py").write_text("c = get_config()\n")
    monkeypatch.setenv("COURSE_HOME", str(home))
    monkeypatch.setattr(grade.os, "geteuid", lambda: 0)
    me = pwd.getpwuid(os.getuid())
    monkeypatch.setattr(grade, "instructor_of", lambda path: me)
    monkeypatch.setattr(grade, "course_of", lambda who: (course, None))
    monkeypatch.setattr(grade, "give_back", lambda *a: None)
    seen = {}

    def fake_run(cmd, **kwargs):
        seen["cmd"], seen["kwargs"] = cmd, kwargs
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(grade.subprocess, "run", fake_run)
    assert grade.main(["multiclass_digits"]) == 0
    cmd, kwargs = seen["cmd"], seen["kwargs"]
    assert cmd[1:4] == ["-P", "-m", "grading"]
    assert Path(kwargs["cwd"]).resolve() != course.resolve() and not str(Path(kwargs["cwd"]).resolve()).startswith(
        str(course.resolve())
    )
    assert cmd[cmd.index("--config") + 1] == str(home / "nbgrader_config.py")
