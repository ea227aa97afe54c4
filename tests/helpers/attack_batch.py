"""The red team's attempts (helpers.redteam, with the sandboxed cases of helpers.redteam_judged)
and issue 26's forgeries (helpers.forgeries), graded by the real grader in ONE sandboxed batch
(default isolation, 1 GiB memory, 128 pids, 64 MiB files, two workers, --skip-tail) with honest
students: the session fixture ``attack_batch`` of tests/grading/isolation/conftest.py, checked by
tests/grading/isolation/test_redteam.py (:class:`RedBatch`) and test_forgeries.py
(:class:`ForgeBatch`). One batch, not one per module: the same kind of submission (the
mechanics lab with an attack in its softmax cell) under the same limits, a batch's start and
its honest student graded once.

Around the batch, what the attempts aim at: the grader's environment holds a secret and the
test listens on an abstract Unix socket (the red team); the grader runs in a session keyring of
its own (as under pam_keyinit) holding a secret key, and a host file is planted for the link
attempt (the forgeries). After it, what the host saw, each independently of what the attempts
report: processes left running, cgroups and socket folders left behind, the keyring.

Only what the grader had before issue 26's fixes is imported (test_forgeries.py runs against
the code before them too).
"""
from __future__ import annotations

import ctypes
import os
import platform
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from grading.batch.coordinator import autograde_all
from grading.batch.results import SubmissionResult
from grading.isolation.cgroups import CGROUP_ROOT
from grading.limits import Limits
from helpers import redteam_judged as rj
from helpers.courses import lab_base, lab_course, submit
from helpers.escapes import accept_in_background
from helpers.faults import Case, student_notebook
from helpers.forgeries import MARKER as FORGE_MARKER
from helpers.forgeries import ForgeTargets, forgery_cases, honest_cases
from helpers.redteam import LINGER_MARKER, SYMLINK_STUDENT, RedTargets, redteam_cases
from helpers.repo import LAB

#: the batch's limits: 1 GiB, so that the red team's /dev/shm attempt (1.5 GiB) is over it
LIMITS = Limits(memory=1 << 30, pids=128, file_size=64 << 20)
#: the notes of a sandboxed submission of the batch
SANDBOXED = "isolation: sandboxed (memory 1G, pids 128, cores 1, file size 64M)"
#: the forgeries' honest student that is the red team's, the same notebook (correct answers)
HONEST_TWIN = {"forge_honest": "rt_honest"}

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
class RedBatch:
    """The red team's view of the batch: course folder, results and its cases by student, what
    the host saw."""

    course: Path
    results: dict[str, SubmissionResult]
    targets: RedTargets
    cases: dict[str, Case]
    accepted: list
    lingering: list[int]
    cgroups_left: list[Path]
    lines: list[str] = field(default_factory=list)


@dataclass
class ForgeBatch:
    """The forgeries' view of the batch (``cases``: the forgeries and their honest students)."""

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

    def student(self, name: str) -> str:
        """The student graded for the case ``name`` (its twin's, for an honest one graded once)."""
        return HONEST_TWIN.get(name, name)


@dataclass
class AttackBatch:
    red: RedBatch
    forge: ForgeBatch

    def escaped(self) -> list[int]:
        """The pids of processes the attempts left running (ours to clean up)."""
        return self.red.lingering + self.forge.lingering


def _processes_with(marker: str) -> list[int]:
    return [p.pid for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])]


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


def grade_attacks(tmp: Path) -> AttackBatch:
    """Plant the targets, grade every attempt and the honest students in one batch, and look
    at the host right after it."""
    course = lab_course(tmp / "course", mechanics=True)
    base = lab_base(mechanics=True)
    # the red team's targets: an abstract socket the test listens on, a secret of the grader's
    abstract = f"course-redteam-{secrets.token_hex(6)}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + abstract)
    listener.listen()
    accepted = accept_in_background(listener)
    red_targets = RedTargets(secret_name="COURSE_REDTEAM_SECRET", secret=secrets.token_hex(16),
                             abstract_name=abstract)
    red_cases = {c.name: c for c in redteam_cases(red_targets)}
    red_cases.update((c.name, c) for c in rj.CASES if c.name in rj.SANDBOXED)
    # the forgeries' targets: a host file, keys in the grader's session keyring (below)
    target = tmp / "host-target.txt"
    target.write_bytes(TARGET_BYTES)
    target.chmod(TARGET_MODE)
    tag = secrets.token_hex(6)
    forge_targets = ForgeTargets(target=str(target), key_description=f"course-grader-secret-{tag}",
                                 planted_description=f"course-planted-{tag}")
    forge_cases = {c.name: c for c in forgery_cases(forge_targets) + honest_cases()}
    for case in [*red_cases.values(), *forge_cases.values()]:
        if case.name not in HONEST_TWIN:  # its twin is graded: the same notebook
            submit(course, LAB, case.name, student_notebook(base, case))
    planted = course / "submitted" / SYMLINK_STUDENT / LAB
    planted.mkdir(parents=True)
    (planted / f"{LAB}.ipynb").symlink_to(course / "source" / LAB / f"{LAB}.ipynb")
    # the grader in a session keyring of its own, with a secret in it (pam_keyinit's situation);
    # the batch's workers, fork servers and kernels inherit it
    key_secret = secrets.token_hex(16)
    _syscall("keyctl", KEYCTL_JOIN_SESSION_KEYRING, f"course-grader-test-{tag}".encode())
    _syscall("add_key", b"user", forge_targets.key_description.encode(), key_secret.encode(),
             len(key_secret), KEY_SPEC_SESSION_KEYRING)
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
    os.environ[red_targets.secret_name] = red_targets.secret
    try:
        results = autograde_all(LAB, course_dir=course, workers=2, timeout=600, cell_timeout=120,
                                progress=lines.append, restore_course_files=False, skip_tail=True,
                                limits=LIMITS)
    finally:
        del os.environ[red_targets.secret_name]
        listener.close()
        done.set()
        watcher.join()
        keys_after = session_keys()
        planted_key = find_key(forge_targets.planted_description)
        _syscall("keyctl", KEYCTL_JOIN_SESSION_KEYRING, None)  # leave it (a new anonymous one)
    # right after the batch, before anything else can reap them
    red_lingering = _processes_with(LINGER_MARKER)
    forge_lingering = _processes_with(FORGE_MARKER)
    mine = f"course-grading-{os.getpid()}-*"
    cgroups_left = [d for top in (CGROUP_ROOT, CGROUP_ROOT / "memory", CGROUP_ROOT / "pids", CGROUP_ROOT / "cpu")
                    for d in top.glob(mine)]
    left = _ours(_leftovers() - existing, seen_pids)
    print("\n".join(lines))
    by_student = {r.student: r for r in results}
    return AttackBatch(
        RedBatch(course, by_student, red_targets, red_cases, accepted, red_lingering, cgroups_left, lines),
        ForgeBatch(course, by_student, forge_cases, target, key_secret, keys_before, keys_after, planted_key,
                   forge_lingering, left, lines))
