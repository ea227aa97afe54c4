"""Auditing feedback pages: which lines of hidden-test source a page shows."""
from __future__ import annotations

import html
import re


def leaked_lines(page: str, lines: list[str]) -> list[str]:
    """The ``lines`` (from :func:`grading.extensions.hiddenblocks.hidden_lines`) found in a
    feedback page, as markup or as the text the page shows (tags removed, entities decoded):
    an audit for feedback."""
    shown = html.unescape(re.sub(r"<[^>]+>", "", page))
    return [line for line in lines if line in page or line in shown or html.escape(line) in page]


