"""JudgedExecute: nbgrader's Execute with every test cell judged in the grader's process.

nbgrader scores a test cell from the outputs the student's kernel produced: no error output
is full marks, and an ``execute_result`` holding a number is read as partial credit. The
kernel is the student's, so every such verdict is the student's word. Here a test cell is
never run as code in the kernel. Its source holds calls of the course's judged tests
(:mod:`public_tests.judged`): for each call the grader makes the inputs, the kernel runs only
the probe (it calls the answer on those inputs and records what came back, as data), and
the judge runs HERE, in this process, which has never run student code. The test cell's
outputs are then written by the grader: "All tests passed." or the judge's teaching
message. Nothing the kernel prints, displays or raises reaches a test cell, so no output of
the student's code can score (nbgrader's partial-credit reading has nothing to read).

Hidden tests stay hidden (nbgrader #917: feedback renders the autograded notebook): each
test cell's hidden block is removed before any cell runs, so no output that feedback shows
comes from a kernel that has seen a hidden input. After the last cell, the hidden calls of
the test cells whose public calls passed are probed and judged; whatever the kernel prints
or displays meanwhile is dropped, and a failure adds one error output to its test cell whose
text is a fixed sentence of the judge's (nbgrader's SaveAutoGrades scores the cell 0, and
feedback shows why).

A test cell whose calls are not judged tests stops the notebook's autograde with a clear
error: its verdict could only be the kernel's word.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade
from traitlets import Bool

from grading.extensions.cells import grade_id, is_test
from grading.extensions.hiddenblocks import split_hidden
from public_tests import judged
from public_tests._common import Verdict

#: ename of the error output added to a test cell whose hidden tests failed.
HIDDEN_FAILED = "HiddenTestFailed"

KERNEL_STOPPED = "the Python kernel stopped while the hidden tests ran, so they could not pass."
TIMED_OUT = "the hidden tests did not finish in time (an endless loop, or very slow code?)."
PUBLIC_TIMED_OUT = (
    "The test did not finish in time: does the answer loop forever, or run very "
    "slowly (a Python loop over a large array)?"
)
NO_REPLY = "The kernel did not hand back what the answer computed (it stopped, or the probe was replaced)."
RULE = "\x1b[0;31m" + "-" * 75 + "\x1b[0m"


def failure_output(grade_id: str, message: str) -> NotebookNode:
    """The one error output that tells a student a hidden test of ``grade_id`` failed."""
    return nbformat.v4.new_output(
        "error",
        ename=HIDDEN_FAILED,
        evalue=message,
        traceback=[
            f"\x1b[0;31mHidden test failed\x1b[0m in graded cell {grade_id!r}.",
            "The public tests of this cell passed, but a hidden test (one the autograder adds, "
            "with inputs you have not seen) did not:",
            f"    {message}",
        ],
    )


class JudgingError(ValueError):
    """A test cell the grader cannot judge: the assignment is not gradable as it stands."""


@dataclass
class TestCell:
    """A test cell's judged calls: public ones (judged where the cell stands) and hidden ones."""

    grade_id: str
    calls: list[judged.Call]
    hidden_calls: list[judged.Call]
    source: str  # the whole source, hidden block included (the instructor's copy keeps it)
    public: Verdict = field(default_factory=lambda: Verdict(False, "not run", "not_run"))


def test_cells(nb: NotebookNode, *, kernel_verdicts: bool = False) -> dict[int, TestCell]:
    """{index: TestCell} of the notebook's test cells; :class:`JudgingError` for one that is not
    made of judged calls (an assignment to fix before grading), or, with ``kernel_verdicts``,
    that cell left out (it runs in the kernel, and nbgrader scores its outputs)."""
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not is_test(cell):
            continue
        gid = grade_id(cell) or f"cell {index}"
        try:
            public, hidden = split_hidden(cell.source)
            calls = judged.parse_calls(public, hidden=False)
            hidden_calls = judged.parse_calls(hidden or "", hidden=True)
        except ValueError as exc:
            if kernel_verdicts:
                continue
            raise JudgingError(f"test cell {gid!r} cannot be judged outside the kernel: {exc}") from None
        if not calls:
            if kernel_verdicts:
                continue
            raise JudgingError(f"test cell {gid!r} calls no judged test")
        found[index] = TestCell(gid, calls, hidden_calls, cell.source)
    return found


def verdict_outputs(test: TestCell, verdict: Verdict) -> list[NotebookNode]:
    """What a judged test cell shows: the pass line, or the failure as the notebook shows it."""
    if verdict.passed:
        text = "".join(c.test.passed_text + "\n" for c in test.calls)
        return [nbformat.v4.new_output("stream", name="stdout", text=text)]
    ename = "NotAnsweredYet" if verdict.not_answered else "PublicTestFailure"
    return [
        nbformat.v4.new_output(
            "error",
            ename=ename,
            evalue=verdict.message,
            traceback=[RULE, f"\x1b[0;31m{ename}\x1b[0m: {verdict.message}"],
        )
    ]


