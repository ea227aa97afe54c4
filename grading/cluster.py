"""Grading on Dask distributed: what a task carries, what a worker does with it, the client.

A batch is one :class:`Bundle` (shared by every task: the assignment's source folder, the
release skeleton, the private template gradebook, the course packages snapshot, the
options) and one :class:`Task` per student (the submitted files). A worker shares no
folder with the coordinator: it writes the bundle and the task into a private scratch
course, grades the student there with :func:`grading.workspace.grade_one` (the kernel in
the sandbox, on the worker's machine) and returns an :class:`Outcome`: the result, the
private grades, the autograded files and the worker's name. Only the coordinator writes
the gradebook and ``autograded/`` (:mod:`grading.batch`).

Without a scheduler address the coordinator starts an embedded ``LocalCluster`` of
single-threaded worker processes; with one (``tcp://`` or ``tls://``) it connects to a
cluster started with the stock ``dask scheduler`` / ``dask worker`` commands.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from grading import forkserver, sandbox
from grading.cleanup import owned_prefix, owner_gone, remove_tree
from grading.integrity import PROTECTED_PACKAGES, PackageSnapshot
from grading.results import STATUS_ERROR, GradingError, SubmissionResult
from grading.workspace import IPC_PREFIX, SHM, BatchContext, grade_one


#: Dask settings for long single-threaded tasks, applied to the embedded cluster (its workers
#: inherit them through their nanny) and to the coordinator's own process. Dask's defaults
#: serve interactive analysis with a dashboard: an event-loop tick every 20 ms, a sampling
#: profiler every 10 ms while a task runs and a system monitor every 0.5 s, in every process.
#: Measured here with 2 workers busy: 7.6-11 % of a core in all (up to 0.6 CPU s per
#: submission, taken from the kernels), 1.1-1.3 % with these. None of them changes what is
#: graded, where a task runs or how a lost worker's task is rerun (worker loss is seen from
#: its closed connection and heartbeats, which keep their intervals). Work stealing stays
#: on: every task needs the bundle, which first lives on one worker; stealing is what spreads
#: the students over the others. A setting given in the environment (``DASK_...``) wins.
QUIET_DASK = {
    "distributed.admin.tick.interval": "1s",  # only detects a blocked event loop
    "distributed.worker.profile.enabled": False,  # the dashboard's profile (not shown: no dashboard)
    "distributed.admin.system-monitor.interval": "5s",  # the dashboard's CPU/memory plots
}


@dataclass(frozen=True, kw_only=True)
class Bundle:
    """Everything every task of a batch needs, built once by the coordinator."""

    batch_id: str
    assignment: str
    course_id: str
    source: dict[str, bytes]  # source/ASSIGNMENT/* (nbgrader reads it; the kernel never sees it)
    release: dict[str, bytes]  # the release notebooks every submission is rebuilt on
    template_db: bytes  # private gradebook template (hidden tests): never the real gradebook
    packages: dict[str, dict[str, bytes]]  # the course packages, as the kernel imports them
    config_text: str
    timeout: float
    isolation: str
    limits: sandbox.Limits
    restore_course_files: bool = True


@dataclass(frozen=True)
class Task:
    """One student's submitted files (``submitted/STUDENT/ASSIGNMENT/*``, flat).

    Symbolic links are not read by the coordinator: ``links`` names the files that were
    links and ``folder_link`` says the folder itself was one; the worker recreates them as
    links to an empty file (folder), which the workspace refuses to follow and notes.
    Nor are files it does not grade (``stray``: the first few names, recreated empty for the
    "not graded" note; ``stray_more`` counts the others)
    or notebooks over the size limit (``oversize``: (name, bytes), recreated as sparse
    files of that size, which the workspace refuses by size without reading them).
    """

    student: str
    files: dict[str, bytes]
    links: tuple[str, ...] = ()
    folder_link: bool = False
    stray: tuple[str, ...] = ()
    stray_more: int = 0  # files not graded beyond the first few named in ``stray`` (not carried)
    oversize: tuple[tuple[str, int], ...] = ()
    unreadable: str = ""  # why the coordinator could not read the folder: an error, not graded


def _write_submission(course: Path, assignment: str, task: Task) -> None:
    folder = course / "submitted" / task.student / assignment
    if task.folder_link:
        folder.parent.mkdir(parents=True)
        (course / "empty").mkdir()
        folder.symlink_to(course / "empty")
        return
    folder.mkdir(parents=True)
    write_tree(folder, task.files)
    (course / "not-followed").touch()
    for name in (*task.links, *task.stray, *(n for n, _ in task.oversize)):
        if "/" in name or name in ("", ".", ".."):
            raise GradingError(f"refusing a file named {name!r}")
    for name in task.links:
        (folder / name).symlink_to(course / "not-followed")
    for name in task.stray:
        (folder / name).touch()
    for name, size in task.oversize:
        with open(folder / name, "wb") as fh:
            fh.truncate(size)  # sparse: the size without the bytes


@dataclass
class Outcome:
    """What a worker sends back for one student."""

    result: SubmissionResult
    private: dict | None
    autograded: dict[str, bytes] = field(default_factory=dict)  # paths under autograded/STUDENT/
    worker: str = ""


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as {relative path: bytes}."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    """Write {relative path: bytes} under ``root``, refusing paths that leave it."""
    base = root.resolve()
    for rel, data in files.items():
        target = (root / rel).resolve()
        if base not in target.parents:
            raise GradingError(f"refusing to write {rel!r} outside {root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# --------------------------------------------------------------------------------------
# worker side
# --------------------------------------------------------------------------------------
_host_cache: dict[str, tuple[str, int | None]] = {}
_snapshots: dict[str, PackageSnapshot] = {}
_lock = threading.Lock()


def check_worker(isolation: str) -> str:
    """The sandbox level must be available on this worker (checked once per process)."""
    with _lock:
        if isolation not in _host_cache:
            _host_cache[isolation] = sandbox.check_host(isolation)
    return "ok"


def prepare_worker(isolation: str) -> str:
    """Run on every worker before a batch: check the sandbox, start the fork server's imports."""
    check_worker(isolation)
    forkserver.warm()
    return "ok"


