"""grading.isolation.cgroups: v1 and v2 layouts, the limits written, the real hierarchy of this
machine (a pids limit, detached processes killed, a CPU quota), the sweep of dead graders'
cgroups."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from grading.isolation.cgroups import CGROUP_ROOT, Cgroups, batch_name, detect_cgroups
from grading.isolation.cleanup import scope
from grading.limits import Limits


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


def test_sweep_takes_a_cgroup_another_grader_swept_meanwhile_in_its_stride(tmp_path, monkeypatch):
    """Two graders on one machine sweep the same dead batch: the one that comes second finds it
    gone between judging and removing it, and must open its own batch all the same."""
    import shutil

    from grading.isolation import cgroups

    root, here = _fake_v1(tmp_path / "v1"), scope()
    for ctl in ("memory", "pids"):
        (root / ctl / f"course-grading-999999999-{here}-aa" / "alice").mkdir(parents=True)
    judge = cgroups.owner_gone

    def judged_then_swept_by_another(name, *args):
        gone = judge(name, *args)
        if gone:
            for ctl in ("memory", "pids"):
                shutil.rmtree(root / ctl / name, ignore_errors=True)
        return gone

    monkeypatch.setattr(cgroups, "owner_gone", judged_then_swept_by_another)
    assert Cgroups(1, root, "new").sweep_stale() == []
    assert not any((root / ctl / f"course-grading-999999999-{here}-aa").exists() for ctl in ("memory", "pids"))


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
