"""Per-submission cgroups: memory, process and CPU limits, and killing every process.

One parent cgroup per batch (``course-grading-PID-SCOPE-RANDOM``), one child per submission.
cgroup v2 (systemd machines): one hierarchy with the ``memory``, ``pids`` and ``cpu``
controllers. cgroup v1: the ``memory``, ``pids`` and ``cpu`` hierarchies, each with its
own tree of the same names. The sandbox launcher (:func:`grading.isolation.sandbox.launch`) moves
itself into the child cgroup(s) before it execs bubblewrap, so everything the kernel
starts is inside, ``setsid`` or not.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from grading.isolation.cleanup import owned_prefix, owner_gone
from grading.limits import Limits

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: the controllers (v2) or hierarchies (v1) every submission's cgroup is limited by
CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD = 100_000  # microseconds: the CPU quota is threads x this in every period
BATCH_PREFIX = "course-grading-"  # + the grader's pid, scope and random hex: see batch_name


def batch_name() -> str:
    """A new batch's cgroup name: this process's pid and scope (the sweep's test, see
    grading.isolation.cleanup.owner_gone) and a random tail."""
    return f"{owned_prefix(BATCH_PREFIX)}{os.urandom(3).hex()}"


def _and(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def write(path: Path, value: str) -> None:
    path.write_text(value, encoding="ascii")


@dataclass
class Cgroups:
    """A batch's cgroups: one parent for the batch, one child per submission."""

    version: int
    root: Path
    name: str

    def _bases(self) -> list[Path]:
        if self.version == 2:
            return [self.root / self.name]
        return [self.root / ctl / self.name for ctl in CONTROLLERS]

    def sweep_stale(self) -> list[Path]:
        """Remove the cgroups of batches whose grader process is gone (killed, not finished)."""
        tops = [self.root] if self.version == 2 else [self.root / ctl for ctl in CONTROLLERS]
        stale = []
        for top in tops:
            for d in top.glob(f"{BATCH_PREFIX}*"):
                if d.is_dir() and owner_gone(d.name, BATCH_PREFIX, "[0-9a-f]+"):
                    stale.append(d)
        swept = []
        for d in stale:
            try:
                children = sorted(p for p in d.iterdir() if p.is_dir())
            except FileNotFoundError:  # another grader's sweep (same machine) removed it meanwhile
                continue
            self.remove(children)
            self.remove([d])
            swept.append(d)
        return swept

    def open_batch(self) -> None:
        """Create the batch's parent cgroup(s) with the memory, pids and cpu controllers."""
        enable = " ".join("+" + ctl for ctl in CONTROLLERS)
        if self.version == 2:
            top = self.root / "cgroup.subtree_control"
            if not set(CONTROLLERS) <= set(top.read_text().split()):
                write(top, enable)
        for base in self._bases():
            base.mkdir()
        if self.version == 2:
            write(self._bases()[0] / "cgroup.subtree_control", enable)

    def create(self, key: str, limits: Limits) -> list[Path]:
        """A fresh child cgroup (per controller hierarchy) for one submission, limits set."""
        dirs = [base / key for base in self._bases()]
        for d in dirs:
            if d.exists():
                self.kill([d])
                d.rmdir()
            d.mkdir()
        if self.version == 2:
            d = dirs[0]
            write(d / "memory.max", str(limits.memory))
            if (d / "memory.swap.max").exists():
                write(d / "memory.swap.max", "0")
            write(d / "pids.max", str(limits.pids))
            write(d / "cpu.max", f"{limits.threads * CPU_PERIOD} {CPU_PERIOD}")
        else:
            mem, pids, cpu = dirs
            write(mem / "memory.limit_in_bytes", str(limits.memory))
            if (mem / "memory.memsw.limit_in_bytes").exists():  # no escape into swap
                write(mem / "memory.memsw.limit_in_bytes", str(limits.memory))
            write(pids / "pids.max", str(limits.pids))
            write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD))
            write(cpu / "cpu.cfs_quota_us", str(limits.threads * CPU_PERIOD))
        return dirs

    @staticmethod
    def members(dirs: list[Path]) -> set[int]:
        found: set[int] = set()
        for d in dirs:
            try:
                found.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill(self, dirs: list[Path], timeout: float = 10.0) -> int:
        """SIGKILL every process in ``dirs`` (cgroup.kill where the kernel has it); return how many."""
        killed = self.members(dirs)
        for d in dirs:
            if (d / "cgroup.kill").exists():
                try:
                    write(d / "cgroup.kill", "1")
                except OSError:
                    pass
        deadline = time.monotonic() + timeout
        while True:
            pids = self.members(dirs)
            killed |= pids
            if not pids or time.monotonic() > deadline:
                break
            for pid in pids:  # new forks may appear while we kill: loop until empty
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.05)
        return len(killed)

    def remove(self, dirs: list[Path]) -> None:
        """Kill what is left in ``dirs`` and delete them."""
        self.kill(dirs)
        for d in dirs:
            for _ in range(100):  # rmdir fails while the last killed task is being reaped
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)

    def close_batch(self) -> None:
        for base in self._bases():
            if base.is_dir():
                self.remove(sorted(p for p in base.iterdir() if p.is_dir()))
                self.remove([base])


def detect_cgroups(root: Path = CGROUP_ROOT) -> tuple[int | None, str]:
    """(version, "") when memory, pids and cpu cgroups can be created under ``root``, else
    (None, why)."""
    if (root / "cgroup.controllers").is_file():
        have = set((root / "cgroup.controllers").read_text().split())
        missing = [ctl for ctl in CONTROLLERS if ctl not in have]
        if missing:
            return None, f"cgroup v2 at {root} lacks the {_and(missing)} controller(s)"
        if not os.access(root, os.W_OK):
            return None, f"cgroup v2 at {root} is not writable (run the grader as root)"
        return 2, ""
    v1 = [root / ctl for ctl in CONTROLLERS]
    absent = [d.name for d in v1 if not (d / "cgroup.procs").is_file()]
    if absent:
        return None, f"no cgroup v2 and no cgroup v1 {_and(absent)} hierarchy under {root}"
    if not all(os.access(d, os.W_OK) for d in v1):
        return None, (f"the cgroup v1 {'/'.join(CONTROLLERS)} hierarchies under {root} are not writable (run as root)")
    return 1, ""
