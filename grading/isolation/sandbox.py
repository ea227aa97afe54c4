"""The operating-system sandbox around student kernels: bubblewrap, cgroups, rlimits.

nbgrader itself runs outside the sandbox (it needs the private gradebook, which holds the
hidden tests); only the kernel, and everything it starts, runs inside. The kernel is
launched through a kernelspec whose command is this module (``python -m
grading.isolation.sandbox CONFIG CONNECTION_FILE``), run as the grader. It

1. moves itself into the submission's cgroup (:mod:`grading.isolation.cgroups`: memory, process and
   CPU limits, the CPU a quota of ``Limits.threads`` cores; the grader kills the whole
   cgroup when the submission is done, ``setsid`` or not),
2. sets RLIMIT_FSIZE (file size), RLIMIT_CORE = 0 and a generous RLIMIT_CPU (never
   RLIMIT_AS: TensorFlow reserves large virtual ranges),
3. execs ``bwrap``: own user (uid 4242, no capabilities, no nested user namespaces), PID,
   network, IPC, UTS, cgroup and mount namespaces; the system and the Python environment
   read-only; the workspace's private copy of the course packages, read-only; a private
   writable copy of the assignment folder and a private /tmp, both memory-backed (tmpfs
   sized to the memory limit); a fresh /proc that shows only the sandbox; a read-only root;
   no network at all (an empty network namespace); the keyring system calls refused (a
   seccomp filter, :mod:`grading.isolation.seccomp`); as pid 1 not bubblewrap's own init but
   :data:`BOOTSTRAP`, which makes itself undumpable (the kernel, under the same uid, can
   neither trace it nor touch its memory) and reaps orphans.
   The kernel talks to nbgrader over ZeroMQ ``ipc`` (Unix sockets) in a directory bound
   into the sandbox, so it needs no network. Its connection file, its stdout and stderr and
   every descriptor it starts with are set up by :mod:`grading.isolation.launcher`, which
   trusts nothing an earlier kernel of the submission could have changed.

Isolation levels (``--isolation``):

``sandboxed``  (default) all of the above; needs bubblewrap and writable cgroups (v2 with
               the ``memory``, ``pids`` and ``cpu`` controllers, or those three v1
               hierarchies).
``namespaces`` bubblewrap and rlimits, but no cgroup limits: memory, CPU and the number of
               processes are unbounded (for machines where cgroups are not writable).
``none``       the kernel runs as the grader's user and sees what the grader sees; only
               the in-kernel guard and the private workspace protect the grades.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from grading.errors import GradingError
from grading.isolation import launcher
from grading.isolation.cgroups import detect_cgroups
from grading.isolation.cgroups import write as _write
from grading.isolation.cleanup import SCOPE_LEN
from grading.isolation.launcher import CONNECTION_PATH
from grading.limits import Limits, check_level, format_size

SANDBOX_UID = 4242
KERNEL_NAME = "course-sandbox"
#: top-level system folders bound read-only (or re-created as the same symlink)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: the few files of /etc a Python kernel needs (dynamic linker, time zone, fontconfig)
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/fonts")
SOCKET_PATH_MAX = 107  # bytes of a Unix socket path (sockaddr_un.sun_path, less its NUL)
#: what the kernel's socket folder on disk adds to the temporary folder, at the longest (the
#: task's scratch folder of grading.batch.worker, the socket folder and socket of
#: grading.batch.workspace)
SOCKET_TAIL = len(f"/grading-task-4194304-{'f' * SCOPE_LEN}-XXXXXXXX/work/course-ipc-XXXXXXXX/k-9")
INSTALL_HINT = "install it with `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`"
#: the namespaces and identity of every sandbox (bubblewrap 0.8 or later; check_host probes them)
NAMESPACE_FLAGS = (
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--uid",
    str(SANDBOX_UID),
    "--gid",
    str(SANDBOX_UID),
    "--cap-drop",
    "ALL",
)


# --------------------------------------------------------------------------------------
# bubblewrap
# --------------------------------------------------------------------------------------
def python_roots() -> list[str]:
    """Folders holding the Python environment the kernel runs from (read-only in the sandbox)."""
    roots = {sys.prefix, sys.base_prefix, str(Path(os.path.realpath(sys.executable)).parents[1])}
    return sorted(r for r in roots if not r.startswith(("/usr/", "/bin/", "/lib")) and r != "/usr")


#: pid 1 of the sandbox (bubblewrap's --as-pid-1: no init of bubblewrap's own): made
#: undumpable first, so that the kernel, under the same uid, can neither ptrace it nor read or
#: write its memory and /proc files; then it copies the assignment folder onto the private
#: tmpfs, forks the kernel, reaps every orphan (a fork bomb's zombies would otherwise hold the
#: pids limit) and exits with the kernel's status (the PID namespace dies with it)
BOOTSTRAP = """\
import ctypes, os, shutil, signal, sys
if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE 0
    sys.exit("sandbox init: PR_SET_DUMPABLE failed")
