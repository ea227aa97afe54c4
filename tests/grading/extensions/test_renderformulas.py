"""grading.extensions.renderformulas (RenderFormulas): every formula of the lab's Markdown is drawn
as an SVG image with its TeX as alternative text (no MathJax); code is left alone; a formula
mathtext cannot draw stays visible as its source, and is logged."""
from __future__ import annotations

import base64
import html
import logging
import re

import nbformat
from nbconvert.exporters.exporter import ResourcesDict

from grading.extensions.renderformulas import CODE, FORMULA, RenderFormulas
from helpers.feedback_page import course_feedback_page
from helpers.repo import SOURCE_NB


def _images(text: str) -> list[tuple[str, bytes]]:
    """(alt, SVG) of each formula image in ``text``, in order."""
    found = []
    for tag in re.findall(r"<img\b[^>]*>", text):
        if 'class="formula' in tag:
            svg = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', tag)
            alt = re.search(r'alt="([^"]*)"', tag)
            found.append((html.unescape(alt.group(1)) if alt else "", base64.b64decode(svg.group(1)) if svg else b""))
    return found


def test_every_formula_of_the_lab_is_drawn_and_none_is_left_as_tex():
    renderer = RenderFormulas()
    nb, _ = renderer.preprocess(nbformat.read(SOURCE_NB, as_version=4), ResourcesDict())
    source = nbformat.read(SOURCE_NB, as_version=4)
    expected = [m.group("display") or m.group("inline") for c in source.cells if c.cell_type == "markdown"
                for m in FORMULA.finditer(CODE.sub("", c.source))]
    drawn = [alt for c in nb.cells if c.cell_type == "markdown" for alt, _ in _images(c.source)]
    assert len(expected) >= 30 and drawn == [tex.strip() for tex in expected]
    for cell, before in zip(nb.cells, source.cells, strict=True):
        if cell.cell_type == "markdown":
            assert "formula-source" not in cell.source
            assert "$" not in CODE.sub("", cell.source), cell.source  # what Markdown shows as text
            assert CODE.findall(cell.source) == CODE.findall(before.source)  # code untouched
        else:
            assert cell.source == before.source


def test_formulas_are_svg_paths_sized_in_em_and_code_keeps_its_dollars():
    text = RenderFormulas().preprocess(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Cost $J(w,b)$ in `f\"${x}$\"`, a price \\$5, and\n\n$$\\begin{pmatrix} a \\\\ b \\end{pmatrix}$$\n\n"
        "```python\nprint('$x$')\n```")]), ResourcesDict())[0].cells[0].source
    (inline_alt, inline_svg), (display_alt, _) = _images(text)
    assert (inline_alt, display_alt) == ("J(w,b)", r"\begin{pmatrix} a \\ b \end{pmatrix}")
    assert inline_svg.startswith(b"<?xml") and b"<path" in inline_svg and b"<text" not in inline_svg
    assert "vertical-align:" in text and "display:block" in text
    assert "`f\"${x}$\"`" in text and "\\$5" in text and "print('$x$')" in text


def test_a_formula_mathtext_cannot_draw_is_shown_as_its_source_and_logged(caplog):
    renderer = RenderFormulas()
    with caplog.at_level(logging.WARNING):
        nb, _ = renderer.preprocess(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
            r"Fine $x^2$, not $\begin{cases} 1 & x > 0 \end{cases}$.")]), ResourcesDict())
    text = nb.cells[0].source
    assert [alt for alt, _ in _images(text)] == ["x^2"]
    assert '<code class="formula-source">$\\begin{cases} 1 &amp; x &gt; 0 \\end{cases}$</code>' in text
    assert "formula shown as TeX source" in caplog.text


def test_the_course_feedback_page_has_formula_images_and_no_mathjax():
    cell = nbformat.v4.new_markdown_cell("Softmax $$a_j = \\frac{e^{z_j}}{\\sum_k e^{z_k}}$$")
    page = course_feedback_page(nbformat.v4.new_notebook(cells=[cell]))
    assert [alt for alt, _ in _images(page)] == [r"a_j = \frac{e^{z_j}}{\sum_k e^{z_k}}"]
    assert "<script" not in page  # no MathJax (nor any other script) to load
