"""utils.repair on the corpus of foreign and damaged notebooks, and on everything in between.

Fast: no notebook runs. The corpus (helpers.foreign) is the same one the plain-path batch grades
(test_plain_path.py) and the refresh command rewrites (test_refresh.py).
"""
from __future__ import annotations

import copy
import json

import nbformat
import pytest

from helpers.foreign import CASES, filled, twin
from helpers.notebooks import find_cell, grade_id
from helpers.submissions import MODEL_REFERENCE, SOFTMAX_REFERENCE, SOFTMAX_WRONG, read_release
from utils.repair import (
    MAX_CELL_CHARS, MAX_CELLS, METADATA_LOST, Unparsable, parse_submission, repair_submission,
)
from utils.repair.matching import join_pieces, markers

RELEASE = read_release()
SOLUTIONS = ("my_softmax", "my_model")


def as_json(nb) -> dict:
    return json.loads(json.dumps(nb))


def strip_marks(nb: dict, ids: bool = True) -> dict:
    """``nb`` as another editor leaves it: no nbgrader metadata (and no cell ids)."""
    for cell in nb["cells"]:
        cell["metadata"] = {}
        if ids:
            cell.pop("id", None)
    return nb


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_repairs_to_its_twin_or_says_what_is_missing(name):
    case = CASES[name]
    result = repair_submission(RELEASE, parse_submission(case.build()))
    assert result.status == case.status, result.note
    assert result.missing == case.missing
    assert case.note in result.note and "\n" not in result.note
    assert result.complete is not case.flagged
    expected = twin(case)
    assert len(result.notebook.cells) == len(expected.cells)
    for got, want, rel in zip(result.notebook.cells, expected.cells, RELEASE.cells):
        assert (got.cell_type, got.get("id"), got.metadata) == (rel.cell_type, rel.get("id"), rel.metadata)
        if grade_id(rel) in result.missing:
            assert got.source == rel.source  # the release's unanswered cell: the exercise scores 0
        else:
            assert got.source == want.source, grade_id(rel)
    assert result.notebook.metadata == RELEASE.metadata


@pytest.mark.parametrize("name", sorted(CASES))
def test_only_graded_cells_ever_come_from_the_student(name):
    result = repair_submission(RELEASE, parse_submission(CASES[name].build()))
    for got, rel in zip(result.notebook.cells, RELEASE.cells):
        if grade_id(rel) not in SOLUTIONS:
            assert got == rel


def test_a_clean_submission_is_ok_with_no_note():
    result = repair_submission(RELEASE, as_json(filled({"my_softmax": SOFTMAX_REFERENCE})))
    assert (result.status, result.note, result.missing) == ("ok", "", ())
    assert dict(result.found) == {"my_softmax": "grade id", "my_model": "grade id"}


def test_release_is_not_changed_and_the_result_is_a_notebook_node():
    before = copy.deepcopy(RELEASE)
    result = repair_submission(RELEASE, as_json(filled({"my_softmax": SOFTMAX_WRONG})))
    assert RELEASE == before
    assert isinstance(result.notebook, nbformat.NotebookNode)
    nbformat.validate(result.notebook)


ANY_SHAPE = [None, 0, "text", [], [1, 2], {}, {"nbformat": 4}, {"cells": None}, {"cells": "abc"},
             {"cells": [None, 1, "x", [], {}]}, {"cells": [{"cell_type": 3, "source": "x"}]},
             {"cells": [{"cell_type": "code", "source": [1, 2]}]},
             {"cells": [{"cell_type": "code", "source": "x", "metadata": "m"}]},
             {"cells": [{"cell_type": "code", "source": "x", "metadata": {"nbgrader": [1]}}]},
             {"cells": [{"cell_type": "code", "source": "x", "metadata": {"nbgrader": {"grade_id": 5}}}]},
             {"cells": [{"cell_type": "code", "source": "x", "id": 7}]},
             {"nbformat": "4", "cells": []}, {"nbformat": 5, "cells": []},
             {"worksheets": [{"cells": []}]}, Unparsable("whatever")]


