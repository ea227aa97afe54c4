"""grading.extensions.striprunstate: what running the source left behind is not released."""
from __future__ import annotations

import nbformat
from nbconvert.exporters.exporter import ResourcesDict

from grading.extensions.striprunstate import StripRunState


def test_widget_state_and_run_metadata_go_and_nbgraders_marks_stay():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"png": "iVBO"}}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("fig = plt_act_trio()")
    marks = {"grade_id": "relu_plot", "locked": True, "schema_version": 3, "solution": False,
             "grade": False, "task": False}
    cell.metadata.update(nbgrader=marks, tags=["keep"], collapsed=False, scrolled=True,
                         execution={"iopub.execute_input": "2026-11-29T10:00:00.000Z"})
    nb.cells.append(cell)
    out, _ = StripRunState().preprocess(nb, ResourcesDict())
    assert "widgets" not in out.metadata and out.metadata["kernelspec"]["name"] == "python3"
    assert out.cells[0].metadata == {"nbgrader": marks, "tags": ["keep"]}
