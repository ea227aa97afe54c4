"""Red-team escape attempts (tests/helpers/redteam.py) and the red team's attacks on the judged
test cells (tests/helpers/redteam_judged.py, the cases of a distinct defence), graded by the real
grader in ONE sandboxed batch (default isolation, 1 GiB memory, 128 pids, 64 MiB files, two
workers) together with an honest student, and with issue 26's forgeries (test_forgeries.py):
the session's ``attack_batch`` (helpers.attack_batch). Each test states what "contained" means
for one attempt.

An attempt that gets through is kept as a strict xfail whose reason names the hole, so the
test turns into a failure (XPASS) the day the hole is fixed and the marker can go.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import redteam_judged as rj
from helpers.attack_batch import LIMITS, SANDBOXED, RedBatch
from helpers.courses import gradebook_scores, live_kernels
from helpers.escapes import attempt_lines as notebook_attempt_lines
from helpers.faults import FULL
from helpers.redteam import BOMB_CHARS, BOMB_LINES, SYMLINK_STUDENT
from helpers.repo import LAB

from grading.batch.gradebook import sqlite_url

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

COURSE_ID = "multiclass-digits"


@pytest.fixture(scope="module")
def red_batch(attack_batch) -> RedBatch:
    return attack_batch.red


def _notebook(batch: RedBatch, student: str) -> Path:
    return batch.course / "autograded" / student / LAB / f"{LAB}.ipynb"


def attempt_lines(batch: RedBatch, student: str) -> dict[str, str]:
    """{label: outcome} printed by the attempt in the student's autograded notebook."""
    return notebook_attempt_lines(_notebook(batch, student))


def _scores(batch: RedBatch) -> dict[str, dict[str, float]]:
    return gradebook_scores(sqlite_url(batch.course / "gradebook.db"), COURSE_ID, LAB)


def _sandboxed(batch: RedBatch, student: str) -> None:
    joined = "; ".join(batch.results[student].notes)
    assert SANDBOXED in joined, joined


def _blocked(batch: RedBatch, student: str) -> dict[str, str]:
    seen = attempt_lines(batch, student)
    for label in batch.cases[student].extra.get("blocked", []):
        assert seen[label].startswith("BLOCKED"), (label, seen)
    return seen


def test_honest_student_exact_score(red_batch):
    assert red_batch.results["rt_honest"].status == "ok", red_batch.results["rt_honest"]
    _sandboxed(red_batch, "rt_honest")
    assert _scores(red_batch)["rt_honest"] == FULL


def test_pid1_environ_hides_the_grader_environment(red_batch):
    # fixed: bwrap is exec'd with an empty environment (--clearenv only cleared the kernel's)
    _sandboxed(red_batch, "rt_pid1_environ")
    text = _notebook(red_batch, "rt_pid1_environ").read_text(encoding="utf-8")
    assert red_batch.targets.secret not in text  # independent of the attempt's own report
    seen = attempt_lines(red_batch, "rt_pid1_environ")["pid1 environ"]
    # pid 1 is the course's undumpable init (issue 26): its environ cannot even be opened
    assert seen.startswith("BLOCKED PermissionError") or seen == "OK []", seen


# fixed: the guard snapshots the kernel's handler tables and restores them before tests
def test_hijacked_message_handler_cannot_fake_a_passing_test(red_batch):
    res = red_batch.results["rt_hijack_tests"]
    assert res.status == "ok", res
    assert _scores(red_batch)["rt_hijack_tests"] == red_batch.cases["rt_hijack_tests"].expected


# fixed: pid 1 of the sandbox is the course's own init (bwrap --as-pid-1), undumpable before
# the kernel starts, so the kernel (same uid) cannot PTRACE_SEIZE it (issue 26)
def test_pid1_cannot_be_ptraced(red_batch):
    _blocked(red_batch, "rt_pid1_environ")


# fixed: the kernel's connection file is in a folder of the sandbox mounted read-only (the
# launcher copies the file in; issue 26), so the kernel can write nothing there at all
def test_ipc_folder_cannot_fill_the_host_disk(red_batch):
    _sandboxed(red_batch, "rt_ipc_fill")
    seen = attempt_lines(red_batch, "rt_ipc_fill")
    assert seen["ipc folder"] == "OK '/run'", seen
    assert seen["ipc fill"].startswith("BLOCKED OSError: [Errno 30] Read-only file system"), seen


