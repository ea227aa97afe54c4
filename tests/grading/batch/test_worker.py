"""grading.batch.worker on an embedded LocalCluster: the Dask batch equals grading one by one, a
submission that kills its worker every time, the fork servers' wait off the event loop, the
sweep of dead workers' scratch, links carried as links.

Loopback only; every process the tests start is stopped by pid (process group)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import dask
import nbformat
import pytest
from helpers.courses import (
    TOY_ADD,
    gradebook_scores,
    live_kernels,
    make_course,
    submit,
    toy_source,
    toy_submission,
)
from helpers.faults import CASES as FAULTS
from helpers.foreign import CASES as CORPUS
from helpers.foreign import expected_scores, student_of
from helpers.repo import LAB, ROOT
from helpers.submissions import EXPECTED_SCORES, SUBMISSIONS, TEST_POINTS

from grading.batch.coordinator import Options, autograde_all, prepare_batch
from grading.batch.gradebook import sqlite_url
from grading.batch.results import STATUS_ERROR, SubmissionResult
from grading.batch.scan import submitted_task
from grading.batch.submission import rebuild_submission
from grading.batch.tasks import Task
from grading.batch.worker import grade_task, sweep_scratch
from grading.batch.workspace import BatchContext
from grading.isolation.cleanup import scope
from grading.isolation.integrity import PackageSnapshot
from grading.limits import Limits

KINDS = ("reference", "wrong_softmax", "softmax_output", "blank")


WRONG_ADD = "def my_add(a, b):\n    return a - b\n"


#: with --isolation none the kernel is a child of nbgrader, forked by the worker's fork server,
#: itself a child of the Dask worker process: this answer kills the worker (the sandbox
#: prevents it; the fault path is the same as a submission that crashes the worker, e.g. by
#: exhausting its memory)
# kills the Dask worker process (kernel -> autograde -> fork server -> worker, the first
# ancestor started by multiprocessing's spawn), not only the processes in between
POISON_ADD = ("import os, signal, psutil\n"
              "os.kill([p for p in psutil.Process().parents()\n"
              "         if 'spawn_main' in ' '.join(p.cmdline())][0].pid, signal.SIGKILL)\n" + TOY_ADD)


def _cell_scores(private: dict) -> dict[str, float]:
    return {gid: auto for nb in private["notebooks"].values()
            for gid, (auto, _, _) in nb["grades"].items() if auto is not None}


def _expected_lab_batch() -> dict[str, dict[str, float]]:
    """What every student of the session's lab batch (tests/grading/conftest.py) must score."""
    return {**{c.name: c.expected for c in FAULTS},
            **{f"lab_{kind}": EXPECTED_SCORES[kind] for kind in SUBMISSIONS},
            **{student_of(c): expected_scores(c) for c in CORPUS.values()}}


@pytest.mark.slow
@pytest.mark.sandbox
def test_local_cluster_batch_equals_grading_one_by_one(lab_batch, tmp_path):
    # the batch: the session's lab batch (two workers on an embedded LocalCluster), whose
    # ordinary submissions include these kinds; one by one, without Dask: the worker's function
    # called in this process on the same course with the same options
    course = lab_batch.course
    opts = Options(course_dir=course, **{k: v for k, v in lab_batch.options.items() if k != "workers"})
    bundle = prepare_batch(LAB, opts, sqlite_url(tmp_path / "alone.db"), tmp_path / "prep")
    stored = gradebook_scores(sqlite_url(course / "gradebook.db"), "multiclass-digits", LAB)
    for kind in KINDS:
        student = f"lab_{kind}"
        nb_file = course / "submitted" / student / LAB / f"{LAB}.ipynb"
        alone = grade_task(bundle, Task(student, {nb_file.name: nb_file.read_bytes()}))
        assert alone.result.status == "ok", alone.result.notes
        assert _cell_scores(alone.private) == EXPECTED_SCORES[kind], kind
        assert lab_batch.results[student].grades == EXPECTED_SCORES[kind], kind
        assert stored[student] == EXPECTED_SCORES[kind], kind
        assert lab_batch.results[student].notes == alone.result.notes, kind
        assert lab_batch.results[student].status == "ok"
    # the summary names the worker of each submission; both workers graded
    with open(course / "autograded" / f"{LAB}_summary.csv", newline="") as fh:
        workers = {row["student"]: row["worker"] for row in csv.DictReader(fh)}
    assert sorted(workers) == sorted(lab_batch.results)
    assert all("@127.0.0.1:" in w for w in workers.values()), workers
    assert len(set(workers.values())) == 2, workers
    # the report's pass rates are those of the scores every student must get
    expected = _expected_lab_batch()
    assert sorted(expected) == sorted(lab_batch.results)
    report = (course / "autograded" / f"{LAB}_report.md").read_text()
    for test, points in TEST_POINTS.items():
        passed = sum(e[test] == points for e in expected.values())
        assert f"| {test} | {points:g} | {passed}/{len(expected)} | {100 * passed / len(expected):.0f} % |" \
            in report, (test, passed)
    assert (course / "autograded" / f"{LAB}_scores.png").read_bytes()[:4] == b"\x89PNG"
    assert live_kernels() == []


