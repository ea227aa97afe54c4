"""Issue 26's forgeries (tests/helpers/forgeries.py), each a submission with a WRONG softmax,
graded by the real grader in ONE sandboxed batch (default isolation, 2 GiB, 128 pids, 64 MiB
files, two workers, --skip-tail) with honest students, the grader in a session keyring of
its own (as under pam_keyinit) holding a secret key, and a host file planted for the link
attempt. Wrong answers score what they earn, honest ones exactly; the host file, the keyring,
the logs and notebooks that reach the coordinator and what is left running are checked from
outside, independently of what the attempts report.

The module imports nothing the fixes added, so that it runs against the code before them too
(the closing note of issue 26 records what it found there).
"""
from __future__ import annotations

import ctypes
import os
import platform
import re
import secrets
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import pytest

from grading.batch.coordinator import autograde_all
from grading.batch.gradebook import sqlite_url
from grading.batch.results import SubmissionResult
from grading.isolation.cgroups import CGROUP_ROOT
from grading.limits import Limits
from helpers.courses import gradebook_scores, lab_base, lab_course, live_kernels, submit
from helpers.escapes import attempt_lines
from helpers.faults import Case, student_notebook
from helpers.forgeries import DISPLAYS, MARKER, ForgeTargets, forgery_cases, honest_cases
from helpers.notebooks import find_cell
from helpers.repo import LAB

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

LIMITS = Limits(memory=2 << 30, pids=128, file_size=64 << 20)
COURSE_ID = "multiclass-digits"
#: what reaches the coordinator, at most: the autograde log (nbgrader's own is about 4 KB) and
#: the notebook (about 0.8 MB with --skip-tail; the outputs' default budget is 16 MB)
LOG_BOUND = 3 << 20
NOTEBOOK_BOUND = 18 << 20
TARGET_BYTES = b"a host file no submission may change\n"
TARGET_MODE = 0o640

# keyctl(2) and add_key(2) through libc's syscall(2): no keyutils binding is installed
_NR = {"x86_64": {"add_key": 248, "keyctl": 250}, "aarch64": {"add_key": 217, "keyctl": 219}}
_LIBC = ctypes.CDLL(None, use_errno=True)
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_SEARCH, KEYCTL_READ = 1, 10, 11
KEY_SPEC_SESSION_KEYRING = -3


def _syscall(name: str, *args) -> int:
    r = _LIBC.syscall(_NR[platform.machine()][name],
                      *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if r < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return r


def session_keys() -> list[int]:
    """The serial numbers of the keys in this process's session keyring."""
    buf = ctypes.create_string_buffer(4096)
    n = _syscall("keyctl", KEYCTL_READ, KEY_SPEC_SESSION_KEYRING, buf, len(buf))
    return list(memoryview(buf.raw[:n]).cast("i"))


def find_key(description: str) -> int | None:
    try:
        return _syscall("keyctl", KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, b"user", description.encode(), 0)
    except OSError:
        return None


@dataclass
class ForgeBatch:
    course: Path
    results: dict[str, SubmissionResult]
    cases: dict[str, Case]
    target: Path
    secret: str
    keys_before: list[int]
    keys_after: list[int]
    planted_key: int | None
    lingering: list[int]
    left_behind: list[str]
    lines: list[str] = field(default_factory=list)


def _ours(names: set[str], pids: set[int]) -> list[str]:
    """Those of ``names`` (cgroups, socket folders) whose owner pid, in the name, is one of ``pids``."""
    found = []
    for name in names:
        m = re.search(r"(?:course-grading-|course-ipc-)([0-9]+)-", Path(name).name)
        if m and int(m[1]) in pids:
            found.append(name)
    return sorted(found)


def _leftovers() -> set[str]:
    tops = [CGROUP_ROOT, *(CGROUP_ROOT / c for c in ("memory", "pids", "cpu"))]
    return {str(d) for top in tops for d in top.glob("course-grading-*")} | \
        {str(d) for d in Path("/dev/shm").glob("course-ipc-*")}


@pytest.fixture(scope="module")
def forge_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forgeries")
    course = lab_course(tmp / "course", mechanics=True)
    target = tmp / "host-target.txt"
    target.write_bytes(TARGET_BYTES)
    target.chmod(TARGET_MODE)
    tag = secrets.token_hex(6)
    targets = ForgeTargets(target=str(target), key_description=f"course-grader-secret-{tag}",
                           planted_description=f"course-planted-{tag}")
    cases = {c.name: c for c in forgery_cases(targets) + honest_cases()}
    base = lab_base(mechanics=True)
    for case in cases.values():
        submit(course, LAB, case.name, student_notebook(base, case))
    # the grader in a session keyring of its own, with a secret in it (pam_keyinit's situation);
    # the batch's workers, fork servers and kernels inherit it
    secret = secrets.token_hex(16)
    _syscall("keyctl", KEYCTL_JOIN_SESSION_KEYRING, f"course-grader-test-{tag}".encode())
    _syscall("add_key", b"user", targets.key_description.encode(), secret.encode(), len(secret),
             KEY_SPEC_SESSION_KEYRING)
    keys_before = session_keys()
    existing = _leftovers()
    seen_pids: set[int] = set()
    done = threading.Event()

    def watch() -> None:  # the batch's processes (workers, fork servers), whose pids name its leftovers
        while not done.wait(0.2):
            try:
                seen_pids.update(p.pid for p in psutil.Process().children(recursive=True))
            except psutil.Error:
                pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    lines: list[str] = []
    try:
        results = autograde_all(LAB, course_dir=course, workers=2, timeout=600, cell_timeout=60,
                                progress=lines.append, restore_course_files=False, skip_tail=True,
                                limits=LIMITS)
    finally:
        done.set()
        watcher.join()
        keys_after = session_keys()
        planted = find_key(targets.planted_description)
        _syscall("keyctl", KEYCTL_JOIN_SESSION_KEYRING, None)  # leave it (a new anonymous one)
    lingering = [p.pid for p in psutil.process_iter(["cmdline"]) if MARKER in (p.info["cmdline"] or [])]
    left = _ours(_leftovers() - existing, seen_pids)
    print("\n".join(lines))
    yield ForgeBatch(course, {r.student: r for r in results}, cases, target, secret, keys_before,
                     keys_after, planted, lingering, left, lines)
    for pid in lingering:  # an escaped process is ours to clean up (it started in our batch)
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


def _notebook(batch: ForgeBatch, student: str) -> Path:
    return batch.course / "autograded" / student / LAB / f"{LAB}.ipynb"


def _log(batch: ForgeBatch, student: str) -> Path:
    return batch.course / "autograded" / student / f"{LAB}.autograde.log"


def _scores(batch: ForgeBatch) -> dict[str, dict[str, float]]:
    return gradebook_scores(sqlite_url(batch.course / "gradebook.db"), COURSE_ID, LAB)


def _ids() -> list[str]:
    return [c.name for c in forgery_cases(ForgeTargets("", "", "")) + honest_cases()]


@pytest.mark.parametrize("name", _ids())
def test_each_submission_scores_what_it_earns(forge_batch, name):
    res, case = forge_batch.results[name], forge_batch.cases[name]
    joined = "; ".join(res.notes)
    assert res.status == "ok", (res.status, joined)
    assert "isolation: sandboxed (memory 2G, pids 128, cores 1, file size 64M)" in joined, joined
    assert _scores(forge_batch)[name] == case.expected, joined
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
             for s in forge_batch.results}
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
