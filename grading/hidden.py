"""Hidden tests that stay hidden: run them last at autograde, keep them out of feedback.

nbgrader's feedback is the autograded notebook rendered to HTML, hidden tests and all
(nbgrader issue #917). Scrubbing the HTML afterwards cannot catch a student's code that
prints the hidden source in an encoded form, so the design keeps the source away from
anything that reaches feedback:

1. :class:`HiddenTestsLast` (autograde, in place of nbgrader's ``Execute``) runs every
   cell with its hidden-test block removed: the outputs that feedback shows all come from
   a kernel that has not yet received a line of hidden-test code. Then, in a final phase,
   it runs the hidden blocks of the test cells whose public part passed. Nothing that
   phase produces (outputs, display updates, widget state) is kept: the grader keeps only
   a verdict per cell. A failed block adds one error output to its test cell (so
   nbgrader's SaveAutoGrades scores it 0, as it would have) whose text comes from the
   source notebook, not from the kernel: the hidden test's own message when the kernel
   reported it word for word, else a generic sentence. Student code can therefore
   influence feedback during that phase only by choosing among a handful of fixed
   sentences per cell.
2. :class:`HideHiddenTests` (generate_feedback) replaces each hidden block in the cell
   sources with a one-line note and, as a second line of defence, withholds any output
   that contains a line of hidden-test source (e.g. a submission that read the source
   notebook from disk: only an OS sandbox, as in ``python -m grading``, prevents that).

The hidden blocks therefore check the state the whole notebook leaves (the test cell's
objects as the last cell left them), which for this lab is the state each test cell saw:
later cells are read-only and only train the model.
"""
from __future__ import annotations

import ast
import copy
import html
import re
from typing import Any, Iterable

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade

BEGIN = "### BEGIN HIDDEN TESTS"
END = "### END HIDDEN TESTS"
_BLOCK = re.compile(r"^[ \t]*" + re.escape(BEGIN) + r"[^\n]*\n(.*?)^[ \t]*" + re.escape(END) + r"[^\n]*\n?",
                    re.S | re.M)

#: ename of the error output added to a test cell whose hidden tests failed.
HIDDEN_FAILED = "HiddenTestFailed"
#: What feedback shows in place of a hidden block.
HIDDEN_NOTE = "# (hidden tests: the autograder runs them; their result is shown below)"
WITHHELD = "[output withheld from feedback: it contained the autograder's hidden test code]\n"
#: Exception names that may be named in feedback (a fixed list: the kernel cannot add to it).
KNOWN_ERRORS = frozenset({
    "AssertionError", "AttributeError", "IndexError", "KeyError", "NameError", "NotImplementedError",
    "RecursionError", "RuntimeError", "TypeError", "ValueError", "ZeroDivisionError",
    "FloatingPointError", "OverflowError", "MemoryError", "InvalidArgumentError",
})
GENERIC = "a hidden test of this cell failed."
KERNEL_STOPPED = "the Python kernel stopped while the hidden tests ran, so they could not pass."
TIMED_OUT = "the hidden tests did not finish in time (an endless loop, or very slow code?)."
STDERR = "your code wrote to the error stream (stderr) while the hidden tests ran; nbgrader scores that 0."
TAMPERED = "the grading environment was changed by the notebook, so the hidden tests could not be trusted."


def split_hidden(source: str) -> tuple[str, str | None]:
    """Split a test cell's source into (public part, hidden block or None).

    The hidden block is what lies between the ``### BEGIN HIDDEN TESTS`` and
    ``### END HIDDEN TESTS`` lines (several blocks are joined). Raises ValueError for a
    BEGIN without its END, so a malformed source notebook fails loudly.
    """
    blocks = _BLOCK.findall(source)
    public = _BLOCK.sub("", source)
    if BEGIN in public or END in public:
        raise ValueError(f"unmatched {BEGIN!r} / {END!r} in a test cell")
    if not blocks:
        return source, None
    return public.rstrip("\n"), "\n".join(blocks)


