"""grading.extensions.guardedexecute (GuardedExecute) end to end: every fault and cheat of
tests/helpers/faults.py gets the fair score, in the same sandboxed batch as honest students
(conftest.lab_batch)."""
from __future__ import annotations

import pytest
from helpers.courses import gradebook_scores
from helpers.faults import CASES, Case
from helpers.repo import LAB

from grading.batch.gradebook import sqlite_url

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
