"""grading.extensions.cells: a cell's nbgrader marks."""
from __future__ import annotations

import nbformat
from helpers.courses import toy_source

from grading.extensions.cells import grade_id


def test_grade_id():
    nb = toy_source()
    assert [grade_id(c) for c in nb.cells][:2] == ["setup", "my_add"]
    assert grade_id(nbformat.v4.new_code_cell("x = 1")) is None
