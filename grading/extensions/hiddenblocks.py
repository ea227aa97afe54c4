"""Hidden-test blocks of a test cell: the parsing the extensions that keep them hidden share.

nbgrader's feedback is the autograded notebook rendered to HTML, hidden tests and all
(nbgrader issue #917). Scrubbing the HTML afterwards cannot catch a student's code that
prints the hidden source in an encoded form, so the design keeps the source away from
anything that reaches feedback:

1. :class:`~grading.extensions.hiddentestslast.HiddenTestsLast` (autograde, in place of
   nbgrader's ``Execute``) runs every cell with its hidden-test block removed: the outputs
   that feedback shows all come from a kernel that has not yet received a line of
   hidden-test code. Then, in a final phase, it runs the hidden blocks of the test cells
   whose public part passed. Nothing that phase produces (outputs, display updates, widget
   state) is kept: the grader keeps only a verdict per cell. A failed block adds one error
   output to its test cell (so nbgrader's SaveAutoGrades scores it 0, as it would have)
   whose text comes from the source notebook, not from the kernel: the hidden test's own
   message when the kernel reported it word for word, else a generic sentence. Student code
   can therefore influence feedback during that phase only by choosing among a handful of
   fixed sentences per cell.
2. :class:`~grading.extensions.hidehiddentests.HideHiddenTests` (generate_feedback) replaces
   each hidden block in the cell sources with a one-line note and, as a second line of
   defence, withholds any output that contains a line of hidden-test source (e.g. a
   submission that read the source notebook from disk: only an OS sandbox, as in
   ``python -m grading``, prevents that).

The hidden blocks therefore check the state the whole notebook leaves (the test cell's
objects as the last cell left them), which for this lab is the state each test cell saw:
later cells are read-only and only train the model.
"""
from __future__ import annotations

import ast
import re

from nbformat.notebooknode import NotebookNode

BEGIN = "### BEGIN HIDDEN TESTS"
END = "### END HIDDEN TESTS"
_BLOCK = re.compile(r"^[ \t]*" + re.escape(BEGIN) + r"[^\n]*\n(.*?)^[ \t]*" + re.escape(END) + r"[^\n]*\n?",
                    re.S | re.M)


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


def hidden_messages(hidden: str) -> set[str]:
    """The teaching messages a hidden block can fail with: its literal ``assert`` messages
    and the literal arguments of the exceptions it raises."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(hidden)):
        msg = None
        if isinstance(node, ast.Assert):
            msg = node.msg
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            msg = node.exc.args[0]
        if isinstance(msg, ast.Constant) and isinstance(msg.value, str):
            found.add(msg.value)
    return found


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
