"""grading.isolation.sandbox: the host checks, a real bubblewrap sandbox with the kernel's exact
command line (a short Python program in place of the kernel, so no Jupyter is involved), the
order of its mounts, and escape attempts graded in one batch of the toy assignment with honest
students (:func:`escape_batch`)."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from helpers.courses import (
    TOY_ADD,
    TOY_MUL,
    gradebook_scores,
    live_kernels,
    make_course,
    sha256,
    submit,
    toy_source,
    toy_submission,
)
from helpers.escapes import (
    ESCAPE_CELL,
    ESCAPE_TEST,
    MARKER,
    TOY,
    TOY_FULL,
    TOY_NO_ADD,
    Targets,
    accept_in_background,
    attempt_lines,
    escape_cases,
    escape_notebook,
)
from helpers.faults import Case
from helpers.repo import LAB, ROOT

from grading.batch.coordinator import autograde_all
from grading.batch.gradebook import sqlite_url
from grading.batch.results import SubmissionResult
from grading.errors import GradingError
from grading.isolation import launcher, sandbox
from grading.isolation.cgroups import CGROUP_ROOT
from grading.isolation.integrity import package_dir
from grading.isolation.sandbox import bwrap_argv
from grading.limits import THREAD_VARS, Limits


@pytest.mark.sandbox
def test_check_host_names_what_is_missing(monkeypatch, tmp_path):
    with pytest.raises(GradingError, match="unknown isolation level 'paranoid'"):
        sandbox.check_host("paranoid")
    assert sandbox.check_host("none") == ("", None)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(GradingError) as err:
        sandbox.check_host("sandboxed")
    msg = str(err.value)
    assert "bubblewrap (bwrap) is missing" in msg and "apt-get install bubblewrap" in msg
    assert "--isolation none" in msg and "\n" not in msg
    old_bwrap = tmp_path / "bwrap"  # a bubblewrap without the features the sandbox uses
    old_bwrap.write_text("#!/bin/sh\necho 'bwrap: Unknown option --disable-userns' >&2\nexit 1\n")
    old_bwrap.chmod(0o755)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: str(old_bwrap))
    with pytest.raises(GradingError, match=r"cannot build the sandbox here \(bwrap: Unknown option "
                                           r"--disable-userns\): it needs bubblewrap 0.8 or later"):
        sandbox.check_host("namespaces")
    monkeypatch.undo()
    monkeypatch.setattr(sandbox, "detect_cgroups", lambda: (None, "no cgroups here"))
    with pytest.raises(GradingError, match="no cgroups here: .* --isolation namespaces"):
        sandbox.check_host("sandboxed")
    assert sandbox.check_host("namespaces")[1] is None


PROBE = r'''
import json, os, socket, sys
fds = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the listing's own descriptor, closed already
        pass
out = {"fds": fds, "status": [l.strip() for l in open("/proc/self/status") if l.startswith("Seccomp")],"uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid(), "env": sorted(os.environ),
       "threads": [os.environ.get(v) for v in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")],
       "cwd": os.getcwd(), "cwd_files": sorted(os.listdir(".")), "procs": sorted(
       int(p) for p in os.listdir("/proc") if p.isdigit()), "caps": open("/proc/self/status").read().split("CapEff:")[1].split()[0]}
def tryit(name, fn):
    try:
        out[name] = "ok " + repr(fn())
    except Exception as exc:
        out[name] = "blocked " + type(exc).__name__
tryit("secret", lambda: open(sys.argv[1]).read())
out["staging"] = sorted(os.listdir("/run/assignment"))
tryit("loopback", lambda: socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=2).close())
tryit("write_usr", lambda: open("/usr/x", "w"))
tryit("write_venv", lambda: open(sys.prefix + "/x", "w"))
tryit("write_tmp", lambda: open("/tmp/x", "w").write("fine"))
tryit("write_root", lambda: open("/x", "w"))
tryit("write_pkgs", lambda: open(os.environ["PYTHONPATH"] + "/x", "w"))
tryit("write_ipc", lambda: open(sys.argv[3] + "/x", "w").write("ok"))
tryit("tmp_size", lambda: open("/tmp/big", "wb").write(b"x" * (80 << 20)))
tryit("write_shm", lambda: open("/dev/shm/x", "w").write("fine"))
tryit("shm_size", lambda: open("/dev/shm/big", "wb").write(b"x" * (80 << 20)))
def new_userns():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
tryit("userns", new_userns)
def syscall(nr, *args):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r
tryit("keyctl", lambda: syscall(250, 0, -3, 1))  # KEYCTL_GET_KEYRING_ID of the session keyring
tryit("pid1 ptrace", lambda: syscall(101, 0x4206, 1, 0, 0))  # PTRACE_SEIZE bubblewrap's place
tryit("pid1 mem", lambda: open("/proc/1/mem", "rb").close())
tryit("pid1 environ", lambda: open("/proc/1/environ", "rb").read())
tryit("connection", lambda: open("/run/connection.json").read())
tryit("write_connection", lambda: open("/run/connection.json", "w"))
tryit("write_cwd", lambda: open("mine.txt", "w").write("fine"))
tryit("import_numpy", lambda: __import__("numpy").__name__)
print("PROBE" + json.dumps(out))
'''


@pytest.mark.sandbox
def test_bubblewrap_sandbox_sees_only_what_it_is_given(tmp_path):
    bwrap, _ = sandbox.check_host("namespaces")
    secret = tmp_path / "secret.txt"
    secret.write_text("the hidden tests")
    ipc, pkgs, etc, cwd, stage = (tmp_path / n for n in ("ipc", "pkgs", "etc", "assignment", "stage"))
    for d in (ipc, pkgs, etc, cwd):
        d.mkdir()
    (cwd / "notebook.ipynb").write_text("{}")  # nbgrader's copy, hidden tests restored
    (cwd / "data.csv").write_text("1,2\n")
    sandbox.stage_assignment(cwd, stage)
    (etc / "passwd").write_text("student:x:4242:4242::/tmp:/bin/false\n")
    (etc / "group").write_text("student:x:4242:\n")
    cfg = {"bwrap": bwrap, "python_roots": sandbox.python_roots(), "etc": str(etc),
           "ipc": str(ipc), "pkgs": str(pkgs), "stage": str(stage), "tmpfs_size": 64 << 20,
           "limits": {"threads": 3}}
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = accept_in_background(listener)
    seccomp_fd, connection_fd = launcher.seccomp_pipe(), launcher.data_pipe(b'{"key": "k"}')
    try:
        argv = bwrap_argv(cfg, str(cwd), [sys.executable, "-c", PROBE, str(secret),
                                          str(listener.getsockname()[1]), str(ipc)],
                          seccomp_fd=seccomp_fd, connection_fd=connection_fd)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                              env=dict(os.environ, COURSE_SECRET_TOKEN="s3cr3t"),
                              pass_fds=(seccomp_fd, connection_fd))
    finally:
        os.close(seccomp_fd)
        os.close(connection_fd)
        time.sleep(0.2)
        listener.close()
    line = [l for l in proc.stdout.splitlines() if l.startswith("PROBE")]
    assert line, proc.stdout + proc.stderr
    out = json.loads(line[0][len("PROBE"):])
    assert out["uid"] == out["euid"] == sandbox.SANDBOX_UID and out["caps"] == "0000000000000000"
    assert out["procs"] == [1, 2]  # its own PID namespace: the sandbox's init and itself
    # the seccomp filter is installed (mode 2, one filter) and refuses the keyring calls
    assert out["status"] == ["Seccomp:\t2", "Seccomp_filters:\t1"], out["status"]
    assert out["keyctl"] == "blocked PermissionError"  # EPERM
    # pid 1 is the sandbox's own undumpable init (bwrap --as-pid-1): no tracing it, no
    # reading or writing its memory or environment, under the same uid
    assert out["pid1 ptrace"] == out["pid1 mem"] == out["pid1 environ"] == "blocked PermissionError"
    # descriptors: stdin and the two pipes of stdout and stderr (the probe's own listing left out);
    # bubblewrap closed the two it read (the filter and the connection data)
    assert out["fds"]["0"] == "/dev/null" and set(out["fds"]) == {"0", "1", "2"}, out["fds"]
    assert out["connection"] == "ok '{\"key\": \"k\"}'" and out["write_connection"] == "blocked OSError"
    assert "COURSE_SECRET_TOKEN" not in out["env"] and "PYTHONPATH" in out["env"]
    assert out["threads"] == ["3", "3"]  # the kernel's compute threads: Limits.threads
    assert out["cwd"] == str(cwd) and out["cwd_files"] == ["data.csv"]  # no notebook to read
    assert out["staging"] == ["data.csv"]
    assert out["secret"] == "blocked FileNotFoundError"
    assert out["loopback"].startswith("blocked") and accepted == []
    assert out["write_usr"] == out["write_venv"] == out["write_root"] == out["write_pkgs"] == "blocked OSError"
    assert out["write_tmp"].startswith("ok") and out["write_cwd"].startswith("ok")
    assert out["write_ipc"] == "ok 2"  # the one folder shared with the grader (its sockets)
    assert out["tmp_size"] == "blocked OSError"  # /tmp holds at most tmpfs_size
    # /dev/shm too (bwrap's --dev leaves it a folder of an unsized tmpfs: without a memory
    # cgroup, --isolation namespaces, it could take half the host's memory)
    assert out["write_shm"].startswith("ok") and out["shm_size"] == "blocked OSError"
    assert out["userns"] == "blocked OSError"  # no nested user namespace (bwrap --disable-userns)
    assert out["import_numpy"] == "ok 'numpy'"
    assert not (cwd / "mine.txt").exists()  # the assignment folder was a private copy


def test_private_tmp_comes_before_every_bind_it_could_hide():
    # a course cloned under /tmp (its virtual environment too) must stay visible inside:
    # bwrap applies mounts in order, so the private /tmp has to be mounted first
    cfg = {"bwrap": "bwrap", "python_roots": ["/tmp/course/.venv", "/usr/lib/python3"], "etc": "/tmp/w/etc",
           "ipc": "/dev/shm/course-ipc-x", "pkgs": "/tmp/w/pkgs", "stage": "/tmp/w/stage", "tmpfs_size": 1 << 20}
    argv = bwrap_argv(cfg, "/tmp/w/assignment", ["python"], seccomp_fd=3)
    pairs = list(zip(argv, argv[1:]))
    tmp_at = pairs.index(("--tmpfs", "/tmp"))
    assert pairs.count(("--tmpfs", "/tmp")) == 1
    for i, (flag, src) in enumerate(pairs):
        if flag in ("--ro-bind", "--bind") and src.startswith("/tmp/"):
            assert i > tmp_at, (src, argv)
    assert pairs.index(("--ro-bind", "/tmp/course/.venv")) > tmp_at


# --------------------------------------------------------------------------------------
# escape attempts, graded in one batch of the toy assignment with honest students
# --------------------------------------------------------------------------------------
#: tight limits (the graded lab's batch has the same): 128 pids stop the fork bomb early
ESCAPE_LIMITS = Limits(memory=2 << 30, pids=128, file_size=64 << 20)
#: the honest students of the batch: {student: (my_add, my_mul, fair scores)}; "good" is the
#: other student whose submission esc_read_other tries to read
HONEST = {"good": (TOY_ADD, TOY_MUL, TOY_FULL),
          "wrong_add": ("def my_add(a, b):\n    return a - b\n", TOY_MUL, TOY_NO_ADD)}


@dataclass
class EscapeBatch:
    """The escape batch: course folder, results by student, and what the host saw meanwhile."""

    course: Path
    results: dict[str, SubmissionResult]
    targets: Targets
    escapes: list[Case]
    accepted: list
    secret: str
    data_before: str
    data_after: str
    lines: list[str] = field(default_factory=list)
    grader_env: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def escape_batch(tmp_path_factory: pytest.TempPathFactory) -> EscapeBatch:
    """Every attempt of helpers.escapes and the honest students, graded in one sandboxed batch
    of the toy (tight limits, two workers) while the host listens on a loopback port and holds a
    secret in its environment; the batch's coordinator is this test process."""
    course = make_course(tmp_path_factory.mktemp("escapecourse"), TOY, toy_source())
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = accept_in_background(listener)
    secret_name, secret = "COURSE_TEST_SECRET", secrets.token_hex(16)
    targets = Targets(course=str(course), repo=str(ROOT), utils_dir=str(package_dir("utils")),
                      site_packages=sysconfig.get_paths()["purelib"], coordinator=os.getpid(),
                      loopback_port=listener.getsockname()[1], secret_name=secret_name)
    escapes = escape_cases(targets)
    for case in escapes:
        submit(course, TOY, case.name, escape_notebook(case))
    for student, (add, mul, _) in HONEST.items():
        submit(course, TOY, student, toy_submission(add, mul))
    data_file = package_dir("utils") / "data" / "digits_y.npy"
    before = sha256(data_file)
    lines: list[str] = []
    os.environ[secret_name] = secret
    grader_env = dict(os.environ)
    try:
        # 30 s per cell: the network attempts wait up to 3 s each, the file walks a few seconds
        results = autograde_all(TOY, course_dir=course, workers=2, timeout=600, cell_timeout=30,
                                progress=lines.append, restore_course_files=False,
                                limits=ESCAPE_LIMITS)
    finally:
        del os.environ[secret_name]
        listener.close()
    print("\n".join(lines))
    return EscapeBatch(course, {r.student: r for r in results}, targets, escapes, accepted, secret,
                       before, sha256(data_file), lines, grader_env)


