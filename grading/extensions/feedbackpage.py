"""FeedbackPageExporter: nbgrader's feedback page as a file that reads offline (the course's template),
and the base of the course's feedback preprocessors."""

from __future__ import annotations

from pathlib import Path

import nbgrader
from nbconvert.exporters import HTMLExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, default

#: The course's nbconvert templates; ``course_feedback`` extends nbgrader's ``feedback``.
TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "course_feedback"
#: Where nbgrader keeps its own ``feedback`` template (and the formgrader's).
NBGRADER_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
TEMPLATE_BASEDIRS = [str(TEMPLATES), str(NBGRADER_TEMPLATES)]


class FeedbackPreprocessor(NbGraderPreprocessor):
    """Base of the course's generate_feedback preprocessors (HideHiddenTests, FigureImages,
    RenderFormulas)."""

    #: Unused here. The HTML exporter sets it for every preprocessor; declared configurable (as in
    #: nbconvert, unlike nbgrader's base class) so that traitlets takes it without a warning on stderr.
    display_data_priority: List[str] = List().tag(config=True)


class FeedbackPageExporter(HTMLExporter):
    """The HTML exporter of ``nbgrader generate_feedback`` (``c.GenerateFeedback.exporter_class``).

    Its template is nbgrader's feedback page with each graded test named in the table of contents
    ("Exercise 1: my_softmax, 10/10"), long lines wrapped and no MathJax script (a request to a
    CDN: RenderFormulas draws the formulas). nbgrader sets ``HTMLExporter.template_name`` to its
    own template; ``nbgrader_config.py`` sets this class's, which wins over it, so the
    formgrader's exporter (a plain HTMLExporter) keeps its own template."""

    @default("template_file")
    def _template_file_default(self) -> str:
        return "feedback_page.html.j2"
