"""What a student is shown of a graded submission (grading.service.verdict): each exercise named
as on the feedback page, its score and messages, never hidden-test source; an ungraded one is an
error that says what to do."""
from __future__ import annotations

import json

import nbformat

from grading.batch.results import STATUS_ERROR, STATUS_OK, STATUS_TIMEOUT, SubmissionResult
from grading.batch.tasks import Outcome
from grading.extensions.hidehiddentests import WITHHELD
from grading.service.verdict import verdict
from helpers.notebooks import find_cell
from helpers.repo import SOURCE_NB

LAB = "multiclass_digits"
NB = f"{LAB}.ipynb"


def _autograded(softmax_output: str) -> bytes:
    """The source notebook (hidden tests in it, as an autograded one has) with test outputs."""
    nb = nbformat.read(SOURCE_NB, as_version=4)
    find_cell(nb, "test_my_softmax").outputs = [nbformat.v4.new_output("stream", name="stdout", text=softmax_output)]
    find_cell(nb, "test_model").outputs = [nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="Dense layer L3 should have 10 units", traceback=[])]
    return nbformat.writes(nb).encode()


GRADES = {"test_my_softmax": (10.0, False, 10.0), "test_model": (0.0, False, 10.0)}


def _outcome(notebook: bytes, status: str = STATUS_OK, notes: list[str] | None = None) -> Outcome:
    private = {"notebooks": {LAB: {"grades": GRADES, "comments": {}, "late_penalty": 0}}, "timestamp": None}
    return Outcome(SubmissionResult("ann", status, notes=notes or ["isolation: sandboxed"]),
                   private if status == STATUS_OK else None, {f"{LAB}/{NB}": notebook})


def test_each_exercise_with_its_score_and_messages() -> None:
    status, result = verdict(_outcome(_autograded("All tests passed!\n")), LAB, NB)
    assert status == "graded"
    assert (result["score"], result["max_score"]) == (10.0, 20.0)
    assert [(e["id"], e["name"], e["score"], e["max_score"]) for e in result["exercises"]] == [
        ("test_my_softmax", "Exercise 1: my_softmax", 10.0, 10.0),
        ("test_model", "Exercise 2: my_model", 0.0, 10.0)]
    assert result["exercises"][0]["messages"] == "All tests passed!\n"
    assert result["exercises"][1]["messages"] == "AssertionError: Dense layer L3 should have 10 units\n"
    assert result["message"] == ""  # the isolation note is the instructor's


def test_an_output_showing_hidden_test_source_is_withheld() -> None:
    source = nbformat.read(SOURCE_NB, as_version=4)
    cell = find_cell(source, "test_my_softmax").source
    hidden = cell.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
    line = max((ln.strip() for ln in hidden.splitlines()), key=len)
    status, result = verdict(_outcome(_autograded(f"printed by the student: {line}\n")), LAB, NB)
    assert result["exercises"][0]["messages"] == WITHHELD
    assert line not in json.dumps(result)


def test_an_ungraded_submission_is_an_error_that_says_so() -> None:
    nb = _autograded("")
    status, result = verdict(_outcome(nb, STATUS_TIMEOUT, ["killed after 600 s"]), LAB, NB)
    assert status == "error" and result["exercises"] == []
    assert "longer than the grader allows" in result["message"] and "killed after 600 s" in result["message"]
    assert "counted submission is unchanged" in result["message"]
    status, result = verdict(_outcome(nb, STATUS_ERROR, ["not graded: grading it stopped the worker"]), LAB, NB)
    assert status == "error" and "could not finish it" in result["message"]