signal.signal(signal.SIGINT, signal.SIG_IGN)  # (the kernel interrupts its process group)
shutil.copytree(sys.argv[1], os.getcwd(), symlinks=True, dirs_exist_ok=True)
kernel = os.fork()
if kernel == 0:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(sys.argv[2], sys.argv[2:])
while True:
    pid, status = os.wait()
    if pid == kernel:
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
"""
STAGING = "/run/assignment"  # the staged assignment folder, read-only, inside the sandbox


def stage_assignment(cwd: str | Path, stage: str | Path) -> None:
    """What the kernel gets of its assignment folder: everything but the notebooks.

    nbgrader executes the notebook file in ``cwd`` after restoring its test cells, hidden
    tests included: the kernel must not be able to read it.
    """
    if Path(stage).exists():
        shutil.rmtree(stage)
    shutil.copytree(cwd, stage, symlinks=True, ignore=shutil.ignore_patterns("*.ipynb"))


def bwrap_argv(
    cfg: dict, cwd: str, kernel_cmd: list[str], *, seccomp_fd: int, connection_fd: int | None = None
) -> list[str]:
    """The bubblewrap command line that runs ``kernel_cmd`` in ``cwd``, a private tmpfs holding
    a copy of ``cfg["stage"]`` (see :func:`stage_assignment`), under the seccomp filter read
    from ``seccomp_fd`` (:func:`grading.isolation.launcher.seccomp_pipe`), with the data read
    from ``connection_fd`` at :data:`~grading.isolation.launcher.CONNECTION_PATH`, read-only."""
    size = str(cfg["tmpfs_size"])
    argv = [
        cfg["bwrap"],
        *NAMESPACE_FLAGS,
        "--as-pid-1",
        "--seccomp",
        str(seccomp_fd),
        # the private /tmp first: binds made after it stay visible inside it (a course
        # or virtual environment that lives under /tmp)
        "--size",
        size,
        "--tmpfs",
        "/tmp",
    ]
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for path in ETC_FILES:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for path in cfg["python_roots"]:
        argv += ["--ro-bind", path, path]
    argv += [
        "--ro-bind",
        cfg["etc"] + "/passwd",
        "/etc/passwd",
        "--ro-bind",
        cfg["etc"] + "/group",
        "/etc/group",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # bwrap's /dev is an unsized tmpfs and /dev/shm a folder of it: without a memory
        # cgroup (--isolation namespaces) it could take half the host's memory
        "--size",
        size,
        "--tmpfs",
        "/dev/shm",
        "--bind",
        cfg["ipc"],
        cfg["ipc"],
        "--ro-bind",
        cfg["pkgs"],
        cfg["pkgs"],
        "--ro-bind",
        cfg["stage"],
        STAGING,
        *(["--ro-bind-data", str(connection_fd), CONNECTION_PATH] if connection_fd is not None else []),
        "--size",
        size,
        "--tmpfs",
        cwd,
        "--chdir",
        cwd,
        "--remount-ro",
        "/",
        "--clearenv",
    ]
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": cfg["pkgs"],
        "USER": "student",
        "PYTHONDONTWRITEBYTECODE": "1",
        **Limits(**cfg.get("limits", {})).thread_env(),
    }
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return argv + ["--", sys.executable, "-c", BOOTSTRAP, STAGING] + kernel_cmd


def set_rlimits(limits: dict) -> None:
    """File size, no core dumps, generous CPU time (inherited by everything the kernel starts)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_size"], limits["file_size"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = limits["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 30))


