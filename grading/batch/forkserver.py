"""A fork server per worker: nbgrader imported once, every autograde still its own process.

A Dask worker grades one submission after another. Starting ``python -m nbgrader
autograde`` for each one costs a fresh interpreter that imports nbgrader, SQLAlchemy,
nbconvert and this package again (about 2.5 s on 2 cores, a third of a submission's floor).
Instead the worker keeps a server process that has imported them once and forks one child
per autograde. The child is a fresh process of its own: own session, environment, working
folder and log; it runs nbgrader's command line exactly as ``python -m nbgrader`` would and
exits. Nothing a submission does survives its child (the server itself never runs
nbgrader), and the wall-clock limit still kills the child's whole session.

Protocol, one request at a time on the server's stdin/stdout, JSON lines:

    -> {"argv": [...], "cwd": "...", "env": {...}, "log": "..."}
    <- {"pid": N}     the child started (its own session: process group N)
    <- {"rc": R}      the child ended (exit code, or minus the signal that killed it); the
                      server has killed what was left in its process group, and holds it
                      unreaped (a zombie: pid N cannot be reused yet)
    -> {"reap": N}    the worker is done with pid N (it killed the rest of its tree)
    <- {"reaped": N}  the server reaped it and waits for the next request

Lifetimes: the server dies with the thread that started it (``PR_SET_PDEATHSIG``), each
child with the server; a server found dead is replaced at the next request.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from grading.processes import nbgrader_env

# Imported once by the server (what a fresh ``python -m nbgrader autograde`` spends its
# first seconds on); the children inherit them.
PRELOAD = (
    "nbgrader.apps.nbgraderapp",
    "nbgrader.apps.autogradeapp",
    "nbgrader.converters.autograde",
    "nbgrader.api",
    "nbgrader.preprocessors",
    "nbconvert.preprocessors",
    "nbclient",
    "jupyter_client.manager",
    "jupyter_client.provisioning",
    "ipykernel.kernelspec",
    "grading.extensions",
    # jupyter_client's KernelSpecManager imports IPython.paths to list the kernel folders,
    # which imports all of IPython: about 0.2 s of every autograde, on its critical path
    "IPython.paths",
)
START_TIMEOUT = 120.0  # seconds for a new server to import PRELOAD (a loaded machine is slow)
REPLY_TIMEOUT = 30.0  # seconds for the server to answer a fork, or to reap a killed child

_PRCTL = ctypes.CDLL(None, use_errno=True).prctl
PR_SET_PDEATHSIG = 1


class ForkServerError(RuntimeError):
    """The fork server did not start, or died while a child ran."""


def die_with_parent() -> None:
    """SIGKILL this process when the thread that started it ends (worker killed, server killed)."""
    _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


# --------------------------------------------------------------------------------------
# server side (python -m grading.batch.forkserver)
# --------------------------------------------------------------------------------------
def _child(req: dict, server: int) -> None:
    """In the forked child: become ``python -m nbgrader ARGV`` in its own session; never returns."""
    code = 1
    try:
        os.setsid()
        die_with_parent()
        if os.getppid() != server:  # the server died before the line above
            os._exit(1)
        # fds 0 and 1 (the protocol pipes) are replaced below: the child cannot answer for it
        log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        sys.argv = ["nbgrader", *req["argv"]]
        from nbgrader.apps.nbgraderapp import main

        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the log is the only place to say it
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(inp: int = 0, out: int = 1) -> None:
    """The server loop: import PRELOAD, then fork one child per request line, one at a time."""
    for name in PRELOAD:
        importlib.import_module(name)
    reader = os.fdopen(inp, "r", encoding="utf-8", closefd=False)

    def reply(obj: dict) -> None:
        os.write(out, (json.dumps(obj) + "\n").encode())

    server = os.getpid()
    reply({"ready": server})
    for line in reader:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(req, server)
        reply({"pid": pid})
        # wait without reaping: while the child is a zombie its pid (and process group id)
        # cannot be reused, so neither the killpg below nor the worker's on_end can hit
        # another process
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        assert info is not None  # None only with WNOHANG
        try:
            os.killpg(pid, signal.SIGKILL)  # what the child left running in its session
        except (ProcessLookupError, PermissionError):
            pass
        reply({"rc": info.si_status if info.si_code == os.CLD_EXITED else -info.si_status})
        reader.readline()  # {"reap": pid}, or end of input when the worker is gone
        os.waitpid(pid, 0)
        reply({"reaped": pid})


# --------------------------------------------------------------------------------------
# client side (in the worker)
# --------------------------------------------------------------------------------------
class ForkServer:
    """One server process; :meth:`run` one autograde at a time."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grading.batch.forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=str(Path(__file__).resolve().parents[2]),
            preexec_fn=die_with_parent,
        )
        self._buf = b""
        self._ready = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self, deadline: float) -> dict | None:
        """The next reply line, or None if ``deadline`` (monotonic) passes first."""
        assert self.proc.stdout is not None  # Popen(stdout=PIPE)
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ForkServerError(f"the autograde fork server (pid {self.proc.pid}) died")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):  # a PRELOAD import (or a sitecustomize) printed it
            self.stop()
            raise ForkServerError(
                f"the autograde fork server wrote {line[:80]!r}, not a reply: something printed to its stdout"
            )
        return reply

    def _send(self, request: dict) -> None:
        """Write one request line to the server."""
        assert self.proc.stdin is not None  # Popen(stdin=PIPE)
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()

    def wait_ready(self) -> None:
        if not self._ready:
            if self._read(time.monotonic() + START_TIMEOUT) is None:
                self.stop()
                raise ForkServerError(f"the autograde fork server did not start in {START_TIMEOUT:g} s")
            self._ready = True

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str], log: Path, timeout: float, on_end) -> int | None:
        """Run ``nbgrader ARGV`` in a forked child; its exit code, or None after ``timeout``.

        ``on_end(pid)`` is called once the child ended or was timed out, while ``pid`` is still
        the child's (alive, or a zombie the server has not reaped): it must kill what is left
        of the child's tree (the server itself kills only the child's process group). It is
        not called when the server died: the child is then reaped by someone else and its
        pid may be reused; it dies with the server (``PR_SET_PDEATHSIG``).
        """
        self.wait_ready()
        request = {"argv": argv, "cwd": str(cwd), "env": env, "log": str(log)}
        self._send(request)
        started = self._read(time.monotonic() + REPLY_TIMEOUT)
        if started is None:
            self.stop()
            raise ForkServerError("the autograde fork server did not fork in time")
        pid = started["pid"]
        ended = self._read(time.monotonic() + timeout)  # the child is not reaped before "reap"
        try:
            on_end(pid)
        except BaseException:
            self.stop()  # it waits for a "reap": the next request would be read as one
            raise
        if ended is None and self._read(time.monotonic() + REPLY_TIMEOUT) is None:
            self.stop()  # the killed child's rc never came
            return None
        try:
            self._send({"reap": pid})
            if self._read(time.monotonic() + REPLY_TIMEOUT) is None:
                self.stop()
        except (BrokenPipeError, ForkServerError):  # the result stands; the next run restarts it
            self.stop()
        return None if ended is None else int(ended["rc"])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


