"""Cells of nbgrader notebooks, found by their grade id, and what they printed."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import nbformat


def grade_id(cell: Mapping) -> str | None:
    """The nbgrader grade_id of a cell, or None for a cell nbgrader does not track."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def find_cell(nb: nbformat.NotebookNode, gid: str) -> nbformat.NotebookNode:
    """The first cell whose grade_id is ``gid``; KeyError naming it if there is none."""
    for cell in nb.cells:
        if grade_id(cell) == gid:
            return cell
    raise KeyError(gid)


def stream_text(cell: Mapping, name: str | None = None) -> str:
    """Everything a code cell printed (stream outputs), or only ``name`` ("stdout"/"stderr")."""
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and (name is None or o.get("name") == name))


def read_cell(path: Path, gid: str) -> nbformat.NotebookNode:
    """Cell ``gid`` of the notebook at ``path`` (e.g. one student's autograded notebook)."""
    return find_cell(nbformat.read(path, as_version=4), gid)


#: Cells of the graded lab that only draw for the student (about half of a submission's cell
#: time before the last test): tests of grading mechanics grade the lab without them.
FIGURE_CELLS = frozenset({"relu_plot", "softmax_layer", "softmax_sliders", "random_digits", "network_diagram"})


def mechanics_lab(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` (the lab's source or release) for tests of grading mechanics: the same graded
    cells, tests and judges, without the figure cells and without the cells after the last
    test (training, the held-out set), which no score reads. The lab itself is tested whole
    (tests/test_graded_lab.py, tests/test_notebooks.py, tests/browser)."""
    out = copy.deepcopy(nb)
    last = max(i for i, c in enumerate(out.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    out.cells = [c for c in out.cells[: last + 1] if grade_id(c) not in FIGURE_CELLS]
    return out
