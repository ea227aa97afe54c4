"""The processes a grader starts: nbgrader's environment, and killing a whole process tree."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def nbgrader_env(**extra: str) -> dict[str, str]:
    """The grader's environment with this Python's bin/ first on PATH (nbgrader runs alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("JPY_PARENT_PID", None)
    env.update(extra)
    return env


def kill_tree(pid: int) -> None:
    """Kill a process, its session and every descendant (jupyter starts kernels in new sessions)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        procs = []
    try:
        os.killpg(pid, signal.SIGKILL)  # the autograde's own session (start_new_session=True)
    except (ProcessLookupError, PermissionError):
        pass
    waiting = []
    for proc in procs:
        try:
            proc.kill()
            # a zombie is dead already; one that is not ours (the fork server's child before
            # it is reaped) would only be waited for until the timeout
            if proc.status() != psutil.STATUS_ZOMBIE:
                waiting.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):  # (a setuid program: the next)
            pass
    psutil.wait_procs(waiting, timeout=5)
