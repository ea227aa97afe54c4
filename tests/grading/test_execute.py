"""grading.execute (GuardedExecute) end to end: every fault and cheat of tests/helpers/faults.py
gets the fair score, in the same sandboxed batch as honest students (conftest.lab_batch)."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from grading.batch.gradebook import sqlite_url
from grading.extensions.hiddenblocks import hidden_lines
from helpers.feedback import leaked_lines
from grading.processes import nbgrader_env
from helpers.courses import gradebook_scores
from helpers.faults import CASES, Case
from helpers.notebooks import read_cell
from helpers.repo import LAB
from helpers.submissions import EXPECTED_SCORES, LEAK_ATTEMPTS, SUBMISSIONS

COURSE_ID = "multiclass-digits"


def stored_scores(batch) -> dict:
    return gradebook_scores(sqlite_url(batch.course / "gradebook.db"), COURSE_ID, LAB)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.sandbox
def test_fault_outcome_is_fair(lab_batch, case: Case):
    stored = stored_scores(lab_batch)
    res = lab_batch.results[case.name]
    assert stored[case.name] == case.expected, (case.name, res.notes)
    assert res.score == sum(case.expected.values()) and res.max_score == 20
    joined = "; ".join(res.notes)
    for fragment in case.notes:
        assert fragment in joined, (case.name, fragment, joined)


@pytest.mark.slow
@pytest.mark.sandbox
def test_ordinary_submissions_in_the_batch_are_graded_correctly(lab_batch):
    stored = stored_scores(lab_batch)
    for kind, expected in EXPECTED_SCORES.items():
        res = lab_batch.results[f"lab_{kind}"]
        assert stored[f"lab_{kind}"] == expected, (kind, res.notes)
        assert res.status == "ok"


@pytest.mark.slow
@pytest.mark.sandbox
def test_batch_gradebook_consistent_and_course_files_untouched(lab_batch):
    assert lab_batch.data_after == lab_batch.data_before
    stored = stored_scores(lab_batch)
    everyone = [c.name for c in CASES + lab_batch.escapes] + [f"lab_{k}" for k in SUBMISSIONS]
    assert sorted(stored) == sorted(everyone) == sorted(lab_batch.results)
    assert all(set(g) == {"test_my_softmax", "test_model"} for g in stored.values())
    # the guard is silent for honest work: it only undoes what an answer cell changed
    for honest in ("good", "wrong_softmax", "deleted_test_good", "stderr_flood",
                   *(f"lab_{k}" for k in SUBMISSIONS if k not in LEAK_ATTEMPTS)):
        assert not any("GUARD-UNDONE" in n for n in lab_batch.results[honest].notes), \
            lab_batch.results[honest].notes
    # the leak attempt's spying hook is undone before every test cell and hidden block
    assert any("GUARD-UNDONE: IPython event pre_run_cell" in n for n in lab_batch.results["lab_leak_hooks"].notes)
    flood = read_cell(lab_batch.course / "autograded" / "stderr_flood" / LAB / f"{LAB}.ipynb", "my_model")
    assert sum(o.get("text", "").count("\n") for o in flood.outputs) <= 200 + 2  # LimitOutput


@pytest.mark.slow
@pytest.mark.sandbox
def test_feedback_after_the_batch_shows_no_hidden_test_line(lab_batch):
    course = lab_batch.course
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", LAB, "--force"],
                          cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = hidden_lines(nbformat.read(course / "source" / LAB / f"{LAB}.ipynb", as_version=4))
    pages = sorted((course / "feedback").glob(f"*/{LAB}/{LAB}.html"))
    assert len(pages) >= len(SUBMISSIONS) and len(lines) >= 30
    for page in pages:
        assert leaked_lines(page.read_text(), lines) == [], page.parent.parent.name
    lookup = (course / "feedback" / "lab_public_lookup" / LAB / f"{LAB}.html").read_text()
    assert "Hidden test failed" in lookup and "the public test does not try" in lookup