@pytest.mark.parametrize("submitted", ANY_SHAPE, ids=[repr(s)[:40] for s in ANY_SHAPE])
def test_nothing_of_any_shape_raises_and_every_exercise_then_scores_zero(submitted):
    result = repair_submission(RELEASE, submitted)
    assert result.status in ("incomplete", "unreadable")
    assert result.missing == SOLUTIONS
    assert [c.source for c in result.notebook.cells] == [c.source for c in RELEASE.cells]
    assert result.note and "\n" not in result.note and len(result.note) < 200


@pytest.mark.parametrize("raw, says", [
    (b"PK\x03\x04rest", "zip archive"), (b"%PDF-1.7", "PDF"), (b"<!DOCTYPE html><html>", "HTML page"),
    (b"", "empty file"), (b"\xff\xfe\x00{", "binary file"), (b'{"cells": [1, 2', "invalid JSON at line 1"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_files_that_are_no_notebook_say_what_they_are(raw, says):
    value = parse_submission(raw)
    assert isinstance(value, Unparsable) and says in value.reason
    assert says in repair_submission(RELEASE, value).note


def test_parse_accepts_a_byte_order_mark_and_refuses_what_is_too_big():
    data = nbformat.writes(filled({})).encode()
    assert parse_submission(b"\xef\xbb\xbf" + data) == json.loads(data)
    assert "over the" in parse_submission(data, max_bytes=len(data) - 1).reason


def test_too_many_cells_are_not_read():
    nb = {"nbformat": 4, "cells": [{"cell_type": "raw", "source": ""}] * (MAX_CELLS + 1)}
    assert f"over the {MAX_CELLS}" in repair_submission(RELEASE, nb).note


def test_an_oversized_graded_cell_is_not_taken():
    nb = as_json(filled({"my_softmax": SOFTMAX_REFERENCE + "\n#" + "x" * MAX_CELL_CHARS}))
    result = repair_submission(RELEASE, nb)
    assert result.missing == ("my_softmax",) and "over the" in result.note


def test_markers_of_the_release_graded_cells():
    assert markers(find_cell(RELEASE, "my_softmax").source) == {"UNQ_C1", "graded cell: my_softmax"}
    assert markers(find_cell(RELEASE, "my_model").source) == {"UNQ_C2", "graded cell: sequential model"}
    assert markers("#unq_c1\n  #  Graded Cell:   My_Softmax  ") == {"UNQ_C1", "graded cell: my_softmax"}


def _softmax_copies(nb: dict) -> list[int]:
    return [i for i, c in enumerate(nb["cells"]) if "# UNQ_C1" in "".join(c["source"])]


def test_of_several_copies_the_last_above_the_test_is_graded():
    nb = as_json(filled({"my_softmax": SOFTMAX_WRONG}))
    at = _softmax_copies(nb)[0]
    answer = copy.deepcopy(nb["cells"][at]) | {"source": SOFTMAX_REFERENCE}
    later = copy.deepcopy(nb["cells"][at]) | {"source": SOFTMAX_WRONG.replace("np.sum(z)", "2")}
    nb["cells"].insert(at + 1, answer)  # above the test: the test saw this one
    nb["cells"].append(later)  # below the test: a later experiment
    result = repair_submission(RELEASE, nb)
    assert find_cell(result.notebook, "my_softmax").source == SOFTMAX_REFERENCE
    assert result.copies == {"my_softmax": 3} and "3 copies" in result.note
    test = next(i for i, c in enumerate(nb["cells"]) if grade_id(c) == "test_my_softmax")
    del nb["cells"][test]  # without its test cell: the last copy
    result = repair_submission(RELEASE, nb)
    assert find_cell(result.notebook, "my_softmax").source == later["source"]


def test_a_markdown_copy_never_wins_over_a_code_copy():
    nb = as_json(filled({"my_softmax": SOFTMAX_REFERENCE}))
    at = _softmax_copies(nb)[0]
    nb["cells"].insert(at + 1, copy.deepcopy(nb["cells"][at]) | {"cell_type": "markdown", "source": "# UNQ_C1\nnotes"})
    for key in ("outputs", "execution_count"):
        nb["cells"][at + 1].pop(key)
    assert find_cell(repair_submission(RELEASE, nb).notebook, "my_softmax").source == SOFTMAX_REFERENCE


def test_a_graded_cell_turned_into_markdown_is_graded_as_code():
    nb = as_json(filled({"my_model": MODEL_REFERENCE}))
    cell = nb["cells"][[grade_id(c) for c in nb["cells"]].index("my_model")]
    cell["cell_type"] = "markdown"
    for key in ("outputs", "execution_count"):
        cell.pop(key)
    result = repair_submission(RELEASE, nb)
    assert find_cell(result.notebook, "my_model").source == MODEL_REFERENCE
    assert "my_model was a markdown cell: graded as code" in result.note


@pytest.mark.parametrize("cut_before", ["return a", "    return a", "a = ez", "np.sum(ez)", "ez = np.exp"])
@pytest.mark.parametrize("pieces", [2, 3])
def test_split_cells_are_joined_back_wherever_the_cursor_was(cut_before, pieces):
    nb = as_json(filled({"my_softmax": SOFTMAX_REFERENCE}))
    at = _softmax_copies(nb)[0]
    source = nb["cells"][at]["source"]
    cuts = [source.index(cut_before)] + ([source.index("### START CODE")] if pieces == 3 else [])
    bounds = [0, *sorted(cuts), len(source)]
    parts = [source[a:b].strip("\n") for a, b in zip(bounds, bounds[1:])]  # JupyterLab trims newlines
    cells = [copy.deepcopy(nb["cells"][at]) | {"source": part} for part in parts]
    nb["cells"][at:at + 1] = cells
    result = repair_submission(RELEASE, nb)
    joined = find_cell(result.notebook, "my_softmax").source
    compile(joined, "joined", "exec")
    assert joined.replace("\n\n", "\n") == SOFTMAX_REFERENCE.replace("\n\n", "\n")
    assert result.split == {"my_softmax": pieces}


def test_join_pieces_keeps_a_cut_inside_a_word():
    assert join_pieces(["y = 1 +", " 2"]) == "y = 1 + 2"
    assert join_pieces(["x = 1", "y = 2"]) == "x = 1\ny = 2"
    assert join_pieces(["def f():\n    ", "return 1"]) == "def f():\n    return 1"


def test_without_metadata_and_markers_the_graded_cell_is_found_by_its_place():
    nb = strip_marks(as_json(filled({"my_softmax": SOFTMAX_REFERENCE, "my_model": MODEL_REFERENCE})))
    for cell in nb["cells"]:
        cell["source"] = "".join(cell["source"]).replace("# UNQ_C1\n# GRADED CELL: my_softmax\n", "")
    result = repair_submission(RELEASE, nb)
    assert result.status == "repaired" and result.found["my_softmax"] == "position"
    assert find_cell(result.notebook, "my_softmax").source == SOFTMAX_REFERENCE.split("\n", 2)[2]
    at = next(i for i, c in enumerate(nb["cells"]) if c["source"].startswith("\ndef my_softmax"))
    nb["cells"].insert(at, {"cell_type": "code", "metadata": {}, "source": "print(1)", "outputs": [],
                            "execution_count": None})
    result = repair_submission(RELEASE, nb)  # two new cells where it was: which one?
    assert result.missing == ("my_softmax",) and "several new cells in its place" in result.note


def test_a_missing_graded_cell_names_the_likely_cause():
    nb = strip_marks(as_json(filled({"my_softmax": SOFTMAX_REFERENCE})))
    nb["cells"] = [c for c in nb["cells"] if "# UNQ_C2" not in "".join(c["source"])]
    result = repair_submission(RELEASE, nb)
    assert result.status == "incomplete" and result.missing == ("my_model",)
    assert result.note.startswith(f"my_model not found ({METADATA_LOST}): scores 0")
    assert result.note.count(";") <= 3  # one short line, never a list of every cell


def test_a_release_that_is_no_notebook_is_an_error():
    with pytest.raises(ValueError, match="release notebook is not usable"):
        repair_submission({"cells": []}, as_json(RELEASE))
