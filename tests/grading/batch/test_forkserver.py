"""grading.batch.forkserver: each autograde a fresh forked process, killed on time, never lingering.

nbgrader executes ``nbgrader_config.py`` from its working folder; the configs below use that
to report, from inside the forked child, what the child sees (environment, folder, session)
or to misbehave (sleep past the limit, kill the server).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from grading.batch import forkserver
from grading.processes import kill_tree, nbgrader_env

ARGV = ["db", "student", "list"]  # a quick nbgrader command that loads the folder's config


def _folder(tmp_path: Path, name: str, config: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text(textwrap.dedent(config), encoding="utf-8")
    return folder


def _run(folder: Path, *, timeout: float = 120, ended: list[int] | None = None,
         held: list[bool] | None = None, kill: bool = True, **env: str):
    def on_end(pid: int) -> None:
        if held is not None:  # the pid is still the child's (alive or a zombie not yet reaped)
            try:
                held.append(psutil.Process(pid).ppid() != os.getpid())
            except psutil.NoSuchProcess:
                held.append(False)
        if kill:
            kill_tree(pid)
        if ended is not None:
            ended.append(pid)

    return forkserver.run_nbgrader(
        ARGV + [f"--CourseDirectory.db_url=sqlite:///{folder / 'gradebook.db'}"], cwd=folder,
        env=nbgrader_env(**env), log=folder / "log.txt", timeout=timeout, on_end=on_end)


REPORT = """\
    import os, sys
    import grading
    print("leak from an earlier child:", getattr(grading, "_leak", None))
    grading._leak = os.environ.get("MARK")
    with open("seen.txt", "w") as f:
        f.write("|".join([os.environ.get("MARK", ""), os.getcwd(), str(os.getpid()),
                          str(os.getsid(0)), str(os.getppid())]))
