"""The red team's cases against the judged test cells (tests/helpers/redteam_judged.py), each
path graded in ONE batch with an honest student: plain ``nbgrader autograde`` with this repo's
nbgrader_config.py, and the sandboxed ``python -m grading`` (``--skip-tail``). Then
``nbgrader generate_feedback``, whose pages (and the autograded folders) must not show the
hidden inputs that a case smuggles out.

A case that gets through is a strict xfail naming the hole, so it turns into a failure (XPASS)
the day the hole is closed.
"""
from __future__ import annotations

import pytest
from helpers import redteam_judged as rj

CASES = {c.name: c for c in rj.CASES}
#: cases that get through, per path, with the hole they use (strict xfails)
BROKEN: dict[tuple[str, str], str] = {
    ("plain", "rj_daemon"): "plain path: the kernel runs as the instructor; a process it leaves behind "
                            "rewrites gradebook.db once nbgrader exits (manual_score 10 for a wrong softmax)",
    ("plain", "leak"): "plain path: a file the kernel writes next to its notebook during the hidden calls is "
                       "copied by generate_feedback into feedback/<student>/ (every hidden input); and the "
                       "hidden judge quotes 40 characters of the kernel's dtype in its failure sentence",
    ("sandboxed", "leak"): "the hidden judge's 'could not read what the answer returned (unknown dtype ...)' "
                           "quotes 40 characters the kernel chose (a structured dtype named after a hidden "
                           "input): one hidden value per submission reaches feedback, enough to find the seed",
}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    course = rj.prepare_course(tmp_path_factory.mktemp("rj-plain"))
    output = rj.grade_plain(course)
    return course, rj.scores(course), output


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory):
    course = rj.prepare_course(tmp_path_factory.mktemp("rj-sandboxed"))
    results = {r.student: r for r in rj.grade_sandboxed(course)}
    return course, rj.scores(course), results


def _params(path: str, marks: list) -> list:
    out = []
    for name in CASES:
        hole = BROKEN.get((path, name))
        extra = [pytest.mark.xfail(strict=True, reason=hole)] if hole else []
        out.append(pytest.param(name, marks=marks + extra, id=name))
    return out


def _check(case: rj.RedCase, got: dict[str, float]) -> None:
    if "model_at_most" in case.extra:
        assert got["test_my_softmax"] == case.expected["test_my_softmax"], got
        assert got["test_model"] <= case.extra["model_at_most"], got
    else:
        assert got == case.expected, (case.what, got)


@pytest.mark.slow
@pytest.mark.parametrize("name", _params("plain", []))
def test_plain_path_scores(plain, name):
    course, scores, _ = plain
    _check(CASES[name], scores[name])


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("name", _params("sandboxed", []))
def test_sandboxed_path_scores(sandboxed, name):
    course, scores, results = sandboxed
    _check(CASES[name], scores[name])


def _shown_leaks(course) -> dict[str, list[str]]:
    """What the leaking cases got into an autograded notebook or a feedback folder."""
    found = {}
    for case in rj.CASES:
        if case.leak:
            for path, hits in rj.leaks(course, case.name).items():
                if (hits and path.endswith((".ipynb", ".html"))) or path.startswith("feedback"):
                    found[path] = hits
    return found


def _leak_marks(path: str) -> list:
    hole = BROKEN.get((path, "leak"))
    return [pytest.mark.xfail(strict=True, reason=hole)] if hole else []


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param("plain", marks=_leak_marks("plain"))])
def test_plain_feedback_shows_no_hidden_input(plain, path):
    assert _shown_leaks(plain[0]) == {}


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("path", [pytest.param("sandboxed", marks=_leak_marks("sandboxed"))])
def test_sandboxed_feedback_shows_no_hidden_input(sandboxed, path):
    assert _shown_leaks(sandboxed[0]) == {}


@pytest.mark.slow
def test_plain_path_leaves_no_process(plain):
    assert rj.wait_for_daemons(0) == []
