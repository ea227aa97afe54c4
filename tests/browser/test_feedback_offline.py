"""The feedback page of the lab in a real Chromium with the network off, from the committed source
notebook (run whole, its widget state saved) exported as ``nbgrader generate_feedback`` does with the
course's config: the quick check of what tests/test_graded_lab.py's end-to-end run checks on the
reference submission's real page. The page's screenshot goes to artifacts/browser/."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers.feedback_page import assert_reads_offline, course_feedback_page
from helpers.repo import SOURCE_NB


@pytest.mark.browser
def test_the_lab_feedback_page_reads_offline(tmp_path: Path, artifacts_dir: Path) -> None:
    page = tmp_path / "multiclass_digits.html"
    page.write_text(course_feedback_page(nbformat.read(SOURCE_NB, as_version=4)), encoding="utf-8")
    assert_reads_offline(page, artifacts_dir / "feedback_offline.png")
