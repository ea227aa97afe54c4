"""The student's and the instructor's path in a real browser: JupyterLab 4 in headless Chromium.

Headless execution (nbconvert, nbval) cannot show that ``%matplotlib widget`` figures and
ipywidgets sliders actually render and respond. These tests start JupyterLab on
127.0.0.1 (token, temporary root), open the released lab in Chromium, run it from the
menu like a student, and look at what the page shows. Run them alone with

    python -m pytest -m browser tests/browser -q -s

Screenshots go to ``artifacts/browser/`` (gitignored); the path is printed.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from helpers.jupyter_server import copy_course, running_jupyter
from helpers.lab_page import (
    BAR_HEIGHTS_JS,
    FIGURE_CANVAS,
    IMAGE_STATS_JS,
    STDERR_OUTPUT,
    LabPage,
    drawn,
    wait_figures_drawn,
)
from helpers.repo import ROOT
from helpers.submissions import filled_release

pytestmark = pytest.mark.browser

ASSIGNMENT = "multiclass_digits"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
RELEASE = ROOT / "release" / ASSIGNMENT
RUN_ALL_TIMEOUT = 600.0  # 40 epochs of training in the page's kernel on a busy 2-core machine
FIGURES_TIMEOUT = 120.0

# Figure helpers of utils and the figure each one always draws (display_errors draws
# nothing when there are no errors, so it is only covered by "every canvas is drawn").
FIGURE_HELPERS = {
    "plt_act_trio": "activation trio",
    "plt_softmax": "softmax sliders",
    "display_random_digits": "digit grid",
    "display_predictions_grid": "digit grid",
    "plot_loss_tf": "loss curve",
    "display_digit": "single digit",
    "imshow": "digit grid",  # the 64-digit grid drawn in the cell itself
    "plot_softmax_layer": "softmax output layer",
    "plot_network_diagram": "network diagram",
    "plot_confusion_matrix": "confusion matrix",
    "display_confident_errors": "confident mistakes",
}
# Helpers that return a picture shown as a PNG image (no ipympl canvas), so that exported
# HTML and feedback pages show it too.
STATIC_PICTURES = {"plot_softmax_layer", "plot_network_diagram"}
# issue 14's figures: each is screenshotted on its own (artifacts/browser/figure_*.png)
NEW_FIGURES = {"softmax output layer", "network diagram", "confusion matrix", "confident mistakes"}
REQUIRED_FIGURES = {"activation trio", "softmax sliders", "digit grid", "loss curve"} | NEW_FIGURES
PUBLIC_TEST_CALL = re.compile(r"^\s*test_\w+\(", re.M)

# The softmax explorer's bar colour (utils/softmax_widget.py) and how it is checked.
BAR_RGB = (0x00, 0x96, 0xFF)
BAR_TOLERANCE_PX = 3.0
SLIDER_PRESSES = 20  # ArrowRight presses on z0; the slider's step is 0.1
SLIDER_STEP = 0.1

# A helpful failure is short: a few frames (the cell, the public test) and a message.
MAX_FRAMES = 3
MAX_ERROR_LINES = 30
FRAME_LINE = re.compile(r"^(Cell In\[\d+\], line \d+|File .+, in .+)$", re.M)


def calls(source: str, name: str) -> bool:
    return re.search(rf"\b{name}\(", source) is not None


def softmax(z: np.ndarray) -> np.ndarray:
    """Independent reference for the bars: softmax computed here, not by the notebook."""
    e = np.exp(z - z.max())
    return e / e.sum()


def frames(error_text: str) -> list[str]:
    """The traceback frame headers of an IPython error output."""
    return FRAME_LINE.findall(error_text)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def student_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's folder: the release, once blank and once with the reference answers."""
    assert (RELEASE / NOTEBOOK).is_file(), f"no released notebook at {RELEASE / NOTEBOOK}"
    root = tmp_path_factory.mktemp("student")
    for kind in ("reference", "blank"):
        shutil.copytree(RELEASE, root / kind, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        nbformat.write(filled_release(kind), root / kind / NOTEBOOK)
    return root


@pytest.fixture(scope="module")
def student_server(student_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_jupyter(student_root, tmp_path_factory.mktemp("student-state"), "student") as server:
        yield server


def wait_picture_drawn(scope: Any, deadline: float) -> dict[str, Any] | None:
    """Scroll the PNG picture in ``scope`` into view and poll until it is drawn or ``deadline``
    passes; return its stats (None when the output holds no image)."""
    images = scope.locator(".jp-OutputArea-output img")
    if images.count() != 1:
        return None
    image = images.first
    image.scroll_into_view_if_needed()
    current = image.evaluate(IMAGE_STATS_JS)
    while not drawn(current) and time.monotonic() < deadline:
        time.sleep(0.5)
        current = image.evaluate(IMAGE_STATS_JS)
    return current


def bar_heights(lab: LabPage, canvas: Any) -> np.ndarray:
    bars = lab.page.evaluate(BAR_HEIGHTS_JS, [canvas.element_handle(), list(BAR_RGB), 12])
    return np.array([b["height"] for b in bars], dtype=float)


def bars_match(heights: np.ndarray, values: np.ndarray) -> tuple[bool, float]:
    """Do the bar heights (px) follow ``values`` on one linear axis? Return (ok, px per unit)."""
    if heights.shape != values.shape:
        return False, float("nan")
    scale = float(heights @ values / (values @ values))
    return bool(np.max(np.abs(heights - scale * values)) <= BAR_TOLERANCE_PX), scale


def slider_values(output: Any) -> np.ndarray:
    handles = output.locator(".widget-slider .noUi-handle")
    return np.array([float(handles.nth(i).get_attribute("aria-valuenow")) for i in range(handles.count())])


def run_cell(lab: LabPage, index: int, timeout: float) -> str:
    """Select cell ``index`` like a student (click its prompt), run it with Shift+Enter; return its output text."""
    cell = lab.cells().nth(index)
    before = cell.locator(".jp-InputPrompt").text_content().strip()
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").click()
    lab.page.keyboard.press("Shift+Enter")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prompt = cell.locator(".jp-InputPrompt").text_content().strip()
        idle = all(k["execution_state"] == "idle" for k in lab.server.kernels())
        if prompt != before and "*" not in prompt and idle:
            return lab.output_text(cell)
        time.sleep(0.5)
    raise TimeoutError(f"cell {index} did not run within {timeout:.0f}s (prompt {before!r})")


# ---------------------------------------------------------------------------- student: reference answers


def test_reference_lab_renders_and_responds(student_root: Path, student_server: Any, open_lab: Any) -> None:
    nb = nbformat.read(student_root / "reference" / NOTEBOOK, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    lab = open_lab(student_server, f"reference/{NOTEBOOK}")

    started = time.monotonic()
    lab.menu("Run", "Run All Cells")
    prompts = lab.wait_run_finished(RUN_ALL_TIMEOUT)
    print(f"\n[browser] reference lab: Run All Cells took {time.monotonic() - started:.0f}s")

    # Every cell ran, in order, and nothing went to stderr or failed.
    assert lab.cells().count() == len(nb.cells)
    assert prompts == [f"[{n}]:" for n in range(1, len(code_cells) + 1)], prompts
    errors = lab.page.locator(STDERR_OUTPUT)
    assert errors.count() == 0, "error/stderr output in the page:\n" + "\n---\n".join(errors.all_text_contents())
    text = lab.output_text()
    assert "Error displaying widget" not in text

    # Each figure cell shows a drawn canvas, and so does every other figure on the page.
    deadline = time.monotonic() + FIGURES_TIMEOUT
    seen: dict[str, int] = {}
    blank: list[str] = []
    shots: list[Path] = []
    for i in code_cells:
        helpers = [name for name in FIGURE_HELPERS if calls(nb.cells[i].source, name)]
        if not helpers:
            continue
        cell = lab.cells().nth(i)
        if STATIC_PICTURES & set(helpers):
            picture = wait_picture_drawn(cell, deadline)
            if picture is None or not drawn(picture) or picture["width"] < 400:
                blank.append(f"cell {i} ({', '.join(helpers)}): {picture or 'no PNG image'}")
            shown = cell.locator(".jp-OutputArea-output img").first
        else:
            cell_stats = wait_figures_drawn(lab, cell, deadline)
            if not cell_stats or not all(drawn(s) for s in cell_stats):
                blank.append(f"cell {i} ({', '.join(helpers)}): {cell_stats or 'no ipympl canvas'}")
            shown = cell.locator(".jupyter-matplotlib").first
        for name in helpers:
            kind = FIGURE_HELPERS[name]
            seen[kind] = seen.get(kind, 0) + 1
            if kind in NEW_FIGURES:
                shots.append(lab.screenshot(f"figure_{kind.replace(' ', '_')}", shown))
    all_stats = wait_figures_drawn(lab, lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)"), deadline)
    lab.screenshot_notebook("reference_full_notebook")
    assert not blank, (
        "figures not drawn in the page (an ipympl figure goes blank when plt.close() closes it, "
        "e.g. plt.close('all') in a later cell):\n  " + "\n  ".join(blank)
    )
    assert all(drawn(s) for s in all_stats), all_stats
    assert REQUIRED_FIGURES <= set(seen), f"figure kinds found: {seen}"
    print(f"[browser] {len(all_stats)} ipympl canvases drawn; figure cells by kind: {seen}")
    print("[browser] new figures:", *map(str, shots), sep="\n  ")

    # Both public tests pass.
    test_cells = [i for i in code_cells if PUBLIC_TEST_CALL.search(nb.cells[i].source)]
    assert len(test_cells) == 2, f"expected two public test cells, found cells {test_cells}"
    for i in test_cells:
        assert "All tests passed" in lab.output_text(lab.cells().nth(i)), f"cell {i}: {lab.output_text(lab.cells().nth(i))!r}"

    print(f"[browser] full notebook: {lab.artifacts / 'reference_full_notebook.png'}")

    # Moving the z0 slider redraws the bars, which follow softmax(z) before and after.
    softmax_cell = next(i for i in code_cells if calls(nb.cells[i].source, "plt_softmax"))
    output = lab.cells().nth(softmax_cell).locator(".jp-Cell-outputWrapper")
    output.scroll_into_view_if_needed()
    canvas = output.locator(FIGURE_CANVAS).first
    z_before = slider_values(output)
    assert z_before.shape == (4,), z_before
    ok, scale_before = bars_match(bar_heights(lab, canvas), softmax(z_before))
    assert ok, f"bars {bar_heights(lab, canvas)} do not follow softmax({z_before})"
    image_before = canvas.evaluate("c => c.toDataURL()")
    lab.screenshot("slider_before", output)

    handle = output.locator(".widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(SLIDER_PRESSES):
        handle.press("ArrowRight")
    z_after = z_before.copy()
    z_after[0] += SLIDER_PRESSES * SLIDER_STEP
    deadline = time.monotonic() + 60
    heights = bar_heights(lab, canvas)
    while time.monotonic() < deadline:
        heights = bar_heights(lab, canvas)
        ok, scale_after = bars_match(heights, softmax(z_after))
        if ok and np.allclose(slider_values(output), z_after):
            break
        time.sleep(0.5)
    else:
        lab.screenshot("slider_after_failed", output)
        raise AssertionError(
            f"after {SLIDER_PRESSES} x ArrowRight: sliders {slider_values(output)}, bars {heights} px, "
            f"expected softmax({z_after}) = {softmax(z_after)}"
        )
    assert output.locator(".widget-readout").first.text_content().strip() == f"{z_after[0]:.2f}"
    assert abs(scale_after - scale_before) <= 0.03 * scale_before, (scale_before, scale_after)  # same y axis
    assert canvas.evaluate("c => c.toDataURL()") != image_before
    after = lab.screenshot("slider_after", output)
    print(f"[browser] slider z0 {z_before[0]:.1f} -> {z_after[0]:.1f}; bars {heights} px; {after.parent}/slider_*.png")
    if lab.console_errors:
        print("[browser] console errors (informational):", *lab.console_errors[:10], sep="\n  ")


# ---------------------------------------------------------------------------- student: blank release


def test_blank_lab_fails_helpfully(student_root: Path, student_server: Any, open_lab: Any) -> None:
    nb = nbformat.read(student_root / "blank" / NOTEBOOK, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    test_cells = [i for i in code_cells if PUBLIC_TEST_CALL.search(nb.cells[i].source)]
    assert test_cells, "no public test cell in the blank release"
    lab = open_lab(student_server, f"blank/{NOTEBOOK}")

    started = time.monotonic()
    lab.menu("Run", "Run All Cells")
    lab.wait_run_finished(RUN_ALL_TIMEOUT)
    print(f"\n[browser] blank lab: Run All Cells took {time.monotonic() - started:.0f}s")

    # Run All stops at the first unanswered exercise, with the stub's message.
    errors = lab.page.locator(STDERR_OUTPUT)
    assert errors.count() == 1, errors.all_text_contents()
    first_error = errors.first.text_content()
    assert "not answered yet" in first_error, first_error
    assert len(frames(first_error)) <= MAX_FRAMES, first_error
    assert "Error displaying widget" not in lab.output_text()
    # What ran before the exercise (the activation trio) is drawn.
    figures = wait_figures_drawn(lab, lab.page.locator(".jp-NotebookPanel"), time.monotonic() + FIGURES_TIMEOUT)
    assert figures and all(drawn(s) for s in figures), figures

    # The student runs the first public test: a short, helpful failure, not a traceback wall.
    out = run_cell(lab, test_cells[0], timeout=120)
    shot = lab.screenshot("blank_public_test", lab.cells().nth(test_cells[0]))
    print(f"[browser] blank public test output ({shot}):\n{out}")
    assert "not answered yet" in out.lower(), out
    found = frames(out)
    assert len(found) <= MAX_FRAMES, f"{len(found)} traceback frames: {found}"
    assert len(out.strip().splitlines()) <= MAX_ERROR_LINES, out
    lab.screenshot_notebook("blank_full_notebook")


# ---------------------------------------------------------------------------- instructor: formgrader


def test_formgrader_lists_the_assignment(page: Any, artifacts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    course = copy_course(tmp_path_factory.mktemp("course"), ("nbgrader_config.py", "source"))
    venv_bin = Path(sys.executable).parent  # nbgrader shells out to alembic: venv bin first on PATH
    done = subprocess.run(
        [str(venv_bin / "nbgrader"), "generate_assignment", ASSIGNMENT],
        cwd=course,
        env={**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (course / "release" / ASSIGNMENT / NOTEBOOK).is_file()

    with running_jupyter(course, tmp_path_factory.mktemp("instructor-state"), "instructor") as server:
        response = page.goto(server.url("formgrader"), timeout=120_000)
        assert response is not None and response.status == 200, response and response.status
        row = page.locator(f'tr:has-text("{ASSIGNMENT}")').first
        row.wait_for(timeout=120_000)
        assert row.locator("td").first.text_content().strip() == ASSIGNMENT
        shot = artifacts_dir / "formgrader.png"
        page.screenshot(path=str(shot))
        print(f"\n[browser] formgrader: {row.text_content().split()!r} ({shot})")
