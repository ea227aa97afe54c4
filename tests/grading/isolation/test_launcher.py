"""grading.isolation.launcher and the launcher's run (``python -m grading.isolation.sandbox``):
what the root side does at each kernel (re)start, against what a kernel could have left in the
one host folder it can write (links, locked folders) and the descriptors it would inherit."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grading.isolation import launcher, seccomp
from grading.isolation.cgroups import CGROUP_ROOT, Cgroups, detect_cgroups
from grading.isolation.launcher import CONNECTION_PATH, LaunchError
from grading.limits import Limits
from helpers.courses import sha256

HOST = b"a host file\n"


def _host_file(tmp_path: Path) -> Path:
    target = tmp_path / "host.txt"
    target.write_bytes(HOST)
    target.chmod(0o640)
    return target


def _unchanged(target: Path) -> bool:
    info = target.lstat()
    return stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o640 and target.read_bytes() == HOST


def test_connection_file_is_read_without_following_a_link(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / "kernel.json").write_text('{"key": "k"}')
    assert launcher.read_connection(str(runtime), str(runtime / "kernel.json")) == b'{"key": "k"}'
    target = _host_file(tmp_path)
    (runtime / "link.json").symlink_to(target)
    with pytest.raises(LaunchError, match="link.json"):
        launcher.read_connection(str(runtime), str(runtime / "link.json"))
    os.mkfifo(runtime / "fifo.json")  # never blocks on a FIFO
    with pytest.raises(LaunchError, match="not a regular file"):
        launcher.read_connection(str(runtime), str(runtime / "fifo.json"))
    (tmp_path / "elsewhere.json").write_text("{}")  # only files of the runtime folder
    with pytest.raises(LaunchError, match="not in the runtime folder"):
        launcher.read_connection(str(runtime), str(tmp_path / "elsewhere.json"))
    (tmp_path / "runtime-link").symlink_to(runtime)  # nor a runtime folder reached through a link
    with pytest.raises(OSError):
        launcher.read_connection(str(tmp_path / "runtime-link"), str(runtime / "kernel.json"))
    (runtime / "big.json").write_bytes(b" " * (launcher.CONNECTION_MAX + 1))
    with pytest.raises(LaunchError, match="at most"):
        launcher.read_connection(str(runtime), str(runtime / "big.json"))
    assert _unchanged(target)


def test_socket_folder_is_emptied_and_unlocked_through_descriptors(tmp_path):
    """What a kernel leaves: links to host files and folders, a locked folder holding files, a
    deep tree; and the folder itself made read-only."""
    target = _host_file(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    ipc = tmp_path / "ipc"
    ipc.mkdir()
    (ipc / "kernel.json").symlink_to(target)
    (ipc / "dir-link").symlink_to(outside)
    locked = ipc / "locked"
    (locked / "sub").mkdir(parents=True)
    (locked / "sub" / "file").write_text("x")
    (locked / "sub").chmod(0)
    locked.chmod(0)
    deep = ipc
    for _ in range(50):
        deep = deep / "d"
    deep.mkdir(parents=True)
    ipc.chmod(0o500)
    launcher.reset_socket_folder(str(ipc))
    assert os.listdir(ipc) == [] and stat.S_IMODE(ipc.stat().st_mode) == 0o700
    assert _unchanged(target) and (outside / "keep.txt").read_text() == "keep"
    (tmp_path / "ipc-link").symlink_to(outside)  # the folder itself must not be a link
    with pytest.raises(OSError):
        launcher.reset_socket_folder(str(tmp_path / "ipc-link"))
    assert os.listdir(outside) == ["keep.txt"]


def test_kernel_output_keeps_its_ends_in_a_new_file(tmp_path):
    target = _host_file(tmp_path)
    (tmp_path / f"{launcher.OUTPUT_PREFIX}1.log").symlink_to(target)  # never opened: O_EXCL
    w = launcher.start_output_reader(str(tmp_path))
    data = b"".join(b"%07d\n" % i for i in range(200_000))  # 1.6 MB, every line different
    with os.fdopen(w, "wb") as fh:
        fh.write(data)
    out = tmp_path / f"{launcher.OUTPUT_PREFIX}2.log"
    for _ in range(500):  # the reader writes the tail at the end of its input
        if b"left out" in out.read_bytes() and out.read_bytes().endswith(data[-8:]):
            break
        os.sched_yield()
        __import__("time").sleep(0.01)
    keep = launcher.OUTPUT_KEEP
    dropped = len(data) - 2 * keep
    assert out.read_bytes() == (data[:keep] + f"\n[... {dropped} bytes of kernel output left out ...]\n".encode()
                                + data[-keep:])
    assert _unchanged(target) and stat.S_IMODE(out.stat().st_mode) == 0o600


FAKE_BWRAP = '''#!{python}
import json, os, sys
fds = {{}}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[fd] = os.readlink(f"/proc/self/fd/{{fd}}")
    except OSError:
        pass
argv = sys.argv
data = {{}}
for flag in ("--seccomp", "--ro-bind-data"):
    fd = int(argv[argv.index(flag) + 1])
    with os.fdopen(fd, "rb") as fh:
        data[flag] = fh.read().hex()
print("printed by the sandbox")
print("to its stderr", file=sys.stderr)
with open({record!r}, "w") as fh:
    json.dump({{"fds": fds, "argv": argv, "data": data, "env": dict(os.environ)}}, fh)
'''


def test_launch_hands_bwrap_only_its_own_descriptors(tmp_path):
    """The launcher run as jupyter_client runs it: stdout and stderr are nbgrader's log, and
    another host file is open too. bwrap (a stand-in that records what it got) must start
    with /dev/null, one pipe for stdout and stderr, and the two pipes it reads, nothing else;
    what it prints lands in the kernel's output file, not in the log."""
    ws = tmp_path / "ws"
    for d in ("etc", "runtime", "output", "stage", "pkgs", "cwd"):
        (ws / d).mkdir(parents=True)
    (ws / "cwd" / "data.csv").write_text("1,2\n")
    ipc = tmp_path / "ipc"
    ipc.mkdir()
    (ipc / "left-by-a-kernel").symlink_to(_host_file(tmp_path))
    connection = ws / "runtime" / "kernel.json"
    connection.write_text(json.dumps({"ip": str(ipc / "k"), "key": "s3cret", "transport": "ipc"}))
    record = tmp_path / "bwrap.json"
    fake = tmp_path / "bwrap"
    fake.write_text(FAKE_BWRAP.format(python=sys.executable, record=str(record)))
    fake.chmod(0o755)
    limits = Limits(memory=256 << 20, pids=64, file_size=16 << 20)
    cfg = {"level": "namespaces", "bwrap": str(fake), "python_roots": [], "etc": str(ws / "etc"),
           "ipc": str(ipc), "pkgs": str(ws / "pkgs"), "stage": str(ws / "stage"),
           "runtime": str(ws / "runtime"), "output": str(ws / "output"), "tmpfs_size": limits.memory,
           "cgroups": [], "report": str(ws / "isolation.txt"),
           "limits": {"memory": limits.memory, "pids": limits.pids, "file_size": limits.file_size,
                      "cpu_seconds": 60, "threads": 1}}
    (ws / "sandbox.json").write_text(json.dumps(cfg))
    log = tmp_path / "nbgrader.log"
    other = tmp_path / "other-host-file"
    with open(log, "wb") as log_fh, open(other, "wb") as other_fh:
        proc = subprocess.run(
            [sys.executable, "-m", "grading.isolation.sandbox", str(ws / "sandbox.json"), str(connection)],
            cwd=ws / "cwd", stdin=subprocess.PIPE, stdout=log_fh, stderr=log_fh,
            pass_fds=(other_fh.fileno(),), timeout=120)
    assert proc.returncode == 0, log.read_text()
    got = json.loads(record.read_text())
    fds = got["fds"]
    listing = [fd for fd in fds if fd not in ("0", "1", "2", "3", "4")]
    assert len(listing) <= 1, fds  # at most the stand-in's own listing of /proc/self/fd
    assert fds["0"] == "/dev/null" and fds["1"] == fds["2"] and fds["1"].startswith("pipe:"), fds
    assert fds["3"].startswith("pipe:") and fds["4"].startswith("pipe:") and fds["3"] != fds["1"], fds
    assert str(log) not in fds.values() and str(other) not in fds.values(), fds
    argv = got["argv"]
    assert argv[argv.index("--seccomp") + 1] == "3" and "--as-pid-1" in argv
    assert argv[argv.index("--ro-bind-data") + 1: argv.index("--ro-bind-data") + 3] == ["4", CONNECTION_PATH]
    assert argv[-2:] == ["-f", CONNECTION_PATH]
    assert bytes.fromhex(got["data"]["--seccomp"]) == seccomp.filter_bytes()
    assert bytes.fromhex(got["data"]["--ro-bind-data"]) == connection.read_bytes()
    # bwrap's own process: no environment at all (the stand-in's Python sets LC_CTYPE itself:
    # PEP 538's coercion of the C locale)
    assert set(got["env"]) <= {"LC_CTYPE"}, got["env"]
    assert log.read_bytes() == b""  # nothing of the sandbox's in nbgrader's log
    output = (ws / "output" / f"{launcher.OUTPUT_PREFIX}1.log").read_text()
    assert "printed by the sandbox" in output and "to its stderr" in output
    assert os.listdir(ipc) == []  # what an earlier kernel left is gone


@pytest.mark.sandbox
def test_a_restart_first_ends_every_process_left_in_the_cgroup(tmp_path):
    """The launcher's barrier on this machine's cgroups: processes of an earlier kernel (in new
    sessions, ignoring SIGTERM) are killed before the new kernel starts."""
    version, why = detect_cgroups()
    assert version is not None, why
    cg = Cgroups(version, CGROUP_ROOT, f"course-grading-test-launcher-{os.getpid()}")
    cg.open_batch()
    try:
        dirs = [str(d) for d in cg.create("k", Limits(memory=256 << 20, pids=32))]
        code = textwrap.dedent(f'''
            import os, signal, subprocess, sys
            from grading.isolation import launcher
            dirs = {dirs!r}
            for d in dirs:
                open(d + "/cgroup.procs", "w").write(str(os.getpid()))
            for _ in range(5):
                subprocess.Popen(["sleep", "4242.2627"], start_new_session=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
            print(launcher.kill_others(dirs, grace=0.2), sorted(launcher._members(dirs)))
            ''')
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              cwd=Path(__file__).resolve().parents[2])
        assert proc.stdout.split() == ["5", "[]"], proc.stdout + proc.stderr
    finally:
        cg.close_batch()
