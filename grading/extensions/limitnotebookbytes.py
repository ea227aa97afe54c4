"""LimitNotebookBytes: a byte budget for all the outputs of a notebook, past which they are cut.

LimitOutputBytes bounds each output, not how many there are: a hundred displays of 0.9 MB each
made an 87 MB autograded notebook, which the coordinator holds in memory, writes to
``autograded/`` and renders as feedback.
"""

from __future__ import annotations

import json
from typing import Any

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from grading.extensions.cells import is_test


def output_bytes(output: Any) -> int:
    """The bytes ``output`` takes in a notebook file (JSON, UTF-8, as nbformat writes it)."""
    return len(json.dumps(output, ensure_ascii=False).encode("utf-8"))


def cut_note(count: int, size: int, budget: int) -> NotebookNode:
    """The output that stands for ``count`` outputs (``size`` bytes) cut from a cell."""
    return nbformat.v4.new_output(
        "stream",
        name="stdout",
        text=(
            f"[... {count} output(s) of this cell cut ({size / 1e6:.1f} MB): the notebook's outputs "
            f"are over their budget of {budget / 1e6:.1f} MB (LimitNotebookBytes.max_bytes) ...]\n"
        ),
    )


class LimitNotebookBytes(NbGraderPreprocessor):
    """Keep the outputs of a notebook, in order, until they add up to ``max_bytes``; cut every
    output after that, each cell that loses some getting one note that says how much.

    Test cells are never cut and not counted: their outputs are the grader's verdict (a line,
    or one error message: see JudgedExecute), and cutting one would change its score.
    """

    max_bytes = Integer(
        16_000_000,
        help="Bytes of outputs kept in one notebook (test cells' "
        "verdicts not counted); later outputs are cut with a note",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        spent, full = 0, False
        for cell in nb.cells:
            outputs = cell.get("outputs")
            if not outputs or is_test(cell):
                continue
            kept, cut, cut_size = [], 0, 0
            for output in outputs:
                size = output_bytes(output)
                if not full and spent + size <= self.max_bytes:
                    kept.append(output)
                    spent += size
                else:
                    full = True
                    cut += 1
                    cut_size += size
            if cut:
                cell.outputs = kept + [cut_note(cut, cut_size, self.max_bytes)]
        if full:
            self.log.warning("outputs over the notebook's budget of %d bytes were cut", self.max_bytes)
        return nb, resources