async def worker_ready() -> str:
    """Run on every worker once the batch is prepared, before its clock starts: wait for the
    fork server's imports (a worker whose server failed starts a new one on its first task).

    A coroutine, waiting in a thread: client.run calls a plain function on the worker's event
    loop, whose heartbeats and other tasks would stop meanwhile (the wait starts no server,
    so no server dies with that thread: see forkserver.die_with_parent)."""
    await asyncio.to_thread(forkserver.wait_warm)
    return "ok"


def _worker_name() -> str:
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return "local"
    address = worker.address.split("://", 1)[-1]
    name = str(worker.name)
    return address if name in (address, worker.address) else f"{name}@{address}"


SCRATCH_PREFIX = "grading-task-"


def sweep_scratch(root: Path | None = None, shm: Path | None = None) -> list[Path]:
    """Remove the scratch courses (in ``root``, the temporary folder) and the kernels' socket
    folders (on ``shm``, /dev/shm: host memory) of worker processes that died mid-task."""
    gone = []
    for top, prefix in ((Path(root or tempfile.gettempdir()), SCRATCH_PREFIX), (shm or SHM, IPC_PREFIX)):
        for d in top.glob(f"{prefix}*-*"):
            if d.is_dir() and owner_gone(d.name, prefix):
                remove_tree(d)
                gone.append(d)
    return gone


def grade_task(bundle: Bundle, task: Task) -> Outcome:
    """Grade one student on this worker, in a private scratch course; return the outcome."""
    if task.unreadable:
        return Outcome(SubmissionResult(task.student, STATUS_ERROR, notes=[task.unreadable]), None,
                       worker=_worker_name())
    check_worker(bundle.isolation)
    bwrap, cgroup_version = _host_cache[bundle.isolation]
    with _lock:  # the worker's own installed packages, checked after each of its tasks
        installed = _snapshots.setdefault(bundle.batch_id, PackageSnapshot.take(PROTECTED_PACKAGES))
    sweep_scratch()
    tmp = Path(tempfile.mkdtemp(prefix=owned_prefix(SCRATCH_PREFIX)))
    cgroups = None
    try:
        course = tmp / "course"
        write_tree(course / "source" / bundle.assignment, bundle.source)
        _write_submission(course, bundle.assignment, task)
        write_tree(tmp / "release", bundle.release)
        (tmp / "template.db").write_bytes(bundle.template_db)
        if cgroup_version is not None:
            cgroups = sandbox.Cgroups(cgroup_version, sandbox.CGROUP_ROOT, sandbox.batch_name())
            try:
                cgroups.sweep_stale()
                cgroups.open_batch()
            except OSError as exc:
                raise GradingError(f"cannot create cgroups under {sandbox.CGROUP_ROOT} ({exc})") from None
        ctx = BatchContext(
            course_dir=course, assignment=bundle.assignment, db_url="", course_id=bundle.course_id,
            work=tmp / "work", template_db=tmp / "template.db", release_dir=tmp / "release",
            packages=PackageSnapshot(roots={}, files=bundle.packages), timeout=bundle.timeout,
            config_text=bundle.config_text, isolation=bundle.isolation, limits=bundle.limits,
            bwrap=bwrap, cgroups=cgroups)
        (tmp / "work").mkdir()
        result, private = grade_one(ctx, task.student, not_carried=task.stray_more)
        with _lock:
            touched = installed.restore_changes(write=bundle.restore_course_files)
        if touched:
            verb = "restored" if bundle.restore_course_files else "NOT restored"
            result.notes.append(f"course files changed ({verb}): " + ", ".join(touched))
        made = course / "autograded" / task.student
        files = read_tree(made) if made.is_dir() else {}
        return Outcome(result, private, files, _worker_name())
    finally:
        if cgroups is not None:
            cgroups.close_batch()
        remove_tree(tmp)  # the kernel's socket folder, which it could lock, may be inside