def escape_lines(batch: EscapeBatch, student: str) -> dict[str, str]:
    """{label: outcome} printed by the attempt in the student's autograded notebook."""
    return attempt_lines(batch.course / "autograded" / student / TOY / f"{TOY}.ipynb", ESCAPE_CELL)


def stored_scores(batch: EscapeBatch) -> dict[str, dict[str, float]]:
    """{student: {test cell: score}} of the batch's gradebook."""
    return gradebook_scores(sqlite_url(batch.course / "gradebook.db"), "default_course", TOY)


def _escape_ids() -> list[str]:
    return [c.name for c in escape_cases(Targets("", "", "", "", 0, 0, ""))]


@pytest.mark.slow
@pytest.mark.parametrize("name", _escape_ids())
@pytest.mark.sandbox
def test_escape_attempt_is_contained(escape_batch: EscapeBatch, name: str) -> None:
    case = next(c for c in escape_batch.escapes if c.name == name)
    res = escape_batch.results[name]
    stored = stored_scores(escape_batch)
    joined = "; ".join(res.notes)
    assert "isolation: sandboxed (memory 2G, pids 128, cores 1, file size 64M)" in joined, joined
    for fragment in case.notes:
        assert fragment in joined, (fragment, joined)
    if case.extra.get("self_harm"):
        assert all(stored[name][g] <= case.expected[g] for g in case.expected), stored[name]
        if res.status != "ok":  # nbgrader gave up on it: zero, and flagged for a human
            assert res.status == "error" and res.score == 0, res
            return
    else:
        assert stored[name] == case.expected, (name, res.notes)
        assert res.status == "ok", res
    seen = escape_lines(escape_batch, name) if case.expected[ESCAPE_TEST] else {}
    for label in case.extra.get("blocked", []):
        assert seen[label].startswith("BLOCKED"), (label, seen)
    for label in case.extra.get("empty", []):
        assert seen[label] == "OK []", (label, seen)
    for label in case.extra.get("ok", []):
        assert seen[label].startswith("OK"), (label, seen)