def hidden_messages(hidden: str) -> set[str]:
    """The teaching messages a hidden block can fail with: its literal ``assert`` messages
    and the literal arguments of the exceptions it raises."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(hidden)):
        msg = None
        if isinstance(node, ast.Assert):
            msg = node.msg
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            msg = node.exc.args[0]
        if isinstance(msg, ast.Constant) and isinstance(msg.value, str):
            found.add(msg.value)
    return found


def hidden_lines(nb: NotebookNode, min_chars: int = 12) -> list[str]:
    """Distinctive lines of the notebook's hidden blocks (stripped, at least ``min_chars``
    long and not found in the cells' public parts): what must never reach a student.

    Lines that are only a string (the continuation of an assert message) are left out:
    those messages are written to be shown when the test fails."""
    public = "\n".join(split_hidden(c.source)[0] for c in nb.cells)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        hidden = split_hidden(cell.source)[1]
        for line in (hidden or "").splitlines():
            text = line.strip()
            if text[:1] in "\"'" or text[:2] in ('f"', "f'"):
                continue
            if len(text) >= min_chars and re.search(r"[A-Za-z]", text) and text not in public:
                lines.append(text)
    return lines


def leaked_lines(page: str, lines: list[str]) -> list[str]:
    """The ``lines`` (from :func:`hidden_lines`) found in a feedback page, as markup or as
    the text the page shows (tags removed, entities decoded): an audit for feedback."""
    shown = html.unescape(re.sub(r"<[^>]+>", "", page))
    return [line for line in lines if line in page or line in shown or html.escape(line) in page]


def failure_output(grade_id: str, message: str) -> NotebookNode:
    """The one error output that tells a student a hidden test of ``grade_id`` failed."""
    return nbformat.v4.new_output(
        "error", ename=HIDDEN_FAILED, evalue=message,
        traceback=[
            f"\x1b[0;31mHidden test failed\x1b[0m in graded cell {grade_id!r}.",
            "The public tests of this cell passed, but a hidden test (one the autograder adds, "
            "with inputs you have not seen) did not:",
            f"    {message}",
        ],
    )


def _failed(cell: NotebookNode) -> bool:
    return any(o.get("output_type") == "error" or (o.get("output_type") == "stream" and o.get("name") == "stderr")
               for o in cell.get("outputs", []))


class HiddenTestsLast(Execute):
    """nbgrader's Execute, with every hidden-test block run in a final phase whose raw
    output is discarded (see the module docstring). Configure it in place of ``Execute`` in
    ``c.Autograde.autograde_preprocessors``."""

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
        self._hidden_blocks: dict[int, tuple[str, str, set[str]]] = {}
        full: dict[int, str] = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and is_grade(cell):
                public, hidden = split_hidden(cell.source)
                if hidden is not None:
                    gid = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
                    self._hidden_blocks[index] = (gid, hidden, hidden_messages(hidden))
                    full[index] = cell.source
                    cell.source = public
        try:
            return self._execute_then_hidden(nb, resources, km)
        finally:
            for index, source in full.items():  # the instructor's copy keeps the whole cell
                nb.cells[index].source = source

    def _execute_then_hidden(self, nb: NotebookNode, resources: Any, km: Any):
        # nbconvert's ExecutePreprocessor.preprocess, with the final phase added while the
        # kernel is still running.
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        with self.setup_kernel():
            info_msg = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
            for index, cell in enumerate(self.nb.cells):
                self.preprocess_cell(cell, resources, index)
            self.run_hidden_tests()
        self.set_widgets_metadata()
        return self.nb, self.resources

    def run_hidden_tests(self) -> dict[str, str | None]:
        """Run each pending hidden block; return {grade_id: failure message or None}."""
        kept = ([copy.deepcopy(c.get("outputs")) for c in self.nb.cells],
                copy.deepcopy(self.widget_state), copy.deepcopy(self.widget_buffers),
                copy.deepcopy(self._display_id_map))
        verdicts: dict[int, str | None] = {}
        stopped = False
        for index, (gid, hidden, messages) in self._hidden_blocks.items():
            if _failed(self.nb.cells[index]):
                continue  # the public part already failed: the cell scores 0 anyway
            if stopped:
                verdicts[index] = KERNEL_STOPPED
                continue
            verdict, stopped = self._run_block(hidden, index, messages)
            verdicts[index] = verdict
        # whatever the final phase printed, displayed or updated is dropped
        outputs, self.widget_state, self.widget_buffers, self._display_id_map = kept
        for cell, saved in zip(self.nb.cells, outputs):
            if saved is not None:
                cell.outputs = saved
        for index, message in verdicts.items():
            if message is not None:
                self.nb.cells[index].outputs.append(failure_output(self._hidden_blocks[index][0], message))
        return {self._hidden_blocks[i][0]: m for i, m in verdicts.items()}

    def before_hidden_block(self, index: int) -> bool:
        """Hook run before each hidden block; False means the block cannot be trusted."""
        return True

    def _run_block(self, hidden: str, index: int, messages: set[str]) -> tuple[str | None, bool]:
        """Run one hidden block; return (failure message or None, whether the kernel stopped)."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if not self.before_hidden_block(index):
            return TAMPERED, False
        cell = nbformat.v4.new_code_cell(hidden)
        original = self.nb.cells[index]  # nbclient stores the cell it runs at nb.cells[index]
        try:
            self.execute_cell(cell, index, store_history=False)
        except DeadKernelError:
            return KERNEL_STOPPED, True
        except CellTimeoutError:
            return TIMED_OUT, True
        finally:
            self.nb.cells[index] = original
        for out in cell.outputs:
            if out.get("output_type") == "error":
                if out.get("ename") == "CellTimeoutError":
                    return TIMED_OUT, False
                if out.get("ename") == "AssertionError" and out.get("evalue") in messages:
                    return out["evalue"], False
                name = out.get("ename")
                return (f"{GENERIC[:-1]} with {name}." if name in KNOWN_ERRORS else GENERIC), False
        if any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in cell.outputs):
            return STDERR, False
        return None, False


class HideHiddenTests(NbGraderPreprocessor):
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
