"""grading.batch.rebuild: only answer-cell sources come from the student."""
from __future__ import annotations

import nbformat
from helpers.courses import TOY_MUL, toy_source, toy_submission
from helpers.faults import strip_hidden_tests

from grading.batch.rebuild import rebuild_notebook


def _release_like(nb):
    rel = strip_hidden_tests(nb)
    for cell in rel.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "raise NotImplementedError()"
    return rel


def test_rebuild_takes_only_answer_sources_from_the_student():
    release = _release_like(toy_source())
    sub = toy_submission(add="def my_add(a, b):\n    return 42\n")
    sub.cells[2].source = "pass"  # edited locked test cell
    del sub.cells[4]  # deleted test cell
    sub.cells.insert(1, nbformat.v4.new_code_cell("def test_helper():\n    pass"))  # extra cell
    rebuilt, notes = rebuild_notebook(release, sub)
    sources = [c.source for c in rebuilt.cells]
    assert sources[1] == "def my_add(a, b):\n    return 42\n"
    assert sources[2] == release.cells[2].source and sources[4] == release.cells[4].source
    assert sources[3] == TOY_MUL
    assert len(rebuilt.cells) == len(release.cells)
    assert "edited read-only cells restored: test_my_add" in notes
    assert "deleted cells restored: test_my_mul" in notes
    assert "1 extra cell(s) not graded" in notes
    assert release.cells[1].source == "raise NotImplementedError()"  # release left untouched


def test_rebuild_missing_answer_keeps_the_stub_and_says_so():
    release = _release_like(toy_source())
    sub = toy_submission()
    sub.cells[1].metadata.pop("nbgrader")
    sub.cells[1]["id"] = "someotherid"
    rebuilt, notes = rebuild_notebook(release, sub)
    assert rebuilt.cells[1].source == "raise NotImplementedError()"
    assert "answer cell my_add missing" in notes
