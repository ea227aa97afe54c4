"""grading.sandbox: sizes, cgroups (v1 and v2 layouts, and the real hierarchy of this
machine), the host checks, and a real bubblewrap sandbox with the kernel's exact command line
(a short Python program in place of the kernel, so no Jupyter is involved)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from grading.isolation import launcher, sandbox
from grading.isolation.cleanup import scope
from grading.batch.gradebook import sqlite_url
from grading.errors import GradingError
from grading.isolation.cgroups import CGROUP_ROOT, Cgroups, batch_name, detect_cgroups
from grading.isolation.sandbox import bwrap_argv
from grading.limits import THREAD_VARS, Limits, format_size, parse_size
from helpers.courses import gradebook_scores, live_kernels
from helpers.escapes import MARKER, Targets, accept_in_background, attempt_lines, escape_cases
from helpers.repo import LAB, ROOT


def test_sizes():
    assert parse_size("4G") == 4 << 30 and parse_size("512m") == 512 << 20
    assert parse_size("1GiB") == 1 << 30 and parse_size("64K") == 64 << 10
    assert parse_size("1048576") == 1 << 20 and parse_size(7) == 7
    assert format_size(4 << 30) == "4G" and format_size(100 << 20) == "100M" and format_size(1000) == "1000"
    for bad in ("lots", "-1G", "0"):
        with pytest.raises(GradingError, match="bad size"):
            parse_size(bad)


def _fake_v1(root: Path) -> Path:
    for ctl in ("memory", "pids", "cpu"):
        (root / ctl).mkdir(parents=True)
        (root / ctl / "cgroup.procs").write_text("")
    return root


def _fake_v2(root: Path, controllers: str = "cpu memory pids") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_detect_cgroups_layouts(tmp_path):
    assert detect_cgroups(_fake_v1(tmp_path / "v1")) == (1, "")
    assert detect_cgroups(_fake_v2(tmp_path / "v2")) == (2, "")
    version, why = detect_cgroups(_fake_v2(tmp_path / "v2bad", "cpu io"))
    assert version is None and "lacks the memory and pids controller" in why
    version, why = detect_cgroups(_fake_v2(tmp_path / "v2nocpu", "memory pids"))
    assert version is None and "lacks the cpu controller" in why
    (tmp_path / "nothing").mkdir()
    version, why = detect_cgroups(tmp_path / "nothing")
    assert version is None and "no cgroup v2 and no cgroup v1 memory, pids and cpu hierarchy" in why


def test_cgroup_files_written_for_v1_and_v2(tmp_path):
    limits = Limits(memory=2 << 30, pids=64, file_size=1 << 20, threads=3)
    v1 = Cgroups(1, _fake_v1(tmp_path / "v1"), "batch")
    v1.open_batch()
    mem, pids, cpu = v1.create("alice", limits)
    assert mem == tmp_path / "v1" / "memory" / "batch" / "alice"
    assert (mem / "memory.limit_in_bytes").read_text() == str(2 << 30)
    assert (pids / "pids.max").read_text() == "64"
    assert cpu == tmp_path / "v1" / "cpu" / "batch" / "alice"
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "300000"  # three cores' worth per period
    v2 = Cgroups(2, _fake_v2(tmp_path / "v2"), "batch")
    v2.open_batch()
    assert (tmp_path / "v2" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (tmp_path / "v2" / "batch" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    (d,) = v2.create("bob", limits)
    assert (d / "memory.max").read_text() == str(2 << 30) and (d / "pids.max").read_text() == "64"
    assert (d / "cpu.max").read_text() == "300000 100000"


@pytest.mark.sandbox
def test_real_cgroups_limit_and_kill_detached_processes():
    """On this machine's hierarchy (v1 or v2): a pids limit holds, setsid'd processes die."""
    version, why = detect_cgroups()
    assert version is not None, why  # CI runs as root with writable cgroups
    cg = Cgroups(version, CGROUP_ROOT, f"course-grading-test-{os.getpid()}")
    cg.open_batch()
    try:
        dirs = cg.create("t", Limits(memory=256 << 20, pids=8))
        code = ("import os, subprocess, sys\n"
                f"for d in {[str(d) for d in dirs]!r}:\n"
                "    open(d + '/cgroup.procs', 'w').write(str(os.getpid()))\n"
                "made = 0\n"
                "for _ in range(20):\n"
                "    try:\n"
                "        subprocess.Popen(['sleep', '4242.31'], start_new_session=True,\n"
                "                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                "        made += 1\n"
                "    except OSError:\n"
                "        pass\n"
                "print(made)\n")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        made = int(proc.stdout.strip())
        assert 0 < made < 20  # the pids limit refused the rest
        assert len(cg.members(dirs)) == made  # detached, but still in the cgroup
        cg.remove(dirs)
        assert not any(d.exists() for d in dirs)
        left = [p for p in psutil.process_iter(["cmdline"]) if "4242.31" in (p.info["cmdline"] or [])]
        assert left == []
    finally:
        cg.close_batch()
    assert not any((CGROUP_ROOT / p).exists() for p in (cg.name, f"memory/{cg.name}", f"cpu/{cg.name}"))


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


# --------------------------------------------------------------------------------------
# escape attempts, graded in one batch with honest students (conftest.lab_batch)
# --------------------------------------------------------------------------------------
def escape_lines(batch, student: str) -> dict[str, str]:
    """{label: outcome} printed by the attempt in the student's autograded notebook."""
    return attempt_lines(batch.course / "autograded" / student / LAB / f"{LAB}.ipynb")