class JudgedExecute(Execute):
    """nbgrader's Execute in which test cells are judged by the grader (see the module
    docstring). Configure it in place of ``Execute`` in ``c.Autograde.autograde_preprocessors``."""

    kernel_verdicts = Bool(
        False,
        help="Run test cells that are not judged calls in the kernel and let nbgrader score "
        "their outputs, as nbgrader's own Execute does (the kernel's word: only for "
        "trusted work, such as the project's own test assignments). Off: such a cell "
        "stops the notebook's autograde with an error.",
    ).tag(config=True)
    skip_after_last_grade = Bool(
        False,
        help="Do not execute the cells after the last graded cell (faster; the feedback then "
        "shows those cells without outputs). The hidden tests then probe the answers as "
        "the last graded cell left them.",
    ).tag(config=True)

    # nbclient's NotebookClient state, which run_hidden_tests saves and restores (declared for
    # the type checker: nbgrader's Execute, between the two, has no type information)
    widget_state: dict[str, dict[str, Any]]
    widget_buffers: dict[str, dict[tuple[str, ...], dict[str, str]]]
    _display_id_map: dict[str, Any]

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
        graded = [i for i, c in enumerate(nb.cells) if is_grade(c)]
        self._last_graded = max(graded) if graded else len(nb.cells) - 1
        self._tests = test_cells(nb, kernel_verdicts=self.kernel_verdicts)
        for index, test in self._tests.items():
            nb.cells[index].source = split_hidden(test.source)[0]
        try:
            return self._execute_then_hidden(nb, resources, km)
        finally:
            for index, test in self._tests.items():  # the instructor's copy keeps the whole cell
                nb.cells[index].source = test.source

    def _execute_then_hidden(self, nb: NotebookNode, resources: Any, km: Any):
        # nbconvert's ExecutePreprocessor.preprocess, with the hidden phase added while the
        # kernel still runs
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

    def skipped(self, index: int) -> bool:
        """Whether cell ``index`` is left unexecuted (``skip_after_last_grade``)."""
        return bool(self.skip_after_last_grade) and index > self._last_graded

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int):
        if self.skipped(index):
            return cell, self.resources
        if index not in self._tests:
            return super().preprocess_cell(cell, resources, index)
        self._check_assign_resources(resources)
        return self.judge_test_cell(cell, index), self.resources

    def judge_test_cell(self, cell: NotebookNode, index: int, *, keep_verdict: bool = True) -> NotebookNode:
        """Probe and judge the cell's public calls in order (the first failure ends them) and
        write the verdict as the cell's only output. ``keep_verdict=False`` (a replay after a
        kernel restart) runs the probes for what they do to the kernel's state only."""
        test = self._tests[index]
        verdict = Verdict(True)
        for call in test.calls:
            verdict = self.ask(call, index, timed_out=PUBLIC_TIMED_OUT)
            if not verdict.passed:
                break
        if keep_verdict:
            test.public = verdict
        cell.outputs = verdict_outputs(test, verdict)
        return cell

    def ask(self, call: judged.Call, index: int, *, timed_out: str) -> Verdict:
        """Run ``call``'s probe in the kernel and judge its record here."""
        probe = self.run_aside(judged.probe_source(call), index)
        if any(o.get("ename") == "CellTimeoutError" for o in probe.outputs):
            return Verdict(False, timed_out, "timeout")
        text = self.user_expression(judged.TAKE_EXPRESSION)
        if text is None:
            return Verdict(False, NO_REPLY, "no_reply")
        return judged.judge_text(call, text)

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

    def user_expression(self, expression: str) -> str | None:
        """The text value of ``expression`` evaluated in the kernel (a silent request: no
        input transformer applies, nothing is printed), or None if the kernel gave none."""
        import ast

        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"r": expression})
        reply = self.wait_for_reply(msg_id)
        res = ((reply or {}).get("content", {}).get("user_expressions") or {}).get("r", {})
        if res.get("status") != "ok":
            return None
        shown = res.get("data", {}).get("text/plain", "")
        if not isinstance(shown, str) or len(shown) > judged.ev.MAX_CHARS + 16:
            return None
        try:
            value = ast.literal_eval(shown)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        return value if isinstance(value, str) else None

    def before_probe(self, index: int) -> None:
        """Hook run before each hidden probe (the guarded executor restores what answers changed)."""

    def run_hidden_tests(self) -> dict[str, str | None]:
        """Probe and judge the hidden calls of each test cell whose public calls passed;
        return {grade_id: failure sentence or None}. Whatever the kernel prints, displays or
        updates meanwhile is dropped."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        kept = (
            [copy.deepcopy(c.get("outputs")) for c in self.nb.cells],
            copy.deepcopy(self.widget_state),
            copy.deepcopy(self.widget_buffers),
            copy.deepcopy(self._display_id_map),
        )
        verdicts: dict[int, str | None] = {}
        stopped = False
        for index, test in self._tests.items():
            if not test.public.passed or not test.hidden_calls:
                continue
            verdicts[index] = None
            for call in test.hidden_calls:
                if stopped:
                    verdicts[index] = KERNEL_STOPPED
                    break
                try:
                    self.before_probe(index)
                    verdict = self.ask(call, index, timed_out=TIMED_OUT)
                except DeadKernelError:
                    verdict, stopped = Verdict(False, KERNEL_STOPPED, "dead"), True
                except CellTimeoutError:
                    verdict, stopped = Verdict(False, TIMED_OUT, "timeout"), True
                if not verdict.passed:
                    verdicts[index] = verdict.message
                    break
        outputs, self.widget_state, self.widget_buffers, self._display_id_map = kept
        for cell, saved in zip(self.nb.cells, outputs, strict=True):
            if saved is not None:
                cell.outputs = saved
        for index, message in verdicts.items():
            if message is not None:
                self.nb.cells[index].outputs.append(failure_output(self._tests[index].grade_id, message))
        return {self._tests[i].grade_id: m for i, m in verdicts.items()}
