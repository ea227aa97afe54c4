"""Issue 26's forgeries (tests/helpers/forgeries.py), each a submission with a WRONG softmax,
graded by the real grader in ONE sandboxed batch (default isolation, 1 GiB, 128 pids, 64 MiB
files, two workers, --skip-tail) with honest students, the grader in a session keyring of
its own (as under pam_keyinit) holding a secret key, and a host file planted for the link
attempt: the session's ``attack_batch`` (helpers.attack_batch), where the red team's attempts
(test_redteam.py) are graded too; the honest student with correct answers is the red team's
(the same notebook, graded once). Wrong answers score what they earn, honest ones exactly; the
host file, the keyring, the logs and notebooks that reach the coordinator and what is left
running are checked from outside, independently of what the attempts report.

The module imports nothing the fixes added, so that it runs against the code before them too
(the closing note of issue 26 records what it found there).
"""
from __future__ import annotations

import stat
from pathlib import Path

import nbformat
import pytest

from grading.batch.gradebook import sqlite_url
from helpers.attack_batch import SANDBOXED, TARGET_BYTES, TARGET_MODE, ForgeBatch
from helpers.courses import gradebook_scores, live_kernels
from helpers.escapes import attempt_lines
from helpers.forgeries import DISPLAYS, ForgeTargets, forgery_cases, honest_cases
from helpers.notebooks import find_cell
from helpers.repo import LAB

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

COURSE_ID = "multiclass-digits"
#: what reaches the coordinator, at most: the autograde log (nbgrader's own is about 4 KB) and
#: the notebook (about 0.8 MB with --skip-tail; the outputs' default budget is 16 MB)
LOG_BOUND = 3 << 20
NOTEBOOK_BOUND = 18 << 20


@pytest.fixture(scope="module")
def forge_batch(attack_batch) -> ForgeBatch:
    return attack_batch.forge


def _notebook(batch: ForgeBatch, name: str) -> Path:
    return batch.course / "autograded" / batch.student(name) / LAB / f"{LAB}.ipynb"


def _log(batch: ForgeBatch, name: str) -> Path:
    return batch.course / "autograded" / batch.student(name) / f"{LAB}.autograde.log"


def _scores(batch: ForgeBatch) -> dict[str, dict[str, float]]:
    return gradebook_scores(sqlite_url(batch.course / "gradebook.db"), COURSE_ID, LAB)


def _ids() -> list[str]:
    return [c.name for c in forgery_cases(ForgeTargets("", "", "")) + honest_cases()]


@pytest.mark.parametrize("name", _ids())
def test_each_submission_scores_what_it_earns(forge_batch, name):
    res, case = forge_batch.results[forge_batch.student(name)], forge_batch.cases[name]
    joined = "; ".join(res.notes)
    assert res.status == "ok", (res.status, joined)
    assert SANDBOXED in joined, joined
    assert _scores(forge_batch)[forge_batch.student(name)] == case.expected, joined
    for fragment in case.notes:
        assert fragment in joined, (fragment, joined)
    seen = attempt_lines(_notebook(forge_batch, name))
    for label in case.extra.get("blocked", []):
        assert seen[label].startswith("BLOCKED"), (label, seen)


def test_the_link_at_restart_changes_no_host_file(forge_batch):
    info = forge_batch.target.lstat()
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == TARGET_MODE, oct(info.st_mode)
    assert forge_batch.target.read_bytes() == TARGET_BYTES


def test_the_session_keyring_is_out_of_reach(forge_batch):
    assert forge_batch.keys_after == forge_batch.keys_before  # nothing added, nothing unlinked
    assert forge_batch.planted_key is None
    text = _notebook(forge_batch, "forge_keyring").read_text(encoding="utf-8")
    assert forge_batch.secret not in text  # independent of the attempt's own report


def test_logs_and_notebooks_stay_within_their_bounds(forge_batch):
    sizes = {s: (_log(forge_batch, s).stat().st_size, _notebook(forge_batch, s).stat().st_size)
             for s in forge_batch.cases}
    print("\nlog and notebook bytes:", sizes)
    for student, (log, notebook) in sizes.items():
        assert log <= LOG_BOUND and notebook <= NOTEBOOK_BOUND, (student, log, notebook)
    outputs = nbformat.read(_notebook(forge_batch, "forge_outputs"), as_version=4)
    # the displays were cut where the budget ran out, with one note in their cell (the later
    # cells' outputs, past the budget, are cut too, each cell with its note)
    notes = [o.text for o in find_cell(outputs, "my_softmax").outputs
             if "output(s) of this cell cut" in o.get("text", "")]
    assert len(notes) == 1, notes
    assert int(notes[0].split()[1]) >= DISPLAYS - 18, notes  # 16 MB hold at most 17 of them
    log = _log(forge_batch, "forge_log").read_bytes()
    # nbgrader's own log holds none of the flood: it went to the kernel's own pipe (what ipykernel
    # echoes there, kept at both ends, OUTPUT_KEEP each) and, through ipykernel's capture of its
    # descriptors, to the cell's outputs, where LimitOutputBytes and the budget bound it
    ours, _, kernel = log.partition(b"\n---- kernel 1: its stdout and stderr ----\n")
    assert b"x" * 4096 not in ours and b"x" * 4096 in kernel, (len(ours), len(kernel))
    seen = attempt_lines(_notebook(forge_batch, "forge_log"))
    assert seen["fd 0"] == "OK '/dev/null'", seen
    # (ipykernel moves its stdout and stderr to pipes of its own, whose other ends it reads)
    assert seen["fd 1"].startswith("OK 'pipe:[") and seen["fd 2"].startswith("OK 'pipe:["), seen
    # pid 1 is not dumpable: the numbers of its descriptors can be listed, not their targets
    assert seen["init fd 1"].startswith("BLOCKED PermissionError"), seen
    assert seen["open init fd 1"].startswith("BLOCKED PermissionError"), seen


def test_nothing_is_left_running(forge_batch):
    assert forge_batch.lingering == [], forge_batch.lingering
    assert forge_batch.left_behind == []  # cgroups and socket folders of the batch's workers
    sockets = attempt_lines(_notebook(forge_batch, "forge_log"))["socket folder"]
    assert sockets.startswith("OK '/dev/shm/course-ipc-") and not Path(sockets[4:-1]).exists(), sockets
    assert live_kernels() == []
