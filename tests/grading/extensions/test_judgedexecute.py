"""grading.extensions.judgedexecute (JudgedExecute) on a small notebook in a real kernel: test
cells are judged by the grader, not run in the kernel, so nothing the student's code prints,
displays or defines can score; hidden calls run after every cell, only where the public calls
passed, and what the kernel prints meanwhile never reaches the notebook."""
from __future__ import annotations

import nbformat
import pytest

from grading.extensions import judgedexecute
from grading.extensions.judgedexecute import HIDDEN_FAILED, JudgedExecute, JudgingError

HIDDEN = ("hidden_test_my_softmax({answer}, seed=2718, lengths=[1, 2, 3, 4, 6, 9, 10, 13], low=-6.0, "
          "high=6.0, extra=[[0.1, 0.1, 0.1]], shift=2.5)")


def _cell(source: str, gid: str, kind: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": gid, "grade": kind == "test", "solution": kind == "solution",
                                 "locked": kind != "solution", "schema_version": 3, "task": False,
                                 **({"points": 1} if kind == "test" else {})}
    return cell


def _test(gid: str, answer: str) -> nbformat.NotebookNode:
    return _cell(f"test_my_softmax({answer})\n### BEGIN HIDDEN TESTS\n{HIDDEN.format(answer=answer)}\n"
                 "### END HIDDEN TESTS", gid, "test")


def _notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = list(cells)
    return nb


ANSWERS = '''
import sys
import numpy as np
from IPython.display import display
from public_tests import *
handle = display("shown before the tests", display_id=True)

def honest(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()

def chatty(z):  # right, but prints and updates a display when called on an input it has not seen
    global hidden_ran
    if len(z) not in (1, 4, 5, 6, 7, 10):
        hidden_ran = True
        print("HIDDEN PRINT")
        handle.update("HIDDEN UPDATE")
    return honest(z)

def lookup(z):  # right on the public test's lengths only
    return honest(z) if len(z) in (1, 4, 5, 6, 7, 10) else np.ones_like(z) / len(z)

def wrong(z):
    return np.exp(z)

def test_my_softmax(*args, **kwargs):  # a forged test: passes everything
    print("All tests passed!")
sys.displayhook(10)
'''


@pytest.mark.slow
def test_test_cells_are_judged_by_the_grader_and_hidden_calls_run_last_unseen(tmp_path):
    nb = _notebook(
        _cell(ANSWERS, "answers", "solution"),
        _test("honest", "honest"),
        _test("chatty", "chatty"),
        _test("lookup", "lookup"),
        _test("wrong", "wrong"),
        _cell('print("after the tests:", "hidden_ran" in globals())', "last", "readonly"),
    )
    sources = [c.source for c in nb.cells]
    out, _ = JudgedExecute(timeout=120).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in out.cells}
    assert [c.source for c in out.cells] == sources  # the instructor's copy keeps the whole cells

    def errors(gid: str) -> list[str]:
        return [o.ename for o in cells[gid].outputs if o.output_type == "error"]

    # the grader wrote every test cell's outputs: the forged test_my_softmax and the
    # displayhook(10) of the answer cell reach none of them
    for gid in ("honest", "chatty", "lookup", "wrong"):
        assert all(o.output_type in ("stream", "error") for o in cells[gid].outputs), cells[gid].outputs
    assert errors("honest") == [] and errors("chatty") == []
    assert errors("lookup") == [HIDDEN_FAILED]  # public calls passed, hidden ones did not
    assert errors("wrong") == ["PublicTestFailure"]  # judged, whatever the kernel's own test says
    shown = str([c.outputs for c in out.cells])
    assert "HIDDEN PRINT" not in shown and "HIDDEN UPDATE" not in shown  # the hidden phase's output is dropped
    assert "shown before the tests" in str(cells["answers"].outputs)  # (not updated)
    # every cell ran before any hidden call (the last one did not see what one set)
    assert cells["last"].outputs[0].text == "after the tests: False\n"


@pytest.mark.slow
def test_skip_after_last_grade_leaves_the_tail_unrun_and_still_judges_every_call(tmp_path):
    nb = _notebook(_cell(ANSWERS, "answers", "solution"), _test("lookup", "lookup"),
                   _cell('print("the tail ran")', "last", "readonly"))
    out, _ = JudgedExecute(timeout=120, skip_after_last_grade=True).preprocess(
        nb, {"metadata": {"path": str(tmp_path)}})
    assert out.cells[2].outputs == []  # never executed
    assert [o.ename for o in out.cells[1].outputs if o.output_type == "error"] == [HIDDEN_FAILED]


def test_a_test_cell_that_is_not_judged_calls_stops_the_notebook():
    for source in ("assert my_softmax([1.0]) == [1.0]", "test_my_softmax(my_softmax)\nprint('extra')",
                   "x = 1", "hidden_test_my_softmax(my_softmax, seed=1)"):
        with pytest.raises(JudgingError, match="cannot be judged|calls no judged test"):
            judgedexecute.test_cells(_notebook(_cell(source, "t", "test")))
    assert list(judgedexecute.test_cells(_notebook(_test("t", "my_softmax")))) == [0]
    # only where the course opts in (trusted assignments) do such cells run in the kernel
    mixed = _notebook(_cell("assert my_softmax([1.0]) == [1.0]", "t", "test"), _test("u", "my_softmax"))
    assert list(judgedexecute.test_cells(mixed, kernel_verdicts=True)) == [1]
