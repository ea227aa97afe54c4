"""HiddenTestsLast: nbgrader's Execute with every hidden-test block run in a final, unseen phase."""
from __future__ import annotations

import copy
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade

from grading.extensions.hiddenblocks import hidden_messages, split_hidden

#: ename of the error output added to a test cell whose hidden tests failed.
HIDDEN_FAILED = "HiddenTestFailed"
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


class HiddenTestsLast(Execute):  # type: ignore[misc]
    """nbgrader's Execute, with every hidden-test block run in a final phase whose raw
    output is discarded (see :mod:`grading.extensions.hiddenblocks`). Configure it in place
    of ``Execute`` in ``c.Autograde.autograde_preprocessors``."""

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

    def run_aside(self, source: str, index: int) -> NotebookNode:
        """Run ``source`` as a throwaway cell at ``index`` (not in the history) and return it
        with its outputs; the notebook's own cell at ``index`` is put back whatever happens
        (nbclient stores the cell it runs at ``nb.cells[index]``). nbclient's errors (a dead
        kernel, a timeout) are the caller's."""
        cell = nbformat.v4.new_code_cell(source)
        original = self.nb.cells[index]
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:
            self.nb.cells[index] = original
        return cell

    def _run_block(self, hidden: str, index: int, messages: set[str]) -> tuple[str | None, bool]:
        """Run one hidden block; return (failure message or None, whether the kernel stopped)."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if not self.before_hidden_block(index):
            return TAMPERED, False
        try:
            cell = self.run_aside(hidden, index)
        except DeadKernelError:
            return KERNEL_STOPPED, True
        except CellTimeoutError:
            return TIMED_OUT, True
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
