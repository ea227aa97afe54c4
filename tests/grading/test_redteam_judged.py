"""The red team's cases against the judged test cells (tests/helpers/redteam_judged.py) on the
plain path: real ``nbgrader autograde`` with this repo's nbgrader_config.py, then
``nbgrader generate_feedback``, all cases and an honest student in ONE course. (The sandboxed
path grades the same cases in the red team's batch, tests/grading/isolation/test_redteam.py.)

On the plain path the kernel runs as the instructor (docs/security.md): what the grader judges
holds, but what the kernel writes outside its cells is not defended. The last test asserts that
documented limitation as it stands, so it fails if the behaviour (or the documentation) changes.
"""
from __future__ import annotations

import pytest
from helpers import redteam_judged as rj
from helpers.repo import LAB

pytestmark = pytest.mark.slow

CASES = {c.name: c for c in rj.CASES}
JUDGED = [name for name in CASES if name != "rj_daemon"]


@pytest.fixture(scope="module")
def rj_plain_batch(tmp_path_factory):
    course = rj.prepare_course(tmp_path_factory.mktemp("rj-plain"))
    output = rj.grade_plain(course)
    print(output[-3000:])
    return course, rj.scores(course)


@pytest.mark.parametrize("name", JUDGED)
def test_plain_path_scores_what_the_answer_earns(rj_plain_batch, name):
    _, scores = rj_plain_batch
    assert scores[name] == CASES[name].expected, (CASES[name].what, scores[name])


def test_plain_judge_message_shows_no_hidden_input(rj_plain_batch):
    """The hidden judge's failure sentence is fixed text: the dtype the kernel named after a
    hidden input reaches neither the autograded notebook nor the feedback page."""
    course, _ = rj_plain_batch
    shown = {path: hits for path, hits in rj.leaks(course, "rj_leak_dtype").items()
             if path.endswith((".ipynb", ".html"))}
    assert shown == {}


def test_plain_path_limitation_kernel_writes_outside_its_cells(rj_plain_batch):
    """Documented (docs/security.md): the kernel has the instructor's rights. A process it left
    rewrote the gradebook after nbgrader exited (10 points for a wrong softmax), and the file it
    wrote in its working folder went to feedback/ with the hidden inputs in it."""
    course, scores = rj_plain_batch
    assert rj.wait_for_daemons(0) == []  # the daemon did its write and exited
    assert scores["rj_daemon"] == {"test_my_softmax": 10.0, "test_model": 10.0}
    leaked = rj.leaks(course, "rj_leak_dtype")
    in_feedback = f"feedback/rj_leak_dtype/{LAB}/{rj.LEAK_FILE}"
    assert leaked.get(in_feedback), leaked  # there, with hidden values in it
