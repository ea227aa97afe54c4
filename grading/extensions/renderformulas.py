"""RenderFormulas: the formulas of Markdown cells drawn at export (matplotlib's mathtext), no MathJax."""

from __future__ import annotations

import base64
import html
import io
import re

import matplotlib
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.mathtext import MathTextParser
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode

from grading.extensions.feedbackpage import FeedbackPreprocessor

#: Size the formulas are drawn at (points); the page sizes them in em of this.
SIZE = 12.0
#: What Markdown leaves alone: fenced code blocks, then inline code spans.
CODE = re.compile(r"^(?P<fence>```|~~~).*?^(?P=fence)[ \t]*$|(?P<ticks>`+).+?(?P=ticks)", re.S | re.M)
#: $$display$$ or $inline$ (no newline, not empty; a backslash-escaped \$ is text).
FORMULA = re.compile(r"(?<!\\)\$\$(?P<display>.+?)(?<!\\)\$\$|(?<![\\$])\$(?P<inline>[^$\n]+?)(?<!\\)\$", re.S)
#: A one-column matrix environment, which mathtext lacks: drawn as stacked rows in delimiters.
MATRIX = re.compile(r"\\begin\{(?P<kind>[pbv])matrix\}(?P<rows>[^&]*?)\\end\{(?P=kind)matrix\}", re.S)
DELIMITERS = {"p": ("(", ")"), "b": ("[", "]"), "v": ("|", "|")}
#: mathtext sets every fraction small (text style); a displayed one gets display style.
FRACTION = re.compile(r"\\frac(?![A-Za-z])")
#: Characters of alt text that Markdown could read as markup even inside a tag.
MARKUP = {"*": "&#42;", "_": "&#95;", "\\": "&#92;", "`": "&#96;", "$": "&#36;", "\n": " "}
#: Lays a formula out (its size) without drawing it.
PARSER = MathTextParser("path")


class RenderFormulas(FeedbackPreprocessor):
    """For generate_feedback: each ``$...$`` and ``$$...$$`` of a Markdown cell becomes an SVG
    image of the formula (its TeX source as alternative text), so a page read offline shows
    formulas without MathJax. A formula mathtext cannot draw stays visible as its TeX source in
    a code span (and is logged), never dropped or drawn wrong."""

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type == "markdown" and "$" in cell.source:
            cell.source = self.render(cell.source)
        return cell, resources

    def render(self, markdown: str) -> str:
        """``markdown`` with its formulas replaced by images (code left as it is)."""
        parts, last = [], 0
        for code in CODE.finditer(markdown):
            parts += [FORMULA.sub(self._image, markdown[last : code.start()]), code.group(0)]
            last = code.end()
        return "".join(parts) + FORMULA.sub(self._image, markdown[last:])

    def _image(self, match: re.Match[str]) -> str:
        display = match.group("display") is not None
        tex = (match.group("display") if display else match.group("inline")).strip()
        try:
            svg, width, height, depth = _draw(FRACTION.sub(r"\\dfrac", tex) if display else tex)
        except Exception as error:  # mathtext raises ValueError and others for TeX it lacks
            self.log.warning("feedback: formula shown as TeX source (%s): %s", type(error).__name__, tex)
            return f'<code class="formula-source">{html.escape(match.group(0))}</code>'
        data = base64.b64encode(svg).decode("ascii")
        alt = "".join(MARKUP.get(ch, ch) for ch in html.escape(tex))
        style = f"width:{width / SIZE:.3f}em;height:{height / SIZE:.3f}em;"
        style += "display:block;margin:0.6em auto;" if display else f"vertical-align:{-depth / SIZE:.3f}em;"
        kind = "formula formula-display" if display else "formula"
        return f'<img class="{kind}" src="data:image/svg+xml;base64,{data}" alt="{alt}" style="{style}">'


def _stack(match: re.Match[str]) -> str:
    """A one-column matrix as mathtext can draw it: its rows in two stacks, one over the other
    (a fraction without a rule, so the matrix is centred on the formula's axis), in delimiters."""
    left, right = DELIMITERS[match.group("kind")]
    rows = [row.strip() for row in match.group("rows").split(r"\\") if row.strip()]
    if len(rows) < 2:
        return rf"\left{left}{''.join(rows)}\right{right}"
    half = (len(rows) + 1) // 2
    top, bottom = (r"\substack{" + r" \\ ".join(part) + "}" for part in (rows[:half], rows[half:]))
    return rf"\genfrac{{{left}}}{{{right}}}{{0}}{{0}}{{{top}}}{{{bottom}}}"


def _draw(tex: str) -> tuple[bytes, float, float, float]:
    """SVG of ``tex`` (paths, no fonts needed) and its width, height and depth in points."""
    tex = MATRIX.sub(_stack, tex)
    prop = FontProperties(size=SIZE)
    box = PARSER.parse(f"${tex}$", dpi=72, prop=prop)
    width, height, depth = float(box.width), float(box.height), float(box.depth)
    fig = Figure(figsize=(width / 72, height / 72))
    fig.text(0, depth / height, f"${tex}$", fontproperties=prop)
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "formula"}):
        fig.savefig(buf, format="svg", dpi=72, transparent=True, metadata={"Date": None})
    return buf.getvalue(), width, height, depth
