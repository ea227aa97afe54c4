"""grading.batch.report: the instructor's report from hand-made results and autograded notebooks."""
from __future__ import annotations

import nbformat
from helpers.courses import toy_source
from helpers.notebooks import grade_id

from grading.batch.report import _histogram, failure_messages, write_report
from grading.batch.results import SubmissionResult


def _autograded(course_dir, student: str, errors: dict[str, tuple[str, str]]) -> None:
    """An autograded toy notebook whose test cells named in ``errors`` failed with (ename, evalue)."""
    nb = toy_source()
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in errors:
            ename, evalue = errors[gid]
            cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])]
    folder = course_dir / student / "toy"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "toy.ipynb")


def test_report_pass_rates_failures_slowest_and_histogram(tmp_path):
    out = tmp_path / "autograded"
    results = [
        SubmissionResult("alice", "ok", 5, 5, 3.0, grades={"test_my_add": 2, "test_my_mul": 3},
                         worker="w1"),
        SubmissionResult("bob", "ok", 0, 5, 9.5, grades={"test_my_add": 0, "test_my_mul": 0},
                         worker="w2"),
        SubmissionResult("carol", "ok", 2, 5, 4.0, grades={"test_my_add": 2, "test_my_mul": 0},
                         worker="w1"),
        SubmissionResult("dan", "already graded", 5, 5),
    ]
    _autograded(out, "alice", {})
    _autograded(out, "bob", {"test_my_add": ("AssertionError", "my_add(1, 2) != 3\nmore"),
                             "test_my_mul": ("NameError", "name 'my_mul' is not defined")})
    _autograded(out, "carol", {"test_my_mul": ("NameError", "name 'my_mul' is not defined")})
    path = write_report(results, out, "toy", {"test_my_add": 2.0, "test_my_mul": 3.0})
    text = path.read_text()
    assert "4 submission(s) with a score; mean 3.00 / 5." in text
    assert "| test_my_add | 2 | 2/3 | 67 % |" in text
    assert "| test_my_mul | 3 | 1/3 | 33 % |" in text
    assert "(1 submission(s) graded by an earlier run" in text
    failures = text.split("## Most common failure messages")[1].split("##")[0]
    assert failures.index("| 2 | test_my_mul: NameError: name 'my_mul' is not defined |") < \
        failures.index("| 1 | test_my_add: AssertionError: my_add(1, 2) != 3 more |")
    slowest = text.split("## Slowest submissions")[1]
    assert [l.split(" | ")[0].strip("| ") for l in slowest.strip().splitlines()[2:]] == \
        ["bob", "carol", "alice"]
    assert (out / "toy_scores.png").read_bytes()[:4] == b"\x89PNG"
    assert "![score histogram](toy_scores.png)" in text


def _bars(fig) -> dict[float, float]:
    """{centre: height} of the drawn bars (empty bars left out)."""
    (ax,) = fig.axes
    return {round(p.get_x() + p.get_width() / 2, 6): p.get_height() for p in ax.patches
            if p.get_height()}


def test_histogram_one_bar_per_integer_score_and_integer_counts(tmp_path):
    fig = _histogram([0, 10, 19, 20, 20], 20.0, tmp_path / "h.png")
    assert _bars(fig) == {0: 1, 10: 1, 19: 1, 20: 2}
    (ax,) = fig.axes
    assert all(float(t).is_integer() for t in ax.get_yticks())
    assert ax.get_xlabel() == "score (out of 20)"
    assert ax.get_title() == "Score distribution (5 submissions)"
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_histogram_partial_credit_goes_to_the_nearest_integer_halves_down(tmp_path):
    fig = _histogram([19.4, 19.5, 19.6, 20.0, 0.25], 20.0, tmp_path / "h.png")
    assert _bars(fig) == {0: 1, 19: 2, 20: 2}


def test_failure_messages_whole_on_one_line_and_huge_ones_cut_visibly(tmp_path):
    out = tmp_path / "autograded"
    first = "my_add(1, 2) returned 4: " + " ".join(["check the sign of each term;"] * 10)
    teaching = f"{first}\n  see part 2\n"
    assert len(teaching) > 300
    huge = "x" * 50_000
    _autograded(out, "alice", {"test_my_add": ("AssertionError", teaching)})
    _autograded(out, "bob", {"test_my_mul": ("ValueError", huge)})
    found = failure_messages(out, ["alice", "bob"], "toy")
    whole = f"test_my_add: AssertionError: {first} see part 2"
    assert found[whole] == 1
    (cut,) = [m for m in found if m.startswith("test_my_mul")]
    assert cut == f"test_my_mul: ValueError: {'x' * 1000}... (cut: 49000 characters)"
    assert "\n" not in "".join(found)
