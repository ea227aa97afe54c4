"""grading.extensions.hiddenblocks: a test cell's hidden blocks and their distinctive lines."""
from __future__ import annotations

import nbformat
import pytest

from grading.extensions.hiddenblocks import hidden_lines, split_hidden

CELL = """test_my_softmax(my_softmax)
### BEGIN HIDDEN TESTS
assert my_softmax(np.zeros(3)).sum() == 1, "the outputs must sum to 1"
### END HIDDEN TESTS
print("public again")
### BEGIN HIDDEN TESTS (a second block, the marker with a comment)
raise ValueError("never for this input")
### END HIDDEN TESTS
"""


def test_split_hidden_takes_every_block_out_of_the_public_part():
    public, hidden = split_hidden(CELL)
    assert public == 'test_my_softmax(my_softmax)\nprint("public again")'
    assert hidden == ('assert my_softmax(np.zeros(3)).sum() == 1, "the outputs must sum to 1"\n\n'
                      'raise ValueError("never for this input")\n')
    assert split_hidden("test_model(model, 10, 400)\n") == ("test_model(model, 10, 400)\n", None)


@pytest.mark.parametrize("broken", [
    "x = 1\n### BEGIN HIDDEN TESTS\nassert x\n",  # no END
    "x = 1\n### END HIDDEN TESTS\n",  # no BEGIN
], ids=["no END", "no BEGIN"])
def test_an_unmatched_marker_is_an_error_not_a_public_line(broken):
    with pytest.raises(ValueError, match="unmatched"):
        split_hidden(broken)


def test_hidden_lines_are_the_distinctive_code_lines_only_hidden_blocks_hold():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("### BEGIN HIDDEN TESTS\nnot code: never run\n### END HIDDEN TESTS\n"),
        nbformat.v4.new_code_cell("def helper_in_public(z):\n    return z\n"),
        nbformat.v4.new_code_cell(
            "test_my_softmax(my_softmax)\n### BEGIN HIDDEN TESTS\n"
            "_probe = np.linspace(-3, 3, 7)\n"  # distinctive: kept
            "x = 1\n"  # too short
            "def helper_in_public(z):\n"  # also in a public part
            "assert ok(_probe), (\n"
            "    'a message written to be shown'\n"  # only a string: kept out
            ")\n"
            "### END HIDDEN TESTS\n"),
    ]
    assert hidden_lines(nb) == ["_probe = np.linspace(-3, 3, 7)", "assert ok(_probe), ("]