_idle: list[ForkServer] = []
_idle_lock = threading.Lock()


def warm() -> None:
    """Start a server now (it imports in the background), so the first task does not wait."""
    with _idle_lock:
        if not any(s.alive() for s in _idle):
            _idle.append(ForkServer(nbgrader_env()))


def wait_warm() -> bool:
    """Wait until the server :func:`warm` started has imported PRELOAD; False if it failed.

    A batch calls it on every worker before its clock starts: otherwise each worker's first
    autograde waits for the imports, and with every core busy, the first kernels start
    while the servers still import. A server that failed is dropped, not raised: the next
    autograde starts a new one and reports why it could not.
    """
    with _idle_lock:  # taken out of the pool while waiting: a task cannot read it meanwhile
        servers = [s for s in _idle if s.alive()]
        _idle.clear()
    ready: list[ForkServer] = []
    try:
        while servers:
            server = servers.pop(0)
            try:
                server.wait_ready()
            except ForkServerError:
                server.stop()
                continue
            ready.append(server)
    finally:  # (whatever else is raised, the servers not yet waited on are not lost)
        with _idle_lock:
            _idle.extend(ready + servers)
    return bool(ready)


def run_nbgrader(argv: list[str], *, cwd: Path, env: dict[str, str], log: Path, timeout: float, on_end) -> int | None:
    """Run ``nbgrader ARGV`` as a fresh forked process of an idle server (started if none)."""
    server = None
    with _idle_lock:
        while _idle and server is None:
            candidate = _idle.pop()
            if candidate.alive():
                server = candidate
    if server is None:
        server = ForkServer(nbgrader_env())
    try:
        return server.run(argv, cwd=cwd, env=env, log=log, timeout=timeout, on_end=on_end)
    finally:
        if server.alive():
            with _idle_lock:
                _idle.append(server)


if __name__ == "__main__":
    serve()
