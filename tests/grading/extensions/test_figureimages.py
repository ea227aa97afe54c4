"""grading.extensions.figureimages (FigureImages): a feedback page shows each interactive figure
as the PNG its saved widget state holds, with alternative text; a hand-made notebook with fake
ipympl widget state, alone and through the course's feedback configuration."""
from __future__ import annotations

import base64
import io
import re

import nbformat
import numpy as np
from matplotlib.image import imsave
from nbconvert.exporters.exporter import ResourcesDict

from grading.extensions.figureimages import NO_PICTURE, WIDGET_STATE, WIDGET_VIEW, FigureImages
from helpers.feedback_page import course_feedback_page


def _png(value: float) -> str:
    """A tiny 4 x 4 PNG, as base64 (its grey level tells the copies apart)."""
    buf = io.BytesIO()
    imsave(buf, np.full((4, 4), value), format="png", cmap="gray", vmin=0, vmax=1)
    return base64.b64encode(buf.getvalue()).decode("ascii")


CANVAS, LATER, AT_DISPLAY, STATIC = _png(0.2), _png(0.4), _png(0.6), _png(0.8)


def _view(model_id: str, **data: str) -> nbformat.NotebookNode:
    view = {"model_id": model_id, "version_major": 2, "version_minor": 0}
    return nbformat.v4.new_output("display_data", data={WIDGET_VIEW: view, **data})


def _notebook() -> nbformat.NotebookNode:
    """Cells as the lab's: an ipympl canvas on its own (its state holds a newer PNG than the display
    did), a canvas in a box with a slider, a slider alone, a static PNG with a description, a
    canvas whose state is gone (only the display's PNG is left)."""
    state = {
        "canvas": {"model_name": "MPLCanvasModel", "state": {"_data_url": "data:image/png;base64," + LATER,
                                                             "_figure_label": "Figure 3"}},
        "boxed": {"model_name": "MPLCanvasModel", "state": {"_data_url": "data:image/png;base64," + CANVAS}},
        "slider": {"model_name": "FloatSliderModel", "state": {"value": 1.0}},
        "box": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_slider", "IPY_MODEL_boxed"]}},
    }
    cells = [nbformat.v4.new_code_cell("fig = display_digit(X[0])"),
             nbformat.v4.new_code_cell("plt_softmax(my_softmax)"),
             nbformat.v4.new_code_cell("slider"),
             nbformat.v4.new_code_cell("plot_network_diagram()"),
             nbformat.v4.new_code_cell("fig = plot_loss_tf(history)")]
    for cell, grade_id in zip(cells, ("view_vars", "softmax_sliders", "controls", "network_diagram", "loss_plot"),
                              strict=True):
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": False, "locked": True,
                                     "schema_version": 3, "task": False}
    cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="The shape of X is: (5000, 400)\n"),
                        _view("canvas", **{"image/png": AT_DISPLAY, "text/plain": "Canvas(toolbar=...)",
                                           "text/html": "<img src='data:image/png;base64,x'>"})]
    cells[1].outputs = [_view("box", **{"text/plain": "HBox(children=(...))"})]
    cells[2].outputs = [_view("slider", **{"text/plain": "FloatSlider(value=1.0)"})]
    cells[3].outputs = [nbformat.v4.new_output("execute_result", execution_count=1, data={
        "image/png": STATIC, "text/plain": "Picture: the network of this lab"})]
    cells[4].outputs = [_view("gone", **{"image/png": AT_DISPLAY, "text/plain": "Canvas(...)"})]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["widgets"] = {WIDGET_STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    return nb


def test_each_figure_becomes_its_png_with_alternative_text_and_no_widget_view_is_left():
    nb, _ = FigureImages().preprocess(_notebook(), ResourcesDict())
    digit, sliders, controls, network, loss = (c.outputs for c in nb.cells)
    assert digit[0].text.startswith("The shape of X")
    assert [o.data for o in digit[1:]] == [{"image/png": LATER}]  # the canvas's last picture
    assert digit[1].metadata["image/png"]["alt"] == "Figure 3 drawn by the cell view_vars"
    assert [o.data for o in sliders] == [{"image/png": CANVAS}]  # found inside the box
    assert sliders[0].metadata["image/png"]["alt"] == "Figure drawn by the cell softmax_sliders"
    assert [(o.output_type, o.text) for o in controls] == [("stream", NO_PICTURE)]
    assert network[0].data["image/png"] == STATIC
    assert network[0].metadata["image/png"]["alt"] == "Picture: the network of this lab"
    assert [o.data for o in loss] == [{"image/png": AT_DISPLAY}]  # no state left: the display's PNG
    for cell in nb.cells:
        assert all(WIDGET_VIEW not in o.get("data", {}) for o in cell.outputs)
    nbformat.validate(nb)


def test_the_course_feedback_page_shows_the_pngs_with_their_alternative_text():
    page = course_feedback_page(_notebook())
    shown = {}
    for tag in re.findall(r"<img\b[^>]*>", page):
        png, alt = re.search(r'base64,([^"]+)"', tag), re.search(r'alt="([^"]*)"', tag)
        shown[png.group(1) if png else tag] = alt.group(1) if alt else None
    assert shown == {LATER: "Figure 3 drawn by the cell view_vars",
                     CANVAS: "Figure drawn by the cell softmax_sliders",
                     STATIC: "Picture: the network of this lab",
                     AT_DISPLAY: "Figure drawn by the cell loss_plot"}
    assert "output_widget_view" not in page and WIDGET_VIEW not in page
