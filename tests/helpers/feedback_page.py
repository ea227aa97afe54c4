"""Feedback pages as the course writes them and as a student reads them offline.

:func:`course_feedback_page` exports a notebook the way ``nbgrader generate_feedback`` does with
the course's ``nbgrader_config.py`` (its GenerateFeedback preprocessors and exporter), without a
gradebook. :func:`read_offline` opens a page in a real headless Chromium with every request that
is not a ``file://`` one aborted (and recorded), and reports what a student would see.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import nbgrader
from nbconvert.exporters import HTMLExporter
from nbgrader.preprocessors import GetGrades
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from grading.extensions.renderformulas import CODE, FORMULA
from helpers.chromium import CHROMIUM, CHROMIUM_ARGS, MISSING
from helpers.repo import ROOT, SOURCE_NB

BOOTSTRAP_CSS = Path(nbgrader.__file__).parent / "server_extensions/formgrader/static/node_modules/bootstrap/dist/css"


def course_feedback_page(nb: nbformat.NotebookNode, score: dict[str, float] | None = None) -> str:
    """The feedback page of the autograded notebook ``nb`` as the course's config writes it:
    GetGrades (which reads the gradebook) left out, each graded cell scored ``score[grade_id]``
    (full marks unless given)."""
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    nb = nbformat.from_dict(nb)
    total = 0.0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader") or {}
        if meta.get("grade"):
            meta["score"] = (score or {}).get(meta["grade_id"], meta.get("points", 0))
            total += meta["score"]
    config = Config(cfg)
    config.HTMLExporter.template_name = "feedback"  # as nbgrader's GenerateFeedback sets them
    config.HTMLExporter.extra_template_basedirs = [str(BOOTSTRAP_CSS.parents[4] / "templates")]
    config.HTMLExporter.extra_template_paths = [str(BOOTSTRAP_CSS)]
    exporter_class = cfg.GenerateFeedback.exporter_class if "exporter_class" in cfg.GenerateFeedback else HTMLExporter
    exporter = exporter_class(config=config)
    for preprocessor in cfg.GenerateFeedback.preprocessors:
        if preprocessor is not GetGrades:
            exporter.register_preprocessor(preprocessor, enabled=True)
    points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("grade"))
    resources = {"nbgrader": {"notebook": "lab", "score": total, "max_score": points, "late_penalty": 0}}
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    return page


@dataclass
class OfflinePage:
    """What Chromium showed of a page with the network off."""

    requests: list[str] = field(default_factory=list)  #: every non-file URL the page asked for
    text: str = ""  #: the visible text (``innerText`` of the body)
    figures: list[dict[str, Any]] = field(default_factory=list)  #: alt, size, colours, ink of each non-formula <img>
    formulas: list[dict[str, Any]] = field(default_factory=list)  #: alt and size of each formula <img>
    broken: list[str] = field(default_factory=list)  #: alt (or src start) of each <img> not drawn
    no_alt: list[str] = field(default_factory=list)  #: src start of each <img> without alt text
    width: int = 0  #: how wide the page is drawn (px; wider than ``viewport`` when a line does not wrap)
    viewport: int = 0


def read_offline(page_path: Path, screenshot: Path | None = None) -> OfflinePage:
    """Open ``page_path`` in headless Chromium with the network cut; optionally screenshot the whole page.

    Playwright's sync API runs in a thread of its own: it refuses a thread with a running asyncio
    loop, which an earlier test of the same pytest worker may leave (nbclient's nested loops)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_read_offline, page_path, screenshot).result()


def _read_offline(page_path: Path, screenshot: Path | None) -> OfflinePage:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError(MISSING)
    seen = OfflinePage()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                     timeout=120_000)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
            context.set_default_timeout(60_000)
            page = context.new_page()

            def cut(route: Any) -> None:
                url = route.request.url
                if url.startswith(("file://", "data:")):
                    route.continue_()
                else:
                    seen.requests.append(url)
                    route.abort()

            page.route("**/*", cut)
            page.goto(Path(page_path).resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(500)  # scripts that would load more run after load
            seen.text = page.inner_text("body")
            seen.width, seen.viewport = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            for img in page.query_selector_all("img"):
                info = img.evaluate("e => ({alt: e.getAttribute('alt') || '', src: (e.getAttribute('src') || '')"
                                    ".slice(0, 40), drawn: e.complete && e.naturalWidth > 0, w: e.naturalWidth,"
                                    " h: e.naturalHeight, formula: e.classList.contains('formula')})")
                if not info["alt"].strip():
                    seen.no_alt.append(info["src"])
                if not info["drawn"]:
                    seen.broken.append(info["alt"] or info["src"])
                    continue
                if info["formula"]:
                    seen.formulas.append(info)
                    continue
                img.scroll_into_view_if_needed()
                info.update(_ink(img.screenshot()))
                seen.figures.append(info)
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen


def _ink(png: bytes) -> dict[str, Any]:
    """How many colours a screenshot has, and the share of its pixels that are not near-white."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    return {"colours": len(np.unique(pixels, axis=0)), "ink": float((pixels.min(axis=1) < 235).mean())}


def assert_reads_offline(page: Path, screenshot: Path | None = None) -> None:
    """The feedback page of the whole lab run, full marks, as a student reads it offline: no
    request leaves the machine, each figure of the lab is an image with non-blank pixels, each
    formula an image (no ``$`` left in the text), every image has alternative text, each graded
    test is named in the table of contents, and no line makes the page wider than the window."""
    source = nbformat.read(SOURCE_NB, as_version=4)
    figures = [o for c in source.cells if c.cell_type == "code" for o in c.outputs
               if {"image/png", "application/vnd.jupyter.widget-view+json"} & set(o.get("data", {}))]
    formulas = [m.group(0) for c in source.cells if c.cell_type == "markdown"
                for m in FORMULA.finditer(CODE.sub("", c.source))]
    assert len(figures) >= 10 and len(formulas) >= 30
    seen = read_offline(page, screenshot)
    print(f"\noffline feedback: {len(seen.figures)} figures, {len(seen.formulas)} formulas, "
          f"requests {seen.requests}")
    assert seen.requests == []
    assert seen.broken == [] and seen.no_alt == []
    assert len(seen.figures) == len(figures), [f["alt"] for f in seen.figures]
    for figure in seen.figures:
        assert figure["colours"] > 8 and figure["ink"] > 0.01, figure
    assert len(seen.formulas) == len(formulas)
    assert "formula-source" not in page.read_text()  # none left as TeX source
    assert "$" not in seen.text, [line for line in seen.text.splitlines() if "$" in line]
    assert "Exercise 1: my_softmax, 10/10" in seen.text and "Exercise 2: my_model, 10/10" in seen.text
    assert "Test cell" not in seen.text
    assert seen.width <= seen.viewport, (seen.width, seen.viewport)
