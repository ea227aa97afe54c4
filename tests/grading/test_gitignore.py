"""Everything ``python -m grading`` writes into a course folder (the gradebook, autograded
notebooks, the summary, the report and its histogram, the notes) is student data that the
repository's .gitignore keeps out of commits: checked on the files of the lab batch."""
from __future__ import annotations

import pytest
from helpers.repo import not_ignored


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_grader_writes_nothing_that_git_would_commit(lab_batch) -> None:
    written = sorted(p.relative_to(lab_batch.course).as_posix()
                     for p in lab_batch.course.rglob("*") if p.is_file())
    for expected in ("gradebook.db", "autograded/multiclass_digits_summary.csv",
                     "autograded/multiclass_digits_report.md", "autograded/multiclass_digits_scores.png"):
        assert expected in written, expected
    assert any(name.endswith(".notes.txt") for name in written)
    assert not_ignored(lab_batch.course) == []
