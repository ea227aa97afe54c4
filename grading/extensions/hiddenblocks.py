"""Hidden-test blocks of a test cell: the parsing the extensions that keep them hidden share.

nbgrader's feedback is the autograded notebook rendered to HTML, hidden tests and all
(nbgrader issue #917). Scrubbing the HTML afterwards cannot catch a student's code that
prints the hidden source in an encoded form, so the design keeps the source away from
anything that reaches feedback:

1. at autograde, :class:`~grading.extensions.judgedexecute.JudgedExecute` removes each test
   cell's hidden block before any cell runs and judges its hidden calls after the last cell,
   in the grader's process; a failure adds one error output whose text is a fixed sentence
   of the judge's, never the kernel's;
2. :class:`~grading.extensions.hidehiddentests.HideHiddenTests` (generate_feedback) replaces
   each hidden block in the cell sources with a one-line note and, as a second line of
   defence, withholds any output that contains a line of hidden-test source (e.g. a
   submission that read the source notebook from disk: only an OS sandbox, as in
   ``python -m grading``, prevents that).
"""

from __future__ import annotations

import re

from nbformat.notebooknode import NotebookNode

BEGIN = "### BEGIN HIDDEN TESTS"
END = "### END HIDDEN TESTS"
_BLOCK = re.compile(
    r"^[ \t]*" + re.escape(BEGIN) + r"[^\n]*\n(.*?)^[ \t]*" + re.escape(END) + r"[^\n]*\n?", re.S | re.M
)


def split_hidden(source: str) -> tuple[str, str | None]:
    """Split a test cell's source into (public part, hidden block or None).

    The hidden block is what lies between the ``### BEGIN HIDDEN TESTS`` and
    ``### END HIDDEN TESTS`` lines (several blocks are joined). Raises ValueError for a
    BEGIN without its END, so a malformed source notebook fails loudly.
    """
    blocks = _BLOCK.findall(source)
    public = _BLOCK.sub("", source)
    if BEGIN in public or END in public:
        raise ValueError(f"unmatched {BEGIN!r} / {END!r} in a test cell")
    if not blocks:
        return source, None
    return public.rstrip("\n"), "\n".join(blocks)


def hidden_lines(nb: NotebookNode, min_chars: int = 12) -> list[str]:
    """Distinctive lines of the notebook's hidden blocks (stripped, at least ``min_chars``
    long and not found in the cells' public parts): what must never reach a student.

    Lines that are only a string (the continuation of an assert message) are left out:
    those messages are written to be shown when the test fails."""
    public = "\n".join(split_hidden(c.source)[0] for c in nb.cells)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        hidden = split_hidden(cell.source)[1]
        for line in (hidden or "").splitlines():
            text = line.strip()
            if text[:1] in "\"'" or text[:2] in ('f"', "f'"):
                continue
            if len(text) >= min_chars and re.search(r"[A-Za-z]", text) and text not in public:
                lines.append(text)
    return lines
