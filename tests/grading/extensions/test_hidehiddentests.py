"""grading.extensions.hidehiddentests (HideHiddenTests): feedback shows no line of hidden-test
source: a hand-made notebook whose outputs hold some, and the feedback of the session batch's
submissions (leak attempts included)."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbconvert.exporters.exporter import ResourcesDict

from grading.extensions.hiddenblocks import hidden_lines
from grading.extensions.hidehiddentests import HIDDEN_NOTE, WITHHELD, HideHiddenTests
from grading.processes import nbgrader_env
from helpers.feedback import leaked_lines
from helpers.repo import LAB
from helpers.submissions import SUBMISSIONS


@pytest.mark.slow
@pytest.mark.sandbox
def test_feedback_after_the_batch_shows_no_hidden_test_line(lab_batch):
    course = lab_batch.course
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", LAB, "--force"],
                          cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = hidden_lines(nbformat.read(course / "source" / LAB / f"{LAB}.ipynb", as_version=4))
    pages = sorted((course / "feedback").glob(f"*/{LAB}/{LAB}.html"))
    assert len(pages) >= len(SUBMISSIONS) and len(lines) >= 10
    for page in pages:
        assert leaked_lines(page.read_text(), lines) == [], page.parent.parent.name
    lookup = (course / "feedback" / "lab_public_lookup" / LAB / f"{LAB}.html").read_text()
    assert "Hidden test failed" in lookup and "the public test does not try" in lookup


def _feedback_notebook() -> nbformat.NotebookNode:
    """An autograded notebook as generate_feedback reads it: whole test cells, outputs a
    submission could have made print hidden-test source."""
    nb = nbformat.v4.new_notebook()
    hidden_line = "_probe = np.linspace(-3, 3, 7)"
    test = nbformat.v4.new_code_cell(
        f"test_my_softmax(my_softmax)\n### BEGIN HIDDEN TESTS\n{hidden_line}\n"
        "assert my_softmax(_probe).sum() == 1\n### END HIDDEN TESTS")
    test.metadata["nbgrader"] = {"grade_id": "test_my_softmax", "grade": True, "solution": False,
                                 "locked": True, "points": 10, "schema_version": 3, "task": False}
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="All tests passed!\n")]
    spy = nbformat.v4.new_code_cell("print(open('lab.ipynb').read())")
    spy.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"... {hidden_line} ...\n"),
                   nbformat.v4.new_output("display_data", data={"text/plain": f"'{hidden_line}'"}),
                   nbformat.v4.new_output("stream", name="stdout", text="harmless\n")]
    markdown = nbformat.v4.new_markdown_cell("![x](attachment:a.png)")
    markdown.attachments = {"a.png": {"text/plain": hidden_line}, "b.png": {"image/png": "iVBO"}}
    nb.cells = [test, spy, markdown]
    nb.metadata["widgets"] = {"state": {"model": {"value": hidden_line}}}
    return nb


def test_feedback_shows_a_note_for_each_hidden_block_and_withholds_what_holds_its_source():
    nb, _ = HideHiddenTests().preprocess(_feedback_notebook(), ResourcesDict())
    test, spy, markdown = nb.cells
    assert test.source == "test_my_softmax(my_softmax)\n" + HIDDEN_NOTE
    assert test.outputs[0].text == "All tests passed!\n"
    assert [o.get("text") for o in spy.outputs] == [WITHHELD, WITHHELD, "harmless\n"]
    assert list(markdown.attachments) == ["b.png"]
    assert "widgets" not in nb.metadata