@pytest.mark.slow
def test_submission_that_kills_its_worker_is_an_error_for_that_student_only(tmp_path):
    course = make_course(tmp_path, "toy", toy_source())
    plan = {"poison": POISON_ADD, "good": TOY_ADD, "wrong": WRONG_ADD}
    for student, add in plan.items():
        submit(course, "toy", student, toy_submission(add=add))
    import distributed  # noqa: F401  (loads its config defaults: dask.config.set must not
    #                     create, then delete on exit, the whole "distributed" section)

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):  # two attempts
        results = {r.student: r for r in autograde_all(
            "toy", course_dir=course, workers=2, timeout=300, cell_timeout=60, progress=print,
            isolation="none", restore_course_files=False)}
    assert results["poison"].status == "error"
    assert any("killed the Dask worker on every attempt" in n for n in results["poison"].notes)
    assert (results["good"].status, results["good"].score) == ("ok", 5.0)
    assert (results["wrong"].status, results["wrong"].score) == ("ok", 3.0)
    stored = gradebook_scores(sqlite_url(course / "gradebook.db"), "default_course", "toy")
    assert stored == {"poison": {"test_my_add": 0.0, "test_my_mul": 0.0},
                      "good": {"test_my_add": 2.0, "test_my_mul": 3.0},
                      "wrong": {"test_my_add": 0.0, "test_my_mul": 3.0}}
    assert live_kernels() == []


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # Dask's dashboard port
def test_waiting_for_the_fork_servers_leaves_the_workers_event_loop_free(monkeypatch):
    """client.run calls a plain function on the worker's event loop: waiting there for the
    fork server's imports (up to forkserver.START_TIMEOUT if it hangs) would stop the
    worker's heartbeats and every task of another batch sharing the worker meanwhile."""
    import operator
    import threading

    from distributed import Client, LocalCluster

    from grading.batch import forkserver
    from grading.batch.worker import worker_ready

    entered, release = threading.Event(), threading.Event()

    def slow_wait() -> bool:  # a server still importing
        entered.set()
        return release.wait(60)

    monkeypatch.setattr(forkserver, "wait_warm", slow_wait)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                      protocol="tcp", host="127.0.0.1") as cluster, Client(cluster) as client:
        waiting = threading.Thread(target=lambda: client.run(worker_ready))
        waiting.start()
        try:
            assert entered.wait(30)
            # a task on the same worker while the wait goes on
            assert client.submit(operator.add, 1, 2, pure=False).result(timeout=10) == 3
        finally:
            release.set()
            waiting.join(60)


