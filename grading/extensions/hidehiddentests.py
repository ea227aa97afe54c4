"""HideHiddenTests: feedback without hidden-test source (each block a note, leaking outputs withheld)."""

from __future__ import annotations

from collections.abc import Iterable

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode

from grading.extensions.feedbackpage import FeedbackPreprocessor
from grading.extensions.hiddenblocks import hidden_lines, split_hidden

#: What feedback shows in place of a hidden block.
HIDDEN_NOTE = "# (hidden tests: the autograder runs them; their result is shown below)"
WITHHELD = "[output withheld from feedback: it contained the autograder's hidden test code]\n"


class HideHiddenTests(FeedbackPreprocessor):
    """For generate_feedback: hidden blocks become a one-line note, and any output that
    contains a line of hidden-test source is withheld (a second line of defence)."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        lines = hidden_lines(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                public, hidden = split_hidden(cell.source)
                if hidden is not None:
                    cell.source = public + "\n" + HIDDEN_NOTE
                cell.outputs = [self._screen(o, lines) for o in cell.get("outputs", [])]
            for name, att in list(cell.get("attachments", {}).items()):
                if _contains(str(att), lines):
                    del cell.attachments[name]
        if _contains(str(nb.metadata.get("widgets", "")), lines):
            nb.metadata.pop("widgets", None)
        return nb, resources

    def _screen(self, output: NotebookNode, lines: list[str]) -> NotebookNode:
        if not _contains(_output_text(output), lines):
            return output
        self.log.warning("feedback: withheld an output that contained hidden-test source")
        return nbformat.v4.new_output("stream", name="stdout", text=WITHHELD)


def _output_text(output: NotebookNode) -> str:
    parts: list[str] = [str(output.get("text", "")), str(output.get("evalue", ""))]
    parts += [str(t) for t in output.get("traceback", [])]
    parts += [str(v) for v in output.get("data", {}).values()]
    return "\n".join(parts)


def _contains(text: str, lines: Iterable[str]) -> bool:
    return any(line in text for line in lines)
