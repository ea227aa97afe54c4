"""grading.extensions.limitnotebookbytes: the outputs of a whole notebook within a budget, in
order, cut with a note; test cells never cut (their outputs are the verdict nbgrader scores)."""
from __future__ import annotations

import nbformat
from nbgrader.utils import determine_grade

from grading.extensions.limitnotebookbytes import LimitNotebookBytes, output_bytes


def _cell(kind: str, outputs: list) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("pass")
    if kind != "plain":
        cell.metadata["nbgrader"] = {"grade_id": f"c{id(cell)}", "solution": kind == "answer",
                                     "grade": kind == "test", "locked": kind == "test",
                                     "points": 10 if kind == "test" else 0, "schema_version": 3}
    cell.outputs = outputs
    return cell


def _display(chars: int) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/plain": "x" * chars})


def test_outputs_past_the_budget_are_cut_and_test_cells_never():
    budget = 1_000_000
    verdict_fail = nbformat.v4.new_output("error", ename="PublicTestFailure", evalue="e" * 2_000_000,
                                          traceback=["t" * 2_000_000])  # over the budget on its own
    verdict_pass = nbformat.v4.new_output("stream", name="stdout", text="All tests passed.\n")
    nb = nbformat.v4.new_notebook(cells=[
        _cell("answer", [_display(300_000) for _ in range(5)]),  # 3 fit, 2 are cut
        _cell("test", [verdict_fail]),
        _cell("plain", [_display(10)]),  # small, but after the budget ran out: cut too
        _cell("test", [verdict_pass]),
        _cell("plain", []),
    ])
    before = [(determine_grade(c), list(c.outputs)) for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    nb, _ = LimitNotebookBytes(max_bytes=budget).preprocess(nb, {})
    answer, test_fail, plain, test_pass, empty = nb.cells
    assert [o.output_type for o in answer.outputs] == ["display_data"] * 3 + ["stream"]
    assert "2 output(s) of this cell cut (0.6 MB)" in answer.outputs[-1].text
    assert "budget of 1.0 MB" in answer.outputs[-1].text
    assert [o.output_type for o in plain.outputs] == ["stream"] and "1 output(s)" in plain.outputs[0].text
    after = [(determine_grade(c), list(c.outputs)) for c in (test_fail, test_pass)]
    assert after == before and before[0][0] == (0, 10) and before[1][0] == (10, 10)
    assert empty.outputs == []
    kept = sum(output_bytes(o) for c in (answer, plain) for o in c.outputs)
    assert kept <= budget + 2 * 400  # the outputs kept, and the two notes


def test_a_normal_notebook_is_left_as_it_is():
    nb = nbformat.v4.new_notebook(cells=[_cell("answer", [_display(1000)]), _cell("test", [])])
    copy = nbformat.from_dict(nb)
    out, _ = LimitNotebookBytes().preprocess(nb, {})
    assert out == copy and LimitNotebookBytes().max_bytes == 16_000_000
