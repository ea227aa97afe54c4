"""grading.extensions.hiddentestslast (HiddenTestsLast) on a small notebook in a real kernel: the
hidden blocks run after every cell, only for test cells whose public part passed, and what they
print or update never reaches the notebook; a failed block adds one fixed error output."""
from __future__ import annotations

import nbformat
import pytest

from grading.extensions.hiddentestslast import GENERIC, HIDDEN_FAILED, HiddenTestsLast


def _cell(source: str, gid: str, kind: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": gid, "grade": kind == "test", "solution": kind == "solution",
                                 "locked": kind != "solution", "schema_version": 3, "task": False,
                                 **({"points": 1} if kind == "test" else {})}
    return cell


def _test(gid: str, public: str, hidden: str) -> nbformat.NotebookNode:
    return _cell(f"{public}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS", gid, "test")


@pytest.mark.slow
def test_hidden_blocks_run_last_unseen_and_only_after_a_passing_public_part(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("import numpy as np\nfrom IPython.display import display\nfrom public_tests import test_my_softmax\n"
              'handle = display("shown before the tests", display_id=True)', "setup", "readonly"),
        _cell("def my_softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / e.sum()", "my_softmax",
              "solution"),
        _test("hidden_message", "test_my_softmax(my_softmax)",
              'assert my_softmax(np.zeros(4)).sum() > 1, "the hidden check says no"'),
        _test("hidden_prints", "test_my_softmax(my_softmax)",
              'hidden_ran = True\nprint("HIDDEN PRINT")\nhandle.update("HIDDEN UPDATE")\nassert abs(my_softmax(np.zeros(2)).sum() - 1) < 1e-9'),
        _test("hidden_key_error", "test_my_softmax(my_softmax)", '{}["missing"]'),
        _test("public_fails", "test_my_softmax(lambda z: z)", 'open("hidden-ran.txt", "w").write("x")'),
        _cell('print("after the tests:", "hidden_ran" in globals())', "last", "readonly"),
    ]
    sources = [c.source for c in nb.cells]
    out, _ = HiddenTestsLast(timeout=120).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in out.cells}
    assert [c.source for c in out.cells] == sources  # the instructor's copy keeps the whole cells

    def errors(gid: str) -> list[tuple[str, str]]:
        return [(o.ename, o.evalue) for o in cells[gid].outputs if o.output_type == "error"]

    assert errors("hidden_message") == [(HIDDEN_FAILED, "the hidden check says no")]
    assert errors("hidden_prints") == []
    shown = str([c.outputs for c in out.cells])
    assert "HIDDEN PRINT" not in shown and "HIDDEN UPDATE" not in shown  # the hidden phase's output is dropped
    assert cells["setup"].outputs[0].data["text/plain"] == "'shown before the tests'"  # (not updated)
    assert errors("hidden_key_error") == [(HIDDEN_FAILED, f"{GENERIC[:-1]} with KeyError.")]
    (public_error,) = errors("public_fails")
    assert public_error[0] == "PublicTestFailure"  # the public test's own verdict, nothing added
    assert not (tmp_path / "hidden-ran.txt").exists()  # its hidden block never ran
    # every cell ran before any hidden block (the last one did not see what one set)
    assert cells["last"].outputs[0].text == "after the tests: False\n"
