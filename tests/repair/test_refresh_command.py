"""The students' ``python -m utils.refresh NOTEBOOK`` (and ``make refresh``) on the same corpus: the
current release with the student's graded-cell code put back, the old file kept byte for byte."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.foreign import CASES, twin
from helpers.notebooks import grade_id
from helpers.repo import RELEASE_NB, ROOT
from helpers.submissions import read_release
from utils.refresh import backup_path, find_release, main

NAME = "multiclass_digits.ipynb"


def _backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("multiclass_digits.backup-*.ipynb"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_refresh_gives_the_release_with_the_students_code_and_keeps_the_old_file(tmp_path, name, capsys):
    case = CASES[name]
    notebook = tmp_path / NAME
    original = case.build()
    notebook.write_bytes(original)
    code = main([str(notebook)])
    out = capsys.readouterr().out
    assert code == (1 if case.flagged else 0), out
    (backup,) = _backups(tmp_path)
    assert backup.read_bytes() == original
    assert backup.name in out and "nothing was deleted" in out
    refreshed = nbformat.read(notebook, as_version=4)
    nbformat.validate(refreshed)
    release, expected = read_release(), twin(case)
    for got, want, rel in zip(refreshed.cells, expected.cells, release.cells, strict=True):
        if grade_id(rel) in case.missing:
            assert got == rel
        elif grade_id(rel) in ("my_softmax", "my_model"):
            assert got.source == want.source
        else:
            assert got == rel  # every other cell as released: outputs, edits and extra cells gone
    for gid in case.missing:
        assert "NOT FOUND" in out and gid in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([NAME, backup.name])  # no temp files left


def test_refresh_twice_keeps_both_old_files(tmp_path, capsys):
    notebook = tmp_path / NAME
    notebook.write_bytes(CASES["split"].build())
    assert main([str(notebook)]) == 0
    first = notebook.read_bytes()
    assert main([str(notebook)]) == 0
    assert notebook.read_bytes() == first  # a refreshed notebook refreshes to itself
    assert len(_backups(tmp_path)) == 2
    assert backup_path(notebook, now=0.0) != backup_path(notebook, now=0.0).with_name("x") \
        and not backup_path(notebook).exists()


@pytest.mark.slow  # two Python processes importing utils: kept out of make test-fast's budget
def test_the_command_line_and_make_refresh(tmp_path):
    work = tmp_path / "my-work"
    work.mkdir()
    notebook = work / NAME
    notebook.write_bytes(CASES["colab"].build())
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, "-m", "utils.refresh", str(notebook)], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "Your code is back in the graded cells: my_softmax, my_model." in proc.stdout
    assert str(RELEASE_NB.relative_to(ROOT)) in proc.stdout or str(RELEASE_NB) in proc.stdout
    notebook.write_bytes(CASES["graded_gone"].build())
    # make's -o: the venv is taken as built (the test never reinstalls it)
    proc = subprocess.run(["make", "-s", "-o", ".venv/.student", "refresh", f"NOTEBOOK={notebook}",
                           f"PYTHON={sys.executable}"], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode != 0 and "NOT FOUND in your notebook: my_model" in proc.stdout, proc.stdout + proc.stderr
    assert len(_backups(work)) == 2


def test_errors_say_what_to_do(tmp_path, capsys):
    assert main([str(tmp_path / "nope.ipynb")]) == 2
    assert "no notebook" in capsys.readouterr().err
    other = tmp_path / "homework.ipynb"
    other.write_text("{}")
    assert main([str(other), "--release", str(tmp_path / "missing.ipynb")]) == 2
    assert "--release" in capsys.readouterr().err


@pytest.mark.parametrize("name", [NAME, "Copy of multiclass_digits.ipynb", "multiclass_digits (1).ipynb",
                                  "multiclass_digits-2.ipynb", "homework.ipynb"])
def test_the_release_is_found_for_names_that_downloads_and_copies_give(tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the course folder: its nbgrader_config.py imports all of nbgrader
    assert find_release(tmp_path / name) == RELEASE_NB


def test_on_jupyterhub_the_release_is_found_in_nbgraders_exchange(tmp_path):
    outbound = tmp_path / "exchange" / "ml-101" / "outbound" / "week3"
    outbound.mkdir(parents=True)
    (outbound / "week3_lab.ipynb").write_bytes(RELEASE_NB.read_bytes())
    fetched = tmp_path / "home" / "week3"  # what the Assignments tab fetched
    fetched.mkdir(parents=True)
    (fetched / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'ml-101'\nc.Exchange.root = {str(tmp_path / 'exchange')!r}\n")
    assert find_release(fetched / "week3_lab.ipynb") == outbound / "week3_lab.ipynb"
    assert find_release(fetched / "Copy of week3_lab.ipynb") == outbound / "week3_lab.ipynb"