@pytest.mark.slow
@pytest.mark.sandbox
def test_escapes_leave_the_host_untouched(escape_batch: EscapeBatch) -> None:
    batch = escape_batch
    t = batch.targets
    # nothing written outside the sandbox
    for path in (Path(t.course) / "escaped.txt", ROOT / "release" / LAB / "escaped.txt",
                 Path(t.utils_dir) / "escaped.py", Path(t.site_packages) / "escaped.py",
                 Path("/escaped.txt"), Path("/usr/escaped.txt")):
        assert not path.exists(), path
    assert batch.data_after == batch.data_before  # the course's data file
    # what it could read: its own folder, no other student, a minimal environment, two pids
    other = escape_lines(batch, "esc_read_other")
    assert other["workspaces"] == "OK ['esc_read_other']"
    secrets_seen = escape_lines(batch, "esc_secrets")
    assert batch.secret not in str(secrets_seen)
    sandbox_env = dict(eval(secrets_seen["environ"][3:]))  # noqa: S307 (our own repr)
    inherited = {k for k, v in sandbox_env.items() if batch.grader_env.get(k) == v}
    # only variables the sandbox or the course's utils set to fixed values may equal the
    # grader's (the toy's kernel never imports TensorFlow, which sets some itself: none is
    # left out of the comparison)
    assert inherited <= {"PATH", "HOME", "LANG", "USER", "PYTHONDONTWRITEBYTECODE",
                         "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", *THREAD_VARS}, inherited
    cmdlines = secrets_seen["all cmdlines"]
    assert "pytest" not in cmdlines and "nbgrader" not in cmdlines and "ipykernel" in cmdlines
    kill = escape_lines(batch, "esc_kill")
    assert kill["visible pids"] == "OK [1, 2]"  # the sandbox's init and the kernel
    assert kill["parent"] == "OK (1, None)"  # the sandbox's init ignores it; the kernel lived on
    # no connection reached the listening loopback port
    assert batch.accepted == []
    # the fork bomb hit the pids limit, and nothing it started survived the batch
    if batch.results["esc_fork_bomb"].status == "ok":
        made, refused = (int(x) for x in
                         escape_lines(batch, "esc_fork_bomb")["fork"].strip("OK '").split()[1::2])
        assert made > 0 and refused > 0 and made < 128  # the pids limit refused the rest
    assert [p.pid for p in psutil.process_iter(["cmdline"]) if MARKER in (p.info["cmdline"] or [])] == []
    mine = f"course-grading-{os.getpid()}-*"  # the batch's cgroups are gone
    root = CGROUP_ROOT
    assert [d for top in (root, root / "memory", root / "pids") for d in top.glob(mine)] == []
    assert live_kernels() == []


@pytest.mark.slow
@pytest.mark.sandbox
def test_escape_batch_grades_everyone_and_the_honest_students_fairly(escape_batch: EscapeBatch) -> None:
    stored = stored_scores(escape_batch)
    everyone = [c.name for c in escape_batch.escapes] + list(HONEST)
    assert sorted(stored) == sorted(everyone) == sorted(escape_batch.results)
    assert all(set(g) == set(TOY_FULL) for g in stored.values())
    for student, (_, _, expected) in HONEST.items():
        res = escape_batch.results[student]
        assert stored[student] == expected, (student, res.notes)
        assert res.status == "ok", res
        # the guard is silent for honest work
        assert not any("GUARD-UNDONE" in n for n in res.notes), res.notes
