"""Temporary course folders for the grading tests: a toy nbgrader assignment, the graded lab,
submissions, gradebook reads, and the processes a batch may leave behind."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import nbformat
import psutil

from helpers.faults import strip_hidden_tests
from helpers.notebooks import grade_id, mechanics_lab
from helpers.repo import LAB, RELEASE_NB, ROOT, SOURCE_NB

def _cell(src: str, gid: str | None = None, kind: str | None = None,
          points: float = 0) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(src)
    if gid:
        meta = {"grade_id": gid, "locked": kind != "solution", "schema_version": 3,
                "solution": kind == "solution", "grade": kind == "test", "task": False}
        if kind == "test":
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
    return cell


TOY_ADD = "def my_add(a, b):\n    return a + b\n"
TOY_MUL = "def my_mul(a, b):\n    return a * b\n"


def toy_source() -> nbformat.NotebookNode:
    """A two-exercise nbgrader notebook that runs in a second: my_add (2 points), my_mul (3)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("import numpy as np", "setup", "readonly"),
        _cell("def my_add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
              "my_add", "solution"),
        _cell("assert my_add(1, 2) == 3\n### BEGIN HIDDEN TESTS\n"
              "assert np.allclose(my_add(np.ones(3), np.ones(3)), 2)\n### END HIDDEN TESTS",
              "test_my_add", "test", 2),
        _cell("def my_mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION",
              "my_mul", "solution"),
        _cell("assert my_mul(2, 3) == 6\n### BEGIN HIDDEN TESTS\nassert my_mul(-1, 4) == -4\n"
              "### END HIDDEN TESTS", "test_my_mul", "test", 3),
    ]
    return nb


def toy_submission(add: str = TOY_ADD, mul: str = TOY_MUL) -> nbformat.NotebookNode:
    """The toy notebook with the student's ``my_add`` and ``my_mul`` cells replaced."""
    nb = toy_source()
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid == "my_add":
            cell.source = add
        elif gid == "my_mul":
            cell.source = mul
    return nb


#: the toy courses' settings: their test cells are plain asserts, not the lab's judged tests, so
#: their verdicts are the kernel's (grading.extensions.judgedexecute.JudgedExecute.kernel_verdicts)
TOY_CONFIG = "c = get_config()\nc.JudgedExecute.kernel_verdicts = True\n"


def make_course(root: Path, assignment: str, source_nb: nbformat.NotebookNode,
                config: str = TOY_CONFIG) -> Path:
    """A course folder at ``root`` with ``source_nb`` as the source of ``assignment``."""
    (root / "source" / assignment).mkdir(parents=True)
    nbformat.write(source_nb, root / "source" / assignment / f"{assignment}.ipynb")
    (root / "nbgrader_config.py").write_text(config, encoding="utf-8")
    return root


def submit(course: Path, assignment: str, student: str, nb: nbformat.NotebookNode) -> None:
    """Put ``nb`` in ``course/submitted/<student>/<assignment>/`` (the folder must be new)."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


def gradebook_scores(db_url: str, course_id: str, assignment: str) -> dict[str, dict[str, float]]:
    """{student: {grade_id: score}} read back with nbgrader's own API."""
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float]] = {}
    with Gradebook(db_url, course_id) as gb:
        for sub in gb.assignment_submissions(assignment):
            out[sub.student.id] = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
    return out


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def descendants() -> list[psutil.Process]:
    """Every process below this test process."""
    return psutil.Process().children(recursive=True)


def live_kernels() -> list[str]:
    """Command lines of ipykernel processes still running below this test process."""
    found = []
    for proc in descendants():
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:  # exited (or became a zombie) while we looked
            continue
        if "ipykernel" in cmdline:
            found.append(cmdline)
    return found


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (started with ``start_new_session``) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def lab_base(mechanics: bool = False) -> nbformat.NotebookNode:
    """What students start from: the release notebook of the graded lab (``mechanics``: as
    :func:`mechanics_lab` makes it)."""
    if RELEASE_NB.is_file():
        nb = nbformat.read(RELEASE_NB, as_version=4)
    else:
        nb = strip_hidden_tests(nbformat.read(SOURCE_NB, as_version=4))
    return mechanics_lab(nb) if mechanics else nb


def lab_course(root: Path, mechanics: bool = False) -> Path:
    """A course folder with the graded lab's source and the course's nbgrader config
    (``mechanics``: the source as :func:`mechanics_lab` makes it; give its students
    ``lab_base(mechanics=True)``)."""
    (root / "source").mkdir(parents=True)
    shutil.copytree(ROOT / "source" / LAB, root / "source" / LAB)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    if mechanics:
        path = root / "source" / LAB / f"{LAB}.ipynb"
        nbformat.write(mechanics_lab(nbformat.read(path, as_version=4)), path)
    return root


def skip_tail_in(course: Path) -> None:
    """Make ``nbgrader autograde`` in ``course`` leave the cells after the last test unrun
    (``JudgedExecute.skip_after_last_grade``, as docs/instructors.md tells instructors)."""
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write("\nc.JudgedExecute.skip_after_last_grade = True\n")
