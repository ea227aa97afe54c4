"""The root side of every kernel (re)start: what the launcher does before it execs bubblewrap.

:func:`grading.isolation.sandbox.launch` runs as the grader (root), outside the sandbox, each
time nbgrader starts or restarts the kernel of a submission, so after student code may have
run in an earlier kernel of the same submission. It trusts nothing that kernel could change:

- **The connection file** (the kernel's sockets and signing key) is written by jupyter_client
  into the runtime folder (``JUPYTER_RUNTIME_DIR``), which is the workspace's and never bound
  into the sandbox. It is opened relative to that folder's descriptor, without following a
  link, must be a small regular file, and reaches the kernel as data: ``bwrap --ro-bind-data``
  puts a read-only copy at :data:`CONNECTION_PATH`. Nothing of the kernel's is written on the
  way.
- **The socket folder** is the one host folder the kernel can write (its ZeroMQ ``ipc``
  sockets). At each start it is emptied and given mode 0700 back through descriptors
  (:func:`grading.isolation.cleanup.empty_tree`): whatever an earlier kernel left there,
  links and locked folders included, is removed without being followed.
- **Earlier kernels are gone first**: in a cgroup, every process of the submission still there
  (the rest of a killed sandbox, which the kernel may have filled to the pids limit) is killed
  before the new kernel starts, so it has the whole of its limits.
- **The kernel's stdout and stderr** are a pipe to :func:`keep_output`, a small reader outside
  the sandbox (in the submission's cgroup) that keeps the first and last
  :data:`OUTPUT_KEEP` bytes in a file of its own: never nbgrader's log (which jupyter_client
  would hand the kernel) nor any other host file.
- **Descriptors**: bubblewrap starts with 0 = /dev/null, 1 and 2 = that pipe, and the two pipes
  it reads and closes (the seccomp filter of :mod:`grading.isolation.seccomp`, the connection
  data); every other descriptor is closed.
"""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import stat
import time
from pathlib import Path

from grading.isolation import seccomp
from grading.isolation.cleanup import empty_tree

#: where the kernel finds its connection file inside the sandbox (read-only)
CONNECTION_PATH = "/run/connection.json"
CONNECTION_MAX = 16 << 10  # bytes: jupyter_client's are about 400; a pipe holds 64 KiB
#: bytes of the kernel's stdout/stderr kept from its start, and as many from its end
OUTPUT_KEEP = 64 << 10
OUTPUT_PREFIX = "kernel-output-"  # + a number per kernel start, in the workspace's output folder
BARRIER_SECONDS = 10.0  # to kill what is left of an earlier kernel

_STAGE_FD = 64  # hand_over_fds stages descriptors above this
#: past the highest descriptor a process can have (close_range makes the range cheap)
_FD_MAX = max(os.sysconf("SC_OPEN_MAX"), min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1 << 20))
_NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class LaunchError(RuntimeError):
    """The kernel cannot be started safely (the message says why)."""


