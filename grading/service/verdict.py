"""What the student is shown of a graded submission: the score of each exercise, the total and
each test's messages, taken from the autograded notebook and its grades (hidden-test source
never: the same screening as the feedback page's, HideHiddenTests)."""

from __future__ import annotations

import nbformat

from grading.batch.results import STATUS_FLAGGED, STATUS_OK, STATUS_TIMEOUT
from grading.batch.tasks import Outcome
from grading.extensions.hiddenblocks import hidden_lines
from grading.extensions.hidehiddentests import WITHHELD

MESSAGE_CHARS = 4000  # per exercise: the test's own messages are a few lines


def _output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    if output.get("output_type") == "error":
        return f"{output.get('ename', '')}: {output.get('evalue', '')}\n"
    text = output.get("data", {}).get("text/plain")
    return str(text) + "\n" if text else ""


def exercises(notebook: bytes, grades: dict[str, tuple]) -> list[dict]:
    """One entry per graded test cell, in notebook order: id, "Exercise N: answer", score,
    max_score, messages (its outputs as text, withheld if they show hidden-test source)."""
    nb = nbformat.reads(notebook.decode("utf-8"), as_version=4)
    secret = hidden_lines(nb)
    found: list[dict] = []
    answer = ""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answer = meta.get("grade_id", "")
        if not meta.get("grade") or meta.get("solution"):
            continue
        gid = meta.get("grade_id", "")
        auto, _, max_score = grades.get(gid, (0.0, True, meta.get("points", 0)))
        text = "".join(_output_text(o) for o in cell.get("outputs", []))
        if any(line in text for line in secret):
            text = WITHHELD
        found.append(
            {
                "id": gid,
                "name": f"Exercise {len(found) + 1}: {answer or gid}",
                "score": float(auto or 0.0),
                "max_score": float(max_score or 0.0),
                "messages": text[:MESSAGE_CHARS],
            }
        )
    return found


def verdict(outcome: Outcome, assignment: str, notebook: str) -> tuple[str, dict]:
    """(status, result) of an outcome: status "graded" or "error"; result has exercises,
    score, max_score and a message for the student."""
    res = outcome.result
    if res.status not in (STATUS_OK, STATUS_FLAGGED) or outcome.private is None:
        why = (
            "it took longer than the grader allows (an endless loop?)"
            if res.status == STATUS_TIMEOUT
            else ("the grader could not finish it")
        )
        detail = [n for n in res.notes if n.startswith(("not graded", "killed after", "nbgrader exit"))]
        return "error", {
            "exercises": [],
            "message": f"Not graded: {why}. Nothing was recorded for this submission; your counted "
            "submission is unchanged. You can submit again." + (f" ({'; '.join(detail)[:300]})" if detail else ""),
        }
    stem = notebook.removesuffix(".ipynb")
    grades = outcome.private["notebooks"].get(stem, {}).get("grades", {})
    graded = outcome.autograded.get(f"{assignment}/{notebook}")
    found = exercises(graded, grades) if graded is not None else []
    notes = [n for n in res.notes if not n.startswith(("isolation:", "course files changed"))]
    return "graded", {
        "exercises": found,
        "score": sum(e["score"] for e in found),
        "max_score": sum(e["max_score"] for e in found),
        "message": "; ".join(notes)[:1000],
    }
