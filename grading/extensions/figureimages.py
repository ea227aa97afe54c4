"""FigureImages: feedback shows every figure as a PNG image with alternative text, no widget JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode

from grading.extensions.cells import grade_id
from grading.extensions.feedbackpage import FeedbackPreprocessor

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PNG_URL = "data:image/png;base64,"
#: The text/plain of a display that says nothing about the figure (ipympl's, matplotlib's reprs).
UNDESCRIPTIVE = ("Canvas(", "<Figure", "Figure(", "<IPython", "HBox(", "VBox(")
#: What a widget without a picture becomes (sliders, buttons: they need a running kernel).
NO_PICTURE = "[interactive widget: it works in Jupyter only, this page cannot show it]\n"


class FigureImages(FeedbackPreprocessor):
    """For generate_feedback: each widget view that holds a figure (an ipympl canvas, alone or
    in a box with sliders) becomes the figure's PNG from the saved widget state (else the PNG
    the display carried), and every PNG output gets alternative text.

    nbconvert would show a widget view first (display_data_priority) as an empty placeholder
    that only the widgets' JavaScript, loaded from the network, can fill."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        models = _models(nb)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            label = grade_id(cell) or f"number {index + 1}"
            outputs: list[NotebookNode] = []
            for output in cell.get("outputs", []):
                outputs += self._pictures(output, models, label)
            for number, output in enumerate(o for o in outputs if "image/png" in o.get("data", {})):
                _give_alt(output, label, number)
            cell.outputs = outputs
        return nb, resources

    def _pictures(self, output: NotebookNode, models: dict[str, Any], label: str) -> list[NotebookNode]:
        data = output.get("data", {})
        if WIDGET_VIEW not in data:
            return [output]
        model_id = str((data[WIDGET_VIEW] or {}).get("model_id", ""))
        shown = list(_canvas_pngs(models, model_id))
        if not shown and data.get("image/png"):
            shown = [(str(data["image/png"]), "")]
        if not shown:
            return [nbformat.v4.new_output("stream", name="stdout", text=NO_PICTURE)]
        return [_png_output(png, name) for png, name in shown]


def _models(nb: NotebookNode) -> dict[str, Any]:
    widgets = nb.metadata.get("widgets") or {}
    state = (widgets.get(WIDGET_STATE) or {}).get("state") or {}
    return state if isinstance(state, dict) else {}


def _canvas_pngs(models: dict[str, Any], model_id: str, seen: set[str] | None = None) -> Iterator[tuple[str, str]]:
    """(base64 PNG, figure label) of each ipympl canvas at or under the widget ``model_id``."""
    seen = set() if seen is None else seen
    if model_id in seen or not isinstance(models.get(model_id), dict):
        return
    seen.add(model_id)
    state = models[model_id].get("state") or {}
    url = state.get("_data_url")
    if isinstance(url, str) and url.startswith(PNG_URL) and len(url) > len(PNG_URL):
        yield url[len(PNG_URL) :], str(state.get("_figure_label") or "")
    for child in state.get("children") or []:
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            yield from _canvas_pngs(models, child[len("IPY_MODEL_") :], seen)


def _png_output(png: str, name: str) -> NotebookNode:
    output = nbformat.v4.new_output("display_data", data={"image/png": png})
    if name:
        output.metadata["figure_label"] = name
    return output


def _give_alt(output: NotebookNode, label: str, number: int) -> None:
    meta = output.setdefault("metadata", {})
    png_meta = meta.setdefault("image/png", {})
    if png_meta.get("alt") or meta.get("alt"):
        return
    text = output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else str(text)
    if text.strip() and not text.lstrip().startswith(UNDESCRIPTIVE):
        png_meta["alt"] = " ".join(text.split())
        return
    name = str(meta.pop("figure_label", "") or "")
    what = name if name and name != "Figure" else "Figure"
    png_meta["alt"] = f"{what} drawn by the cell {label}" + (f" (picture {number + 1})" if number else "")