def _scope_of_another_pid_namespace() -> str:
    """What grading.isolation.cleanup.scope() says in a new pid namespace (a container's, say)."""
    got = subprocess.run(["unshare", "--pid", "--fork", sys.executable, "-c",
                          "from grading.isolation.cleanup import scope; print(scope())"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    return got.stdout.strip()


def test_sweep_removes_only_scratch_of_dead_workers(tmp_path):
    here = scope()
    dead = tmp_path / f"grading-task-999999999-{here}-abc"  # no such pid
    live = tmp_path / f"grading-task-{os.getpid()}-{here}-def"
    # the kernels' socket folders on /dev/shm (host memory) of a worker killed mid-task
    # stayed forever: their names hold the worker's pid now
    shm = tmp_path / "shm"
    dead_ipc = shm / f"course-ipc-999999999-{here}-ghi"
    live_ipc = shm / f"course-ipc-{os.getpid()}-{here}-jkl"
    for d in (dead, live, dead_ipc, live_ipc):
        (d / "course").mkdir(parents=True)
    assert sweep_scratch(tmp_path, shm) == [dead, dead_ipc]
    assert not dead.exists() and live.is_dir() and not dead_ipc.exists() and live_ipc.is_dir()


@pytest.mark.sandbox
def test_sweep_leaves_the_scratch_of_workers_in_another_pid_namespace(tmp_path):
    """A worker in another container sharing /tmp or /dev/shm: its pids are not ours to
    look up (999999999 runs there, maybe), so its folders are not judged, let alone removed."""
    other = _scope_of_another_pid_namespace()
    assert other != scope()
    shm = tmp_path / "shm"
    theirs = [tmp_path / f"grading-task-999999999-{other}-abc",
              shm / f"course-ipc-999999999-{other}-def"]
    ours = tmp_path / f"grading-task-999999999-{scope()}-ghi"
    for d in (*theirs, ours):
        d.mkdir(parents=True)
    assert sweep_scratch(tmp_path, shm) == [ours]
    assert all(d.is_dir() for d in theirs)


def _scope_on_another_machine(tmp_path: Path) -> str:
    """What grading.isolation.cleanup.scope() says in this pid namespace on a machine with another boot
    id: every machine's initial pid namespace has the same inode (PROC_PID_INIT_INO), and
    containers' namespaces get the lowest free ones, so machines set up alike agree."""
    boot_id = tmp_path / "boot_id"
    boot_id.write_text("0f0e0d0c-0b0a-4998-8776-655443322110\n")
    script = ('mount --bind "$1" /proc/sys/kernel/random/boot_id && exec "$2" -c '
              '"from grading.isolation.cleanup import scope; print(scope())"')
    got = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", str(boot_id), sys.executable],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    return got.stdout.strip()


@pytest.mark.sandbox
def test_sweep_leaves_the_scratch_of_workers_on_another_machine_sharing_the_folder(tmp_path):
    """TMPDIR on a file system several worker machines share (an NFS home): a pid of
    another machine is not ours to look up, even in a pid namespace with the same inode."""
    other = _scope_on_another_machine(tmp_path)
    assert other and other != scope()
    theirs = tmp_path / f"grading-task-999999999-{other}-abc"  # 999999999 may run there
    ours = tmp_path / f"grading-task-999999999-{scope()}-def"
    for d in (theirs, ours):
        d.mkdir()
    assert sweep_scratch(tmp_path, tmp_path / "shm") == [ours]
    assert theirs.is_dir()


def test_sweep_removes_no_folder_whose_name_no_worker_makes(tmp_path):
    """Only names a worker makes (PREFIX + pid as os.getpid() writes it + '-' + its scope +
    '-' + mkdtemp's random letters) are judged by their pid; other folders that share the
    prefix stay."""
    shm, here = tmp_path / "shm", scope()
    foreign = [tmp_path / f"grading-task-0001-{here}-abc",
               tmp_path / f"grading-task-0{os.getpid()}-{here}-abc",
               tmp_path / f"grading-task-\u0662-{here}-abc",
               tmp_path / f"grading-task-999999999-{here}-my-notes",
               tmp_path / f"grading-task-999999999-{here}-", tmp_path / "grading-task-999999999-abc",
               shm / f"course-ipc-0001-{here}-abc", shm / f"course-ipc-999999999-{here}-Report",
               shm / f"course-ipc-999999999-{'1' if here != '1' else '2'}-abc"]
    for d in foreign:
        d.mkdir(parents=True)
    dead = [Path(tempfile.mkdtemp(prefix=f"grading-task-999999999-{here}-", dir=tmp_path)),
            Path(tempfile.mkdtemp(prefix=f"course-ipc-999999999-{here}-", dir=shm))]
    assert sweep_scratch(tmp_path, shm) == dead
    assert all(d.is_dir() for d in foreign)


def test_symbolic_links_in_submitted_are_carried_as_links_never_read(tmp_path):
    secret = tmp_path / "solution.ipynb"
    secret.write_text("THE SOLUTION")
    course = tmp_path / "course"
    mine = course / "submitted" / "linker" / "toy"
    mine.mkdir(parents=True)
    (mine / "toy.ipynb").symlink_to(secret)
    (mine / "notes.txt").write_text("mine")
    task = submitted_task(course, "toy", "linker", max_bytes=1 << 20,
                           graded=frozenset({"toy.ipynb"}))
    assert task.files == {} and task.stray == ("notes.txt",) and task.links == ("toy.ipynb",)
    (course / "submitted" / "folder").mkdir()
    (course / "submitted" / "folder" / "toy").symlink_to(mine)
    whole = submitted_task(course, "toy", "folder", max_bytes=1 << 20,
                            graded=frozenset({"toy.ipynb"}))
    assert whole.folder_link and whole.files == {}
    # the worker grades the link as one (unreadable, never followed), the folder not at all
    (tmp_path / "work").mkdir()
    release = {"toy.ipynb": nbformat.writes(toy_source()).encode()}
    ctx = BatchContext(assignment="toy", course_id="course", work=tmp_path / "work", source={},
                       release=release, template_db=b"", packages=PackageSnapshot(roots={}, files={}),
                       timeout=60, config_text="", isolation="none", limits=Limits())

    def rebuilt(task: Task) -> tuple[bool, list[str], Path]:
        dest = tmp_path / "dest" / task.student
        dest.mkdir(parents=True)
        result = SubmissionResult(task.student, STATUS_ERROR)
        return rebuild_submission(ctx.release, ctx.limits, task, dest, result), result.notes, dest

    found, notes, dest = rebuilt(task)
    assert found and "toy.ipynb unreadable (a symbolic link)" in notes, notes
    assert "files not graded: notes.txt" in notes, notes
    graded = dest / "toy.ipynb"  # the unanswered release, no link, nothing of the solution
    assert not graded.is_symlink() and "THE SOLUTION" not in graded.read_text()
    assert rebuilt(whole)[:2] == (False, ["submission folder is a symbolic link: not followed, not graded"])
    # a name the student chose is never a path: nothing written for it, inside or out
    found, notes, dest = rebuilt(Task("x", {}, links=("../escape",), stray=("../stray",)))
    assert not found and notes == ["files not graded: '../escape', '../stray'"], notes
    assert not list(dest.iterdir()) and not (tmp_path / "dest" / "escape").exists()