def _escape_ids() -> list[str]:
    return [c.name for c in escape_cases(Targets("", "", "", "", 0, 0, ""))]


@pytest.mark.slow
@pytest.mark.parametrize("name", _escape_ids())
@pytest.mark.sandbox
def test_escape_attempt_is_contained(lab_batch, name):
    case = next(c for c in lab_batch.escapes if c.name == name)
    res = lab_batch.results[name]
    stored = gradebook_scores(sqlite_url(lab_batch.course / "gradebook.db"), "multiclass-digits", LAB)
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
    seen = escape_lines(lab_batch, name) if case.expected["test_my_softmax"] else {}
    for label in case.extra.get("blocked", []):
        assert seen[label].startswith("BLOCKED"), (label, seen)
    for label in case.extra.get("empty", []):
        assert seen[label] == "OK []", (label, seen)
    for label in case.extra.get("ok", []):
        assert seen[label].startswith("OK"), (label, seen)


@pytest.mark.slow
@pytest.mark.sandbox
def test_escapes_leave_the_host_untouched(lab_batch):
    t = lab_batch.targets
    # nothing written outside the sandbox
    for path in (Path(t.course) / "escaped.txt", ROOT / "release" / LAB / "escaped.txt",
                 Path(t.utils_dir) / "escaped.py", Path(t.site_packages) / "escaped.py",
                 Path("/escaped.txt"), Path("/usr/escaped.txt")):
        assert not path.exists(), path
    # what it could read: its own folder, no other student, a minimal environment, two pids
    other = escape_lines(lab_batch, "esc_read_other")
    assert other["workspaces"] == "OK ['esc_read_other']"
    secrets_seen = escape_lines(lab_batch, "esc_secrets")
    assert lab_batch.secret not in str(secrets_seen)
    sandbox_env = dict(eval(secrets_seen["environ"][3:]))  # noqa: S307 (our own repr)
    inherited = {k for k, v in sandbox_env.items() if lab_batch.grader_env.get(k) == v}
    # TensorFlow sets some variables itself on import, in the kernel as in a grader that
    # imported it: found by importing the course in a process with an empty environment
    probe = subprocess.run([sys.executable, "-c", "import json, os, utils, tensorflow, keras; "
                            "print('ENV' + json.dumps(sorted(os.environ)))"],
                           env={}, capture_output=True, text=True, timeout=600)
    line = [l for l in probe.stdout.splitlines() if l.startswith("ENV")]
    assert line, probe.stdout + probe.stderr
    inherited -= set(json.loads(line[0][3:]))
    # only variables the sandbox or the course's utils set to fixed values may equal the grader's
    assert inherited <= {"PATH", "HOME", "LANG", "USER", "PYTHONDONTWRITEBYTECODE",
                         "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", *THREAD_VARS}, inherited
    cmdlines = secrets_seen["all cmdlines"]
    assert "pytest" not in cmdlines and "nbgrader" not in cmdlines and "ipykernel" in cmdlines
    kill = escape_lines(lab_batch, "esc_kill")
    assert kill["visible pids"] == "OK [1, 2]"  # the sandbox's init and the kernel
    assert kill["parent"] == "OK (1, None)"  # the sandbox's init ignores it; the kernel lived on
    # no connection reached the listening loopback port
    assert lab_batch.accepted == []
    # the fork bomb hit the pids limit, and nothing it started survived the batch
    if lab_batch.results["esc_fork_bomb"].status == "ok":
        made, refused = (int(x) for x in
                         escape_lines(lab_batch, "esc_fork_bomb")["fork"].strip("OK '").split()[1::2])
        assert made > 0 and refused > 0 and made < 128  # the pids limit refused the rest
    assert [p.pid for p in psutil.process_iter(["cmdline"]) if MARKER in (p.info["cmdline"] or [])] == []
    mine = f"course-grading-{os.getpid()}-*"  # the batch's cgroups are gone
    root = CGROUP_ROOT
    assert [d for top in (root, root / "memory", root / "pids") for d in top.glob(mine)] == []
    assert live_kernels() == []


