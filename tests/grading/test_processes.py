"""grading.processes: kill_tree kills a whole tree, without waiting for what it cannot reap."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import psutil

from grading.processes import kill_tree


def test_kill_tree_does_not_wait_for_a_zombie_it_cannot_reap(monkeypatch):
    # on_end gets the child as a zombie of the server (not reaped until on_end is done):
    # waiting for it to vanish would only run out kill_tree's timeout
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""\
        import os, subprocess, time
        sleeper = subprocess.Popen(["sleep", "600"])
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        print(pid, sleeper.pid, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    waited: list[int] = []
    real_wait = psutil.wait_procs
    monkeypatch.setattr(psutil, "wait_procs",
                        lambda procs, timeout=None: (waited.extend(p.pid for p in procs),
                                                     real_wait(procs, timeout=timeout))[1])
    try:
        zombie, sleeper = (int(p) for p in holder.stdout.readline().split())
        deadline = time.monotonic() + 10
        while psutil.Process(zombie).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.05)
        kill_tree(zombie)
        assert zombie not in waited
        kill_tree(holder.pid)  # a live tree is still killed
        holder.wait(timeout=10)  # (reaped by kill_tree's wait already, or now)
        assert not psutil.pid_exists(holder.pid)
        assert not psutil.pid_exists(sleeper) or psutil.Process(sleeper).status() == psutil.STATUS_ZOMBIE
    finally:
        holder.kill()


def test_kill_tree_kills_the_rest_of_the_tree_past_a_process_it_may_not_signal(monkeypatch):
    """A setuid program the submission started (--isolation none: su, passwd) cannot be
    signalled by an ordinary grader: psutil's AccessDenied stopped kill_tree before the rest of
    the tree and escaped on_end. Here the root plays that program; its child (own session,
    out of reach of the killpg) must still be killed."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""\
        import subprocess, time
        sleeper = subprocess.Popen(["sleep", "600"], start_new_session=True)
        print(sleeper.pid, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    real_kill = psutil.Process.kill

    def kill(self):
        if self.pid == holder.pid:
            raise psutil.AccessDenied(self.pid)
        return real_kill(self)

    sleeper = None
    try:
        sleeper = psutil.Process(int(holder.stdout.readline()))
        monkeypatch.setattr(psutil.Process, "kill", kill)
        kill_tree(holder.pid)
        monkeypatch.undo()
        holder.kill()  # (then init reaps the sleeper, if it was killed)
        holder.wait()
        gone, alive = psutil.wait_procs([sleeper], timeout=10)
        assert alive == []
    finally:
        holder.kill()
        holder.wait()
        if sleeper is not None and sleeper.is_running():  # (a failed run leaves no sleeper)
            sleeper.kill()
