"""What a Dask worker does: check its host, keep its fork server warm, grade one task.

A worker shares no folder with the coordinator: it grades the task as the coordinator sent
it with :func:`grading.batch.workspace.grade_one`, in a workspace under a private scratch
folder (the kernel in the sandbox, on the worker's machine), and returns that
:class:`~grading.batch.tasks.Outcome` (the result, the private grades, the autograded files)
with the worker's name and any course file the submission changed. Only the coordinator
writes the gradebook and ``autograded/`` (:mod:`grading.batch.coordinator`).
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path

from grading.batch import forkserver
from grading.batch.results import STATUS_ERROR, SubmissionResult
from grading.batch.tasks import Bundle, Outcome, Task
from grading.batch.workspace import IPC_PREFIX, SHM, BatchContext, grade_one
from grading.errors import GradingError
from grading.isolation import sandbox
from grading.isolation.cgroups import CGROUP_ROOT, Cgroups, batch_name
from grading.isolation.cleanup import owned_prefix, owner_gone, remove_tree
from grading.isolation.integrity import PROTECTED_PACKAGES, PackageSnapshot

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
    """Remove the scratch folders (in ``root``, the temporary folder) and the kernels' socket
    folders (on ``shm``, /dev/shm: host memory) of worker processes that died mid-task."""
    gone = []
    for top, prefix in ((Path(root or tempfile.gettempdir()), SCRATCH_PREFIX), (shm or SHM, IPC_PREFIX)):
        for d in top.glob(f"{prefix}*-*"):
            if d.is_dir() and owner_gone(d.name, prefix):
                remove_tree(d)
                gone.append(d)
    return gone


def grade_task(bundle: Bundle, task: Task) -> Outcome:
    """Grade one student on this worker, in a private scratch folder; return the outcome."""
    if task.unreadable:
        return Outcome(
            SubmissionResult(task.student, STATUS_ERROR, notes=[task.unreadable]), None, worker=_worker_name()
        )
    check_worker(bundle.isolation)
    bwrap, cgroup_version = _host_cache[bundle.isolation]
    with _lock:  # the worker's own installed packages, checked after each of its tasks
        installed = _snapshots.setdefault(bundle.batch_id, PackageSnapshot.take(PROTECTED_PACKAGES))
    sweep_scratch()
    tmp = Path(tempfile.mkdtemp(prefix=owned_prefix(SCRATCH_PREFIX)))
    cgroups = None
    try:
        if cgroup_version is not None:
            cgroups = Cgroups(cgroup_version, CGROUP_ROOT, batch_name())
            try:
                cgroups.sweep_stale()
                cgroups.open_batch()
            except OSError as exc:
                raise GradingError(f"cannot create cgroups under {CGROUP_ROOT} ({exc})") from None
        ctx = BatchContext(
            assignment=bundle.assignment,
            course_id=bundle.course_id,
            work=tmp / "work",
            source=bundle.source,
            release=bundle.release,
            template_db=bundle.template_db,
            packages=PackageSnapshot(roots={}, files=bundle.packages),
            timeout=bundle.timeout,
            config_text=bundle.config_text,
            isolation=bundle.isolation,
            limits=bundle.limits,
            bwrap=bwrap,
            cgroups=cgroups,
            feedback=bundle.feedback,
        )
        (tmp / "work").mkdir()
        outcome = grade_one(ctx, task)
        with _lock:
            touched = installed.restore_changes(write=bundle.restore_course_files)
        if touched:
            verb = "restored" if bundle.restore_course_files else "NOT restored"
            outcome.result.notes.append(f"course files changed ({verb}): " + ", ".join(touched))
        outcome.worker = _worker_name()
        return outcome
    finally:
        if cgroups is not None:
            cgroups.close_batch()
        remove_tree(tmp)  # the kernel's socket folder, which it could lock, may be inside
