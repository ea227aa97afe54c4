"""grading.extensions.feedbackpage (FeedbackPageExporter and its template): the table of contents of
a feedback page names each graded test after its exercise, with its score; long lines wrap."""
from __future__ import annotations

import html
import re

import nbformat

from helpers.feedback_page import course_feedback_page


def _cell(kind: str, source: str, grade_id: str, **marks: object) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": False, "locked": True,
                                 "schema_version": 3, "task": False, **marks}
    return cell


def _lab() -> nbformat.NotebookNode:
    """The lab's graded cells in its order: an answer, then its test, twice."""
    return nbformat.v4.new_notebook(cells=[
        _cell("markdown", "### Exercise 1", "exercise1_md"),
        _cell("code", "def my_softmax(z):\n    return z", "my_softmax", solution=True, locked=False),
        _cell("code", "test_my_softmax(my_softmax)", "test_my_softmax", grade=True, points=10),
        _cell("code", "model = Sequential([])", "my_model", solution=True, locked=False),
        _cell("code", "test_model(model, 10, 400)", "test_model", grade=True, points=10),
        _cell("code", "print('" + "a long line of output " * 30 + "')", "long_line"),
    ])


def test_the_table_of_contents_names_each_test_after_its_exercise_with_its_score():
    page = course_feedback_page(_lab(), score={"test_my_softmax": 10, "test_model": 2.5})
    toc = html.unescape(re.sub(r"<[^>]+>", "", page.split('<div id="toc">')[1].split("</div>")[0]))
    assert [line.strip() for line in toc.splitlines() if line.strip()] == [
        "Exercise 1: my_softmax, 10/10", "Exercise 2: my_model, 2.5/10"]
    assert "Test cell" not in page
    assert '<a href="#test_my_softmax">' in page and '<a name="test_my_softmax"></a>' in page
    assert "(Score: 12.5 / 20.0)" in page  # the page's total, as nbgrader writes it


def test_long_lines_wrap_and_the_page_loads_no_script():
    page = course_feedback_page(_lab())
    assert "#notebook pre, #notebook code { white-space: pre-wrap; overflow-wrap: anywhere; }" in page
    assert "<script" not in page


def test_the_course_regenerates_existing_feedback_pages(tmp_path):
    """After a regrade the autograded notebook keeps the submission's timestamp, so nbgrader
    (without --force) would keep the old page ("Skipping existing assignment")."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    from helpers.repo import ROOT

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    for folder in ("autograded", "feedback"):
        (tmp_path / folder / "alice" / "hw").mkdir(parents=True)
        (tmp_path / folder / "alice" / "hw" / "timestamp.txt").write_text("2026-01-01 10:00:00\n")
    old = tmp_path / "feedback" / "alice" / "hw" / "hw.html"
    old.write_text("the page of the first grading")
    cfg.CourseDirectory.root = str(tmp_path)
    converter = GenerateFeedback(coursedir=CourseDirectory(config=cfg), config=cfg)
    assert converter.init_destination("hw", "alice") is True  # nbgrader converts alice again
    assert not old.exists()
    assert cfg.GenerateFeedback.get("force") is True  # the course's setting, not nbgrader's default