# --------------------------------------------------------------------------------------
# coordinator side
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ClusterOptions:
    """Where the tasks run: an embedded LocalCluster, or an existing scheduler."""

    scheduler: str | None = None  # tcp://HOST:PORT or tls://HOST:PORT; None: embedded
    workers: int | None = None  # embedded cluster only; default: number of cores
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    connect_timeout: float = 30.0  # seconds to reach the scheduler

    def describe(self, n_workers: int) -> str:
        where = self.scheduler or "an embedded local cluster"
        return f"{n_workers} worker(s) on {where}"


def _security(opts: ClusterOptions):
    tls = (opts.tls_ca_file, opts.tls_cert, opts.tls_key)
    if not any(tls):
        if opts.scheduler and opts.scheduler.startswith("tls://"):
            raise GradingError("a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key")
        return None
    if not all(tls):
        raise GradingError("TLS needs all three of --tls-ca-file, --tls-cert and --tls-key")
    for path in tls:
        if not Path(path).is_file():
            raise GradingError(f"TLS file {path} does not exist")
    from distributed.security import Security

    return Security(tls_ca_file=opts.tls_ca_file, tls_client_cert=opts.tls_cert,
                    tls_client_key=opts.tls_key, require_encryption=True)


@contextlib.contextmanager
def open_client(opts: ClusterOptions) -> Iterator[tuple[object, int]]:
    """A Dask client (and the number of worker threads it reaches), closed on exit."""
    import dask
    import distributed  # noqa: F401  first: registers its defaults, which config.set's undo
    # would otherwise remove with the keys it set

    chosen = dask.config.collect_env()  # an instructor's DASK_... variables (e.g. to profile)
    quiet = {k: v for k, v in QUIET_DASK.items() if dask.config.get(k, None, config=chosen) is None}
    with dask.config.set(quiet):
        yield from _open_client(opts)


def _open_client(opts: ClusterOptions) -> Iterator[tuple[object, int]]:
    from distributed import Client, LocalCluster

    security = _security(opts)
    if opts.scheduler is not None:
        if not opts.scheduler.startswith(("tcp://", "tls://")):
            raise GradingError(f"bad scheduler address {opts.scheduler!r}: use tcp://HOST:PORT or "
                               "tls://HOST:PORT")
        try:
            client = Client(opts.scheduler, security=security, timeout=opts.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise GradingError(f"cannot reach the Dask scheduler {opts.scheduler}: {exc}") from None
        with client:
            if not client.nthreads():  # workers started with the scheduler may still be joining
                try:
                    client.wait_for_workers(1, timeout=opts.connect_timeout)
                except (OSError, TimeoutError):
                    raise GradingError(f"the Dask scheduler {opts.scheduler} has no workers (waited "
                                       f"{opts.connect_timeout:g} s)") from None
            threads = sum(client.nthreads().values())
            yield client, threads
        return
    n = max(1, int(opts.workers or os.cpu_count() or 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "port 8787 in use" and similar dashboard chatter
        # memory_limit=0: the nanny must not kill a worker for its memory; each submission's
        # kernel has its own limit (cgroups) in the sandbox
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None, memory_limit=0,
                               silence_logs=logging.ERROR, host="127.0.0.1")
    with cluster, Client(cluster) as client:
        yield client, n
