"""The optional labs in a real browser: each one opened in JupyterLab 4 (headless Chromium),
run from the menu like a student, with every ipympl figure drawn on screen.

Headless execution (nbval) cannot see the bug this guards against: a later cell calling
``plt.close("all")`` blanks the canvases of every earlier figure in the page. Run alone with

    python -m pytest -m browser tests/browser/test_optional_labs.py -q -s

Screenshots (the whole notebook and each figure cell) go to ``artifacts/browser/``.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from helpers.jupyter_server import running_jupyter
from helpers.lab_page import STDERR_OUTPUT, LabPage, drawn, wait_figures_drawn
from helpers.repo import ROOT

pytestmark = pytest.mark.browser

LABS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RUN_ALL_TIMEOUT = 600.0  # two small trainings in the page's kernel on a busy 2-core machine
FIGURES_TIMEOUT = 120.0
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def figure_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of the cells that show a figure, read from the committed (executed) outputs:
    every ipympl figure, alone or inside a box with sliders, is a widget-view output."""
    return [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and any(WIDGET_VIEW in out.get("data", {}) for out in cell.outputs)
    ]


@pytest.fixture(scope="module")
def labs_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """JupyterLab on a copy of notebooks/ (the kernel imports the installed ``utils``)."""
    root = tmp_path_factory.mktemp("optional-labs")
    for path in LABS:
        shutil.copy2(path, root / path.name)
    with running_jupyter(root, tmp_path_factory.mktemp("optional-labs-state"), "optional") as server:
        yield server


def test_the_committed_labs_have_figures() -> None:
    """The browser test below is only as good as its list of figure cells."""
    counts = {p.name: len(figure_cells(nbformat.read(p, as_version=4))) for p in LABS}
    assert [name for name, n in counts.items() if n == 0] == [], counts


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_optional_lab_runs_and_draws_every_figure(path: Path, labs_server: Any, open_lab: Any) -> None:
    nb = nbformat.read(path, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    expected = figure_cells(nb)
    lab: LabPage = open_lab(labs_server, path.name)

    started = time.monotonic()
    lab.menu("Run", "Run All Cells")
    prompts = lab.wait_run_finished(RUN_ALL_TIMEOUT)
    print(f"\n[browser] {path.name}: Run All Cells took {time.monotonic() - started:.0f}s")

    assert lab.cells().count() == len(nb.cells)
    assert prompts == [f"[{n}]:" for n in range(1, n_code + 1)], prompts
    errors = lab.page.locator(STDERR_OUTPUT)
    assert errors.count() == 0, "error/stderr output in the page:\n" + "\n---\n".join(errors.all_text_contents())
    assert "Error displaying widget" not in lab.output_text()

    # Each figure cell shows its figure drawn. They are checked after the whole run, so a
    # figure blanked by a later cell (plt.close) fails here.
    deadline = time.monotonic() + FIGURES_TIMEOUT
    blank: list[str] = []
    for i in expected:
        cell = lab.cells().nth(i)
        stats = wait_figures_drawn(lab, cell, deadline)
        shot = lab.screenshot(f"{path.stem}_cell{i:02d}", cell.locator(".jp-Cell-outputWrapper"))
        print(f"[browser] {path.name} cell {i}: {len(stats)} canvas(es) ({shot})")
        if not stats or not all(drawn(s) for s in stats):
            blank.append(f"cell {i}: {stats or 'no ipympl canvas'}")
    all_stats = wait_figures_drawn(lab, lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)"), deadline)
    full = lab.screenshot_notebook(f"{path.stem}_full_notebook")
    print(f"[browser] {path.name}: {len(all_stats)} canvases for {len(expected)} figure cells ({full})")
    assert not blank, "figures not drawn in the page:\n  " + "\n  ".join(blank)
    assert len(all_stats) == len(expected), f"{len(all_stats)} canvases on the page, {len(expected)} figure cells"
    assert all(drawn(s) for s in all_stats), all_stats


def test_relu_solution_is_collapsed_until_opened(labs_server: Any, open_lab: Any) -> None:
    """The explorer's solution is hidden in a <details> block that renders, closed, and opens on a click."""
    lab: LabPage = open_lab(labs_server, "01_relu.ipynb")
    details = lab.page.locator(".jp-RenderedMarkdown details")
    details.first.wait_for(state="attached")
    assert details.count() == 1
    block = details.first
    block.scroll_into_view_if_needed()
    code = block.locator("pre", has_text="set_params")
    assert block.get_attribute("open") is None and not code.is_visible()
    block.locator("summary").click()
    code.wait_for(state="visible", timeout=10_000)
    assert "explorer.set_params(w1=1, b1=-1, v1=1, w2=1, b2=-3, v2=-2)" in code.text_content()
    shot = lab.screenshot("01_relu_solution_opened", block)
    print(f"\n[browser] 01_relu solution block opened ({shot})")
