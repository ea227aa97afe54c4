"""Driving JupyterLab in a headless Chromium page (Playwright), for the browser tests.

The JavaScript run in the page lives in ``tests/helpers/js/*.js``, one function per file,
read by :func:`page_script` from this package's folder (never the working directory).
"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from helpers.jupyter_server import JupyterServer

JS_DIR = Path(__file__).resolve().parent / "js"

# The main (z-index 0) canvas of every ipympl figure; the second canvas is its overlay.
FIGURE_CANVAS = ".jupyter-matplotlib-canvas-div canvas:first-of-type"
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

# A drawn canvas: at least this share of non-white pixels and this many colours.
MIN_INK = 0.01
MIN_COLORS = 3


@functools.cache
def page_script(name: str) -> str:
    """The JavaScript function in ``js/<name>.js``, as text for Playwright's ``evaluate``."""
    path = JS_DIR / f"{name}.js"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in JS_DIR.glob("*.js")))
        raise FileNotFoundError(f"no page script {name!r} in {JS_DIR} (known: {known})")
    return path.read_text(encoding="utf-8").strip()


def composed(outer: str, inner: str) -> str:
    """A page function ``x => outer(inner(x))`` of two page scripts."""
    return f"(x) => ({page_script(outer)})(({page_script(inner)})(x))"


#: page function: size, share of ink and number of colours of a canvas
CANVAS_STATS_JS = page_script("canvas_stats")
#: page function: the same statistics for an <img>, drawn into a canvas first
IMAGE_STATS_JS = composed("canvas_stats", "image_to_canvas")
#: page function of ``[canvas, [r, g, b], tol]``: the bars of that colour, with their heights
BAR_HEIGHTS_JS = page_script("bar_heights")


def drawn(stats: dict[str, Any]) -> bool:
    """Is a canvas with these statistics drawn (enough ink, enough colours)?"""
    return stats["ink"] >= MIN_INK and stats["colors"] >= MIN_COLORS


def wait_figures_drawn(lab: LabPage, scope: Any, deadline: float) -> list[dict[str, Any]]:
    """Scroll each ipympl figure in ``scope`` into view (as a student would) and poll until
    its canvas is drawn or ``deadline`` (time.monotonic) passes; return the canvases' stats."""
    figures = scope.locator(".jupyter-matplotlib")
    stats: list[dict[str, Any]] = []
    for k in range(figures.count()):
        figure = figures.nth(k)
        figure.scroll_into_view_if_needed()
        canvas = figure.locator(FIGURE_CANVAS).first
        current = canvas.evaluate(CANVAS_STATS_JS)
        while not drawn(current) and time.monotonic() < deadline:
            time.sleep(0.5)
            current = canvas.evaluate(CANVAS_STATS_JS)
        stats.append(current)
    return stats


class LabPage:
    """A JupyterLab page showing one notebook, with the few actions a student takes."""

    def __init__(self, page: Any, server: JupyterServer, artifacts: Path) -> None:
        self.page = page
        self.server = server
        self.artifacts = artifacts
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda err: self.console_errors.append(f"pageerror: {err}"))

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(msg.text)

    # -- opening and running

    def open_notebook(self, relpath: str, timeout: float = 180.0) -> None:
        """Open ``relpath`` (relative to the server root) in a fresh workspace; wait for its kernel."""
        self.page.goto(self.server.url(f"lab/tree/{relpath}") + "&reset", timeout=timeout * 1000)
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)

    def wait_kernel_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kernels = self.server.kernels()
            if kernels and all(k["execution_state"] == "idle" for k in kernels):
                return
            time.sleep(0.5)
        raise TimeoutError(f"no idle kernel after {timeout:.0f}s: {self.server.kernels()}")

    def menu(self, *labels: str) -> None:
        """Click through the menu bar, e.g. ``menu("Run", "Run All Cells")``."""
        self.page.click(f'.lm-MenuBar-itemLabel:text-is("{labels[0]}")')
        for label in labels[1:]:
            self.page.click(f'.lm-Menu:visible .lm-Menu-itemLabel:text-is("{label}")')

    def prompts(self) -> list[str]:
        """The input prompts of the code cells, e.g. ``['[1]:', '[*]:', '[ ]:']``."""
        return self.page.eval_on_selector_all(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt",
            "els => els.map(e => e.textContent.trim())",
        )

    def wait_run_finished(self, timeout: float) -> list[str]:
        """Wait until no cell is queued or running and the kernel is idle (3 polls in a row)."""
        deadline = time.monotonic() + timeout
        calm = 0
        prompts: list[str] = []
        while time.monotonic() < deadline:
            prompts = self.prompts()
            busy = any("*" in p for p in prompts)
            started = any(any(c.isdigit() for c in p) for p in prompts)
            idle = all(k["execution_state"] == "idle" for k in self.server.kernels())
            calm = calm + 1 if (started and idle and not busy) else 0
            if calm >= 3:
                return prompts
            time.sleep(1.0)
        self.screenshot("timeout")
        raise TimeoutError(
            f"run did not finish within {timeout:.0f}s; prompts {prompts}\n{self.server.log_tail(20)}"
        )

    # -- reading the notebook

    def cells(self) -> Any:
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    def output_text(self, cell: Any | None = None) -> str:
        """textContent of the output areas (all cells, or one cell), whether on screen or not."""
        scope = cell if cell is not None else self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        return "\n".join(scope.locator(".jp-OutputArea").evaluate_all("els => els.map(e => e.textContent)"))

    # -- pictures

    def screenshot(self, name: str, target: Any | None = None) -> Path:
        """Save a PNG of ``target`` (a locator) or of the whole window; return its path."""
        path = self.artifacts / f"{name}.png"
        if target is None:
            self.page.screenshot(path=str(path))
        else:
            target.screenshot(path=str(path))
        return path

    def screenshot_notebook(self, name: str, max_height: int = 16000) -> Path:
        """Screenshot the whole notebook: scroll it to the top, grow the window to the
        notebook's height (at most ``max_height`` px), take the picture, restore the window."""
        scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
        size = self.page.viewport_size
        extra = self.page.eval_on_selector(scroller, "e => e.scrollHeight - e.clientHeight")
        try:
            self.page.set_viewport_size({"width": size["width"], "height": min(size["height"] + extra, max_height)})
            self.page.eval_on_selector(scroller, "e => { e.scrollTop = 0; }")
            self.page.wait_for_timeout(2000)  # let lazily painted (content-visibility) cells paint
            return self.screenshot(name)
        finally:
            self.page.set_viewport_size(size)
