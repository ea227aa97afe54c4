"""StripRunState: a release free of what running the source notebook left (widget state, timestamps)."""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

#: Cell metadata that only records how the instructor's copy was run.
RUN_STATE_CELL_KEYS = ("execution", "collapsed", "scrolled")


class StripRunState(NbGraderPreprocessor):
    """Remove what executing the source notebook left behind, beyond outputs.

    nbgrader's ClearOutput empties outputs and execution counts, but keeps the
    notebook-level ``metadata.widgets`` (ipywidgets/ipympl state, including the
    figures' PNGs) and the per-cell ``metadata.execution`` timestamps that nbclient
    records. Both would leak the solution's figures and make the release differ
    from run to run.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        for key in RUN_STATE_CELL_KEYS:
            cell.metadata.pop(key, None)
        return cell, resources