"""


def test_each_autograde_is_a_fresh_process_with_its_own_folder_environment_and_session(tmp_path):
    seen = {}
    for mark in ("first", "second"):
        folder = _folder(tmp_path, mark, REPORT)
        ended: list[int] = []
        held: list[bool] = []
        assert _run(folder, ended=ended, held=held, MARK=mark) == 0
        got_mark, cwd, pid, sid, ppid = (folder / "seen.txt").read_text().split("|")
        assert (got_mark, cwd) == (mark, str(folder))
        # own session, reported to on_end while its pid cannot have been reused: the server
        # reaps the child only after on_end ran (a reaped pid may be another process's)
        assert sid == pid and ended == [int(pid)] and held == [True]
        assert int(ppid) != os.getpid()  # forked by the server, not by this process
        log = (folder / "log.txt").read_text()
        assert "leak from an earlier child: None" in log  # module state of child 1 gone
        assert "students in the database" in log  # nbgrader's own output went to the log
        assert not psutil.pid_exists(int(pid))
        seen[mark] = (int(pid), int(ppid))
    assert seen["first"][0] != seen["second"][0]
    assert seen["first"][1] == seen["second"][1]  # one server, reused


def _pool() -> list[forkserver.ForkServer]:
    with forkserver._idle_lock:
        return list(forkserver._idle)


def test_wait_warm_returns_once_the_warmed_server_has_imported_and_keeps_it_for_the_next_run(tmp_path):
    for server in _pool():  # start from a new server: one that has not answered "ready" yet
        server.stop()
    forkserver.warm()
    (server,) = [s for s in _pool() if s.alive()]
    assert not server._ready
    assert forkserver.wait_warm() is True
    assert server._ready and server.alive() and server in _pool()
    folder = _folder(tmp_path, "after", REPORT)
    assert _run(folder, MARK="after") == 0
    assert int((folder / "seen.txt").read_text().split("|")[4]) == server.proc.pid  # reused


def test_wait_warm_drops_a_server_that_died_while_importing_and_the_next_run_starts_one(tmp_path):
    for server in _pool():
        server.stop()
    forkserver.warm()
    (server,) = [s for s in _pool() if s.alive()]
    server.proc.kill()
    assert forkserver.wait_warm() is False  # not raised: the batch goes on
    assert server not in _pool()
    folder = _folder(tmp_path, "after", REPORT)
    assert _run(folder, MARK="after") == 0
    assert int((folder / "seen.txt").read_text().split("|")[4]) != server.proc.pid


def test_wait_warm_drops_a_server_that_writes_what_is_not_the_protocol_and_keeps_the_others(tmp_path):
    """Something printed on the server's stdout while it imports (a site's sitecustomize, a
    chatty package) is not a reply: that server is dropped, not raised to the batch, and the
    servers waited on after it go back to the pool."""
    for server in _pool():
        server.stop()
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("print('welcome to the course machine')\n")
    noisy = forkserver.ForkServer(nbgrader_env(PYTHONPATH=str(site)))
    forkserver.warm()
    (good,) = [s for s in _pool() if s.alive()]
    with forkserver._idle_lock:
        forkserver._idle.insert(0, noisy)  # waited on first
    try:
        assert forkserver.wait_warm() is True
        assert _pool() == [good] and good._ready
        assert noisy.proc.wait(timeout=30) is not None  # stopped, not left running
    finally:
        noisy.stop()


def test_a_failing_command_reports_its_exit_code_and_traceback(tmp_path):
    # nbgrader logs an Exception of its config and goes on; these two escape it
    assert _run(_folder(tmp_path, "exits", "import sys; sys.exit(3)\n")) == 3
    folder = _folder(tmp_path, "raises", "raise GeneratorExit('config exploded')\n")
    assert _run(folder) == 1
    assert "GeneratorExit: config exploded" in (folder / "log.txt").read_text()


def test_a_process_left_in_the_session_of_a_child_that_exits_normally_is_killed(tmp_path):
    # on_end does nothing here: the server itself kills the child's process group
    folder = _folder(tmp_path, "leaves", """\
        import subprocess
        helper = subprocess.Popen(["sleep", "600"])  # same session and process group
        open("helper.txt", "w").write(str(helper.pid))
    """)
    assert _run(folder, kill=False) == 0
    helper = int((folder / "helper.txt").read_text())
    gone, alive = psutil.wait_procs([psutil.Process(helper)] if psutil.pid_exists(helper) else [],
                                    timeout=10)
    assert alive == [], "the child's session outlived it"


def test_an_on_end_that_raises_leaves_no_server_waiting_for_a_reap(tmp_path):
    """A server whose worker never sent {"reap": pid} reads the next request as that reap:
    the next submission of the worker got {"reaped": pid} for its fork and failed."""
    def failing(pid: int) -> None:
        kill_tree(pid)
        raise RuntimeError("on_end failed")

    first = _folder(tmp_path, "first", REPORT)
    with pytest.raises(RuntimeError, match="on_end failed"):
        forkserver.run_nbgrader(ARGV, cwd=first, env=nbgrader_env(MARK="first"),
                                log=first / "log.txt", timeout=120, on_end=failing)
    second = _folder(tmp_path, "second", REPORT)
    assert _run(second, MARK="second") == 0
    assert (second / "seen.txt").read_text().split("|")[0] == "second"


@pytest.mark.slow
def test_past_the_limit_the_child_and_its_session_are_killed_and_the_server_goes_on(tmp_path):
    folder = _folder(tmp_path, "slow", """\
        import os, subprocess, time
        helper = subprocess.Popen(["sleep", "600"])
        open("pids.txt", "w").write(f"{os.getpid()} {helper.pid}")
        time.sleep(600)
    """)
    start = time.monotonic()
    assert _run(folder, timeout=6) is None
    assert time.monotonic() - start < 60
    pids = [int(p) for p in (folder / "pids.txt").read_text().split()]
    time.sleep(0.5)
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    again = _folder(tmp_path, "after", REPORT)
    assert _run(again, MARK="after") == 0  # the same server still forks


@pytest.mark.slow
def test_a_child_that_kills_its_server_is_an_error_and_the_next_request_gets_a_new_server(tmp_path):
    folder = _folder(tmp_path, "killer", """\
        import os, signal, time
        open("pid.txt", "w").write(str(os.getpid()))
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(600)
    """)
    with pytest.raises(forkserver.ForkServerError, match="died"):
        _run(folder)
    child = int((folder / "pid.txt").read_text())
    time.sleep(0.5)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie"
    again = _folder(tmp_path, "after", REPORT)
    assert _run(again, MARK="after") == 0


@pytest.mark.slow
def test_killing_the_worker_takes_the_server_and_the_running_autograde_down(tmp_path):
    folder = _folder(tmp_path, "orphan", """\
        import os, time
        open("pids.txt", "w").write(f"{os.getpid()} {os.getppid()}")
        time.sleep(600)
    """)
    worker = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""\
        from pathlib import Path
        from grading.batch import forkserver
        from grading.processes import nbgrader_env
        forkserver.run_nbgrader(["db", "student", "list"], cwd=Path({str(folder)!r}),
                                env=nbgrader_env(), log=Path({str(folder / 'log.txt')!r}),
                                timeout=600, on_end=print)
    """)], env=nbgrader_env())
    try:
        deadline = time.monotonic() + 120
        while not (folder / "pids.txt").is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (folder / "pids.txt").is_file(), "the autograde never started"
        child, server = (int(p) for p in (folder / "pids.txt").read_text().split())
        assert psutil.Process(server).ppid() == worker.pid
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        gone, alive = psutil.wait_procs([psutil.Process(p) for p in (child, server)
                                         if psutil.pid_exists(p)], timeout=30)
        assert alive == []
    finally:
        worker.kill()
