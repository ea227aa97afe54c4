"""The plain path: a real ``nbgrader autograde`` of a course with the repository's
nbgrader_config.py (no sandbox, no grading batch). A wrong softmax whose every call emits an
execute_result (nbgrader's partial-credit reading) scores what it earns, 10/20, and a hundred
large displays are cut to the notebook's output budget.

To stay cheap, the two submissions drop the lab's cells after its last test cell (training,
predictions): plain nbgrader grades the cells a notebook has, and no test reads those.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grading.batch.gradebook import sqlite_url
from grading.processes import nbgrader_env
from helpers.courses import gradebook_scores, lab_base, lab_course, submit
from helpers.faults import NO_SOFTMAX, student_notebook
from helpers.forgeries import ForgeTargets, forgery_cases
from helpers.notebooks import find_cell
from helpers.repo import LAB

pytestmark = pytest.mark.slow

PLAIN = ("forge_partial_credit", "forge_outputs")


def _nbgrader(*args: str, cwd: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_plain_nbgrader_scores_no_output_of_student_code(tmp_path):
    course = lab_course(tmp_path / "course", mechanics=True)  # with the repository's nbgrader_config.py
    _nbgrader("generate_assignment", LAB, "--force", cwd=course)
    base = lab_base(mechanics=True)
    cases = {c.name: c for c in forgery_cases(ForgeTargets("", "", "")) if c.name in PLAIN}
    for name, case in cases.items():
        nb = student_notebook(base, case)
        nb.cells = nb.cells[: nb.cells.index(find_cell(nb, "test_model")) + 1]
        submit(course, LAB, name, nb)
    _nbgrader("autograde", LAB, "--force", cwd=course)
    scores = gradebook_scores(sqlite_url(course / "gradebook.db"), "multiclass-digits", LAB)
    assert scores == {name: NO_SOFTMAX for name in PLAIN}, scores
    notebook = course / "autograded" / "forge_outputs" / LAB / f"{LAB}.ipynb"
    assert notebook.stat().st_size <= 18 << 20, notebook.stat().st_size  # 90 MB of displays
    cut = [(c.metadata.get("nbgrader", {}).get("grade_id"), o.text)
           for c in nbformat.read(notebook, as_version=4).cells for o in c.get("outputs", [])
           if "output(s) of this cell cut" in o.get("text", "")]
    # the answer cell's displays spend the budget; a later figure may be cut too (it is over it)
    assert cut and cut[0][0] == "my_softmax", cut