# fixed: LimitOutputBytes cuts each output field to 1 MB
def test_output_bomb_is_cut_down(red_batch):
    res = red_batch.results["rt_output_bomb"]
    nb = _notebook(red_batch, "rt_output_bomb")
    size = nb.stat().st_size if nb.exists() else 0
    assert BOMB_LINES * BOMB_CHARS > LIMITS.file_size  # the bomb itself is over the limit
    assert size <= LIMITS.file_size, (size, res.notes)
    assert _scores(red_batch)["rt_honest"] == FULL


def test_lingering_processes_do_not_survive_the_batch(red_batch):
    _sandboxed(red_batch, "rt_linger")
    seen = attempt_lines(red_batch, "rt_linger")
    for label in red_batch.cases["rt_linger"].extra["ok"]:
        assert seen[label].startswith("OK"), seen  # they did start
    assert red_batch.lingering == [], red_batch.lingering
    assert red_batch.cgroups_left == []
    assert live_kernels() == []


def test_abstract_unix_socket_of_the_host_is_unreachable(red_batch):
    _sandboxed(red_batch, "rt_abstract_socket")
    seen = _blocked(red_batch, "rt_abstract_socket")
    assert "Connection refused" in seen["abstract"] or "No such file" in seen["abstract"], seen
    time.sleep(0.2)
    assert red_batch.accepted == []  # the listener never saw a connection
    assert _scores(red_batch)["rt_abstract_socket"] == FULL


def test_dev_shm_is_bounded_by_the_memory_limit(red_batch):
    """/dev/shm is a tmpfs without a size, but its pages count against the memory cgroup: the
    kernel dies (the answer cell loses its points, the kernel is restarted) or the write fails;
    either way it never holds 1.5 GiB, and the host's /dev/shm is untouched."""
    res = red_batch.results["rt_dev_shm"]
    joined = "; ".join(res.notes)
    scores = _scores(red_batch)["rt_dev_shm"]
    assert scores["test_model"] == 10.0, (scores, joined)  # later cells ran in a fresh kernel
    if "kernel died in my_softmax" not in joined:
        _blocked(red_batch, "rt_dev_shm")
    assert not list(Path("/dev/shm").glob("redteam-*"))


def test_rlimits_cannot_be_raised(red_batch):
    _sandboxed(red_batch, "rt_rlimits")
    _blocked(red_batch, "rt_rlimits")
    assert _scores(red_batch)["rt_rlimits"] == FULL


def test_setuid_binaries_give_nothing(red_batch):
    _sandboxed(red_batch, "rt_setuid")
    seen = _blocked(red_batch, "rt_setuid")
    assert "NoNewPrivs:\\t1" in seen["no_new_privs"], seen
    assert _scores(red_batch)["rt_setuid"] == FULL


# fixed: the guard watches the kernel's Session and displayhook objects
def test_forged_replies_cannot_fake_a_passing_test(red_batch):
    res = red_batch.results["rt_forge_replies"]
    assert res.status == "ok", res
    assert _scores(red_batch)["rt_forge_replies"] == red_batch.cases["rt_forge_replies"].expected


# fixed: symbolic links under submitted/ are never followed
def test_symlinked_notebook_is_not_followed(red_batch):
    name = SYMLINK_STUDENT
    res = red_batch.results[name]
    scores = _scores(red_batch).get(name, {})
    assert res.status != "ok" or sum(scores.values()) == 0, (res, scores)
    assert any("a symbolic link" in note for note in res.notes), res.notes


# fixed: the points come from the grader's own judge on what the answer returned (JudgedExecute)
@pytest.mark.parametrize("name", rj.SANDBOXED)
def test_judged_cells_score_what_the_answer_earns(red_batch, name):
    res = red_batch.results[name]
    assert res.status == "ok", res
    _sandboxed(red_batch, name)
    assert _scores(red_batch)[name] == red_batch.cases[name].expected, red_batch.cases[name].what


# fixed (2bf43eb): a hidden judge that cannot read the kernel's record says a fixed sentence
def test_hidden_inputs_reach_no_autograded_file(red_batch):
    """A dtype named after a hidden input, and a file written during the hidden calls: neither
    reaches the autograded folder (feedback is made from it)."""
    assert rj.leaks(red_batch.course, "rj_leak_dtype") == {}
