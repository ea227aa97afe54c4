"""LimitOutputBytes: every output cut to a bounded size (nbgrader's LimitOutput counts lines only)."""

from __future__ import annotations

from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer


class LimitOutputBytes(NbGraderPreprocessor):
    """Cut every output to at most ``max_bytes`` characters per text field, with a note.

    nbgrader's LimitOutput counts lines only: one print of a 100 MB line would reach the
    autograded notebook and the feedback whole. Figures' embedded PNGs stay far below
    the default limit.
    """

    max_bytes = Integer(1_000_000, help="Longest text kept in one output field").tag(config=True)

    def _cut(self, text: Any) -> Any:
        if isinstance(text, list):
            text = "".join(text)
        if not isinstance(text, str) or len(text) <= self.max_bytes:
            return text
        return text[: self.max_bytes] + f"\n[... output cut: {len(text) - self.max_bytes} more characters]\n"

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = self._cut(output["text"])
            if "evalue" in output:
                output["evalue"] = self._cut(output["evalue"])
            if "traceback" in output:
                output["traceback"] = [self._cut(line) for line in output["traceback"]]
            for mime, value in list(output.get("data", {}).items()):
                if isinstance(value, (str, list)):
                    output["data"][mime] = self._cut(value)
        return cell, resources