def write_kernelspec(dest: Path, config_file: Path) -> None:
    """A kernelspec ``course-sandbox`` under ``dest/kernels`` whose command is :func:`launch`."""
    spec = dest / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "grading.isolation.sandbox", str(config_file), "{connection_file}"],
                "display_name": "Python 3 (course sandbox)",
                "language": "python",
                # bwrap does not forward signals: interrupts go as control messages
                "interrupt_mode": "message",
                "metadata": {"debugger": False},
            },
            indent=1,
        ),
        encoding="utf-8",
    )


def launch(config_file: str, connection_file: str) -> None:
    """Kernelspec entry point: join the cgroups, end what is left of an earlier kernel, set
    rlimits, stage the folder, set up the kernel's descriptors, exec bwrap (see
    :mod:`grading.isolation.launcher` for what it trusts)."""
    cfg = json.loads(Path(config_file).read_text(encoding="utf-8"))
    level = cfg["level"]
    for d in cfg["cgroups"]:
        _write(Path(d) / "cgroup.procs", str(os.getpid()))
    if cfg["cgroups"]:
        launcher.kill_others(cfg["cgroups"])
    set_rlimits(cfg["limits"])
    cwd = os.getcwd()
    stage_assignment(cwd, cfg["stage"])
    detail = (
        Limits(**cfg["limits"]).describe()
        if level == "sandboxed"
        else f"file size {format_size(cfg['limits']['file_size'])}, no cgroup limits"
    )
    with open(cfg["report"], "a", encoding="utf-8") as fh:
        fh.write(f"{level} ({detail})\n")
    connection = launcher.read_connection(cfg["runtime"], connection_file)
    launcher.reset_socket_folder(cfg["ipc"])
    output = launcher.start_output_reader(cfg["output"])
    seccomp_fd, connection_fd = launcher.hand_over_fds(
        output, [launcher.seccomp_pipe(), launcher.data_pipe(connection)]
    )
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", CONNECTION_PATH]
    argv = bwrap_argv(cfg, cwd, kernel, seccomp_fd=seccomp_fd, connection_fd=connection_fd)
    # bwrap's own process gets no environment at all; --clearenv/--setenv only shape the kernel's
    os.execve(argv[0], argv, {})


def check_host(level: str) -> tuple[str, int | None]:
    """Check that ``level`` can be given here: (bwrap path, cgroup version); else one clear error."""
    # a batch's Options checked the level already; this check is for the callers without one:
    # grading.batch.worker.check_worker, which runs on a Dask worker with whatever level a
    # client of the cluster sent (prepare_worker's argument, Bundle.isolation), and direct
    # callers (tests): an unknown level would otherwise get bubblewrap without cgroups
    check_level(level)
    if level == "none":
        return "", None
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise GradingError(
            f"bubblewrap (bwrap) is missing: {INSTALL_HINT}, or pass --isolation none to grade without a sandbox"
        )
    probe = subprocess.run(  # the features bwrap_argv uses (bubblewrap >= 0.8)
        [
            bwrap,
            *NAMESPACE_FLAGS,
            "--ro-bind",
            "/",
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            "1048576",
            "--tmpfs",
            "/tmp",
            "--remount-ro",
            "/",
            "true",
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        why = " ".join(probe.stderr.split()) or f"exit {probe.returncode}"
        raise GradingError(
            f"bubblewrap cannot build the sandbox here ({why}): it needs "
            "bubblewrap 0.8 or later and user namespaces (run the grader as root, "
            "or sysctl user.max_user_namespaces > 0), or pass --isolation none"
        )
    if level == "namespaces" or not os.access("/dev/shm", os.W_OK):  # the socket folder on disk
        room = SOCKET_PATH_MAX - SOCKET_TAIL
        tmp = tempfile.gettempdir()
        if len(os.fsencode(tmp)) > room:
            raise GradingError(
                f"the temporary folder {tmp} is too long for the kernel's sockets in "
                f"it (a Unix socket path has at most {SOCKET_PATH_MAX} bytes): set "
                f"TMPDIR to a folder of at most {room} bytes"
            )
    version = None
    if level == "sandboxed":
        version, why = detect_cgroups()
        if version is None:
            raise GradingError(
                f"{why}: memory, process and CPU limits need writable cgroups; "
                "pass --isolation namespaces to sandbox without them"
            )
    return bwrap, version


if __name__ == "__main__":
    launch(sys.argv[1], sys.argv[2])