def read_connection(runtime_dir: str, connection_file: str) -> bytes:
    """The bytes of ``connection_file``, which must be a regular file directly in
    ``runtime_dir``; read through descriptors, never following a link."""
    top = os.open(runtime_dir, _NOFOLLOW_DIR)
    try:
        here = os.stat(os.path.dirname(connection_file) or ".")
        mine = os.fstat(top)
        if (here.st_dev, here.st_ino) != (mine.st_dev, mine.st_ino):
            raise LaunchError(f"connection file {connection_file} is not in the runtime folder {runtime_dir}")
        try:
            fd = os.open(
                os.path.basename(connection_file),
                os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK,
                dir_fd=top,
            )
        except OSError as exc:
            raise LaunchError(f"connection file {connection_file}: {exc.strerror}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > CONNECTION_MAX:
                raise LaunchError(
                    f"connection file {connection_file} is not a regular file of at most {CONNECTION_MAX} bytes"
                )
            data = os.read(fd, CONNECTION_MAX + 1)
        finally:
            os.close(fd)
    finally:
        os.close(top)
    if len(data) > CONNECTION_MAX:
        raise LaunchError(f"connection file {connection_file} grew past {CONNECTION_MAX} bytes")
    return data


def data_pipe(data: bytes) -> int:
    """The read end of a pipe holding ``data`` (at most a pipe's buffer), write end closed:
    what bubblewrap reads a seccomp filter or a file's contents from."""
    if len(data) > CONNECTION_MAX:
        raise LaunchError(f"{len(data)} bytes do not fit a pipe's buffer")
    r, w = os.pipe()
    try:
        os.write(w, data)
    finally:
        os.close(w)
    return r


def seccomp_pipe() -> int:
    """A pipe holding the sandbox's seccomp filter, for ``bwrap --seccomp``."""
    return data_pipe(seccomp.filter_bytes())


def reset_socket_folder(ipc: str) -> None:
    """Empty the socket folder and give it mode 0700 back (by descriptor, never a link)."""
    fd = os.open(ipc, _NOFOLLOW_DIR)
    try:
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    if not empty_tree(ipc):
        raise LaunchError(f"the socket folder {ipc} could not be emptied")


def _members(cgroup_dirs: list[str]) -> set[int]:
    pids: set[int] = set()
    for d in cgroup_dirs:
        try:
            pids.update(int(p) for p in Path(d, "cgroup.procs").read_text().split())
        except (OSError, ValueError):
            pass
    return pids - {os.getpid()}


def _kill_members(cgroup_dirs: list[str], pids: set[int]) -> None:
    """SIGKILL those of ``pids`` that are members of the cgroups, through pidfds: a pid is
    signalled only if, with its pidfd open, it is still listed (so never a pid reused by a
    process elsewhere on the host)."""
    fds = {}
    for pid in pids:
        try:
            fds[pid] = os.pidfd_open(pid)
        except OSError:  # gone
            pass
    try:
        still = _members(cgroup_dirs)
        for pid, fd in fds.items():
            if pid in still:
                try:
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
                except OSError:  # ended meanwhile
                    pass
    finally:
        for fd in fds.values():
            os.close(fd)


def kill_others(cgroup_dirs: list[str], grace: float = 1.0, timeout: float = BARRIER_SECONDS) -> int:
    """Wait ``grace`` seconds for every process of the cgroups but this one to end (a killed
    sandbox's, and the reader of its output finishing its file), then SIGKILL what is left;
    return how many there were. Raises :class:`LaunchError` if some are still there after
    ``timeout``."""
    seen: set[int] = set()
    start = time.monotonic()
    while pids := _members(cgroup_dirs):
        seen |= pids
        waited = time.monotonic() - start
        if waited > timeout:
            raise LaunchError(f"{len(pids)} process(es) of an earlier kernel would not die")
        if waited > grace:
            _kill_members(cgroup_dirs, pids)
        time.sleep(0.02)
    return len(seen)


def _open_output(folder: str) -> int:
    """A new ``kernel-output-N.log`` in ``folder`` (created, never an existing file or link)."""
    top = os.open(folder, _NOFOLLOW_DIR)
    try:
        for n in range(1, 1000):
            try:
                return os.open(
                    f"{OUTPUT_PREFIX}{n}.log",
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                    0o600,
                    dir_fd=top,
                )
            except FileExistsError:
                continue
        raise LaunchError(f"no free kernel output file in {folder}")
    finally:
        os.close(top)


def keep_output(src: int, dst: int, keep: int = OUTPUT_KEEP) -> None:
    """Copy what comes from ``src`` to ``dst`` until end of input, keeping the first and the
    last ``keep`` bytes (a note says how many were left out between them)."""
    head = 0
    tail = bytearray()
    dropped = 0
    while True:
        try:
            chunk = os.read(src, 1 << 16)
        except InterruptedError:
            continue
        if not chunk:
            break
        if head < keep:
            part = chunk[: keep - head]
            os.write(dst, part)
            head += len(part)
            chunk = chunk[len(part) :]
        if chunk:
            tail += chunk
            if len(tail) > keep:
                dropped += len(tail) - keep
                del tail[: len(tail) - keep]
    if dropped:
        os.write(dst, f"\n[... {dropped} bytes of kernel output left out ...]\n".encode())
    if tail:
        os.write(dst, bytes(tail))


def start_output_reader(folder: str) -> int:
    """Fork the reader of the kernel's output into a new file in ``folder``; return the write
    end of its pipe (for the kernel's stdout and stderr)."""
    out = _open_output(folder)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the reader: nothing but its two descriptors
        code = 1
        try:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
                signal.signal(sig, signal.SIG_IGN)
            os.dup2(r, 0)
            os.dup2(out, 1)
            os.closerange(2, _FD_MAX)
            keep_output(0, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(r)
    os.close(out)
    return w


def hand_over_fds(output: int, keep: list[int]) -> list[int]:
    """Set up the descriptors bubblewrap starts with: 0 /dev/null, 1 and 2 ``output``, the
    descriptors of ``keep`` moved to 3, 4, ... (inheritable), every other one closed.
    Returns the new numbers of ``keep``."""
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    # first above every number they go to, so that no dup2 below overwrites one still needed
    staged = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _STAGE_FD) for fd in (null, output, *keep)]
    null, output, *rest = staged
    os.dup2(null, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    new = [3 + i for i in range(len(rest))]
    for fd, to in zip(rest, new, strict=True):
        os.dup2(fd, to)  # (inheritable: dup2's default)
    os.closerange(3 + len(new), _FD_MAX)
    return new