def test_sweep_removes_only_cgroups_of_dead_graders(tmp_path):
    root, here = _fake_v1(tmp_path / "v1"), scope()
    for ctl in ("memory", "pids"):
        (root / ctl / f"course-grading-999999999-{here}-aa" / "alice").mkdir(parents=True)
        (root / ctl / f"course-grading-{os.getpid()}-{here}-bb" / "bob").mkdir(parents=True)
    swept = Cgroups(1, root, "new").sweep_stale()
    assert sorted(p.relative_to(root).as_posix() for p in swept) == [
        f"memory/course-grading-999999999-{here}-aa", f"pids/course-grading-999999999-{here}-aa"]
    assert not (root / "memory" / f"course-grading-999999999-{here}-aa").exists()
    assert (root / "pids" / f"course-grading-{os.getpid()}-{here}-bb" / "bob").is_dir()  # live


def test_sweep_kills_no_cgroup_whose_name_no_grader_makes(tmp_path):
    """The sweep kills every process of a cgroup it finds stale: only a name a grader makes
    (course-grading-PID-SCOPE-HEX, the pid as os.getpid() writes it, this process's scope)
    is judged by its pid."""
    root, s = _fake_v1(tmp_path / "v1"), scope()
    other = "1" if s != "1" else "2"  # another pid namespace's
    foreign = [f"course-grading-0001-{s}-aa", f"course-grading-00{os.getpid()}-{s}-aa",  # pid 1, this
               f"course-grading-\u00b2-{s}-aa", f"course-grading-\u0661\u0662-{s}-aa",  # not ASCII
               f"course-grading--{s}-aa", f"course-grading-999999999-{s}",  # no pid; no random tail
               f"course-grading-999999999-{s}-fall-2026", f"course-grading-999999999-{s}-exam",  # not hex
               "course-grading-999999999-aa", f"course-grading-999999999-{other}-aa"]  # no, other scope
    dead = batch_name().replace(f"-{os.getpid()}-", "-999999999-")  # a batch's, its grader dead
    for ctl in ("memory", "pids"):
        for name in [*foreign, dead]:
            (root / ctl / name / "alice").mkdir(parents=True)
    swept = Cgroups(1, root, "new").sweep_stale()
    assert sorted(p.relative_to(root).as_posix() for p in swept) == [f"memory/{dead}", f"pids/{dead}"]
    assert all((root / ctl / name / "alice").is_dir() for ctl in ("memory", "pids") for name in foreign)


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


BUSY = """\
import os, sys, time
for d in sys.argv[1:]:
    open(d + '/cgroup.procs', 'w').write(str(os.getpid()))
start = time.monotonic()
kids = []
for _ in range(4):  # four busy loops: twice the cores of this machine
    pid = os.fork()
    if pid == 0:
        while time.monotonic() - start < 3:
            pass
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
t = os.times()
print((t.children_user + t.children_system) / (time.monotonic() - start))
"""


def _throttled(dirs: list[Path]) -> int:
    """How often the CPU quota stopped the cgroup (cpu.stat: nr_throttled, v1 and v2)."""
    stats = [d / "cpu.stat" for d in dirs if (d / "cpu.stat").is_file()]
    assert stats, f"no cpu controller in {dirs}"
    return sum(int(line.split()[1]) for f in stats for line in f.read_text().splitlines()
               if line.startswith("nr_throttled "))


def _busy_cores(dirs: list[Path]) -> float:
    out = subprocess.run([sys.executable, "-c", BUSY, *map(str, dirs)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return float(out)


@pytest.mark.sandbox
def test_real_cgroups_give_a_submission_at_most_its_threads_in_cores():
    """Busy loops forked by a submission (within its pids limit) get ``threads`` cores in all,
    so they cannot slow every other submission on the machine into its timeout."""
    version, why = detect_cgroups()
    assert version is not None, why
    cg = Cgroups(version, CGROUP_ROOT, f"course-grading-test-{os.getpid()}")
    cg.open_batch()
    try:
        dirs = cg.create("busy", Limits(memory=256 << 20, pids=16, threads=1))
        (cpu,) = [d for d in dirs if (d / "cpu.stat").is_file()] or [None]
        assert cpu is not None, f"no cpu controller in {dirs}"
        # this machine is shared: the highest CPU weight makes the quota the only thing that
        # can hold the loops below the machine's two cores
        weight = ("cpu.weight", "10000") if version == 2 else ("cpu.shares", "262144")
        for d in (cpu.parent, cpu):  # the batch's cgroup competes with the machine's tasks
            (d / weight[0]).write_text(weight[1])
        cores = _busy_cores(dirs)
        throttled = _throttled(dirs)
        (cpu / "cpu.max").write_text("max") if version == 2 else \
            (cpu / "cpu.cfs_quota_us").write_text("-1")  # the same load without the quota
        free = _busy_cores(dirs)
        print(f"4 busy loops: {cores:.2f} cores with threads=1, {free:.2f} without the quota")
        assert cores < 1.5 and throttled > 0  # one core's quota, with slack for the accounting
        assert free > 1.5, "the control needs two cores: without the quota the load must exceed it"
    finally:
        cg.close_batch()
