"""One submission in a private workspace: rebuilt notebook, private gradebook, sandboxed kernel.

A workspace is a temporary course directory of one student, written from the batch's values
and the student's :class:`~grading.batch.tasks.Task`: ``source/`` (for nbgrader only; the
kernel never sees it), the rebuilt submission (:mod:`grading.batch.submission`), a private
SQLite gradebook (the batch's template), a private copy of the course packages, and, when
sandboxed, the kernelspec, the sandbox configuration and the ipc socket folder (the kernel
copies the assignment folder onto its own tmpfs inside the sandbox). ``nbgrader autograde``
runs there as a fresh process in its own session, forked from the worker's fork server
(:mod:`grading.batch.forkserver`), with a wall-clock limit; afterwards every process of the
submission is killed. What nbgrader made (the autograded notebooks, its log) goes back as
values, in the :class:`~grading.batch.tasks.Outcome`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grading.batch import logs
from grading.batch.forkserver import ForkServerError, run_nbgrader
from grading.batch.gradebook import read_private_grades, sqlite_url
from grading.batch.results import (
    STATUS_ERROR,
    STATUS_FLAGGED,
    STATUS_MISSING,
    STATUS_OK,
    STATUS_TIMEOUT,
    SubmissionResult,
)
from grading.batch.submission import Refused, rebuild_submission
from grading.batch.tasks import Outcome, Task
from grading.extensions.guardedexecute import GUARD_MODULE, NOTES_ENV, PIDS_EVENTS_ENV
from grading.filetree import read_tree, write_tree
from grading.isolation import sandbox
from grading.isolation.cgroups import Cgroups
from grading.isolation.cleanup import owned_prefix, remove_tree
from grading.isolation.integrity import PackageSnapshot
from grading.limits import Limits
from grading.processes import kill_tree, nbgrader_env

EXTRA_CONFIG = """
# ---- appended by python -m grading for this private autograde ----
c.Autograde.autograde_preprocessors = [
    "grading.extensions.guardedexecute.GuardedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "grading.extensions.limitoutputbytes.LimitOutputBytes",
    "grading.extensions.limitnotebookbytes.LimitNotebookBytes",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = {cell_timeout}
c.Execute.interrupt_on_timeout = True
# the kernel and its folder are thrown away: no graceful shutdown (TensorFlow's exit costs ~2 s)
c.Execute.shutdown_kernel = "immediate"
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:"]
c.LimitOutput.max_lines = 200
c.GuardedExecute.skip_after_last_grade = {skip_tail}
"""

SANDBOX_CONFIG = """
# the kernel runs in the sandbox and talks over Unix sockets in a folder bound into it; its
# connection file stays in the workspace (the launcher hands the kernel a read-only copy)
c.KernelManager.transport = "ipc"
c.KernelManager.ip = {ip!r}
c.KernelManager.connection_file = {connection!r}
c.Execute.kernel_name = {kernel!r}
"""


@dataclass(kw_only=True)
class BatchContext:
    """What grading a task needs besides the task: the batch's values (from its
    :class:`~grading.batch.tasks.Bundle`), a scratch folder ``work`` of the worker's for the
    workspaces, and the worker's host (bubblewrap, cgroups). Made by the worker for each task
    (:func:`grading.batch.worker.grade_task`)."""

    assignment: str
    course_id: str
    work: Path
    source: dict[str, bytes]  # source/ASSIGNMENT/*, written into the workspace for nbgrader
    release: dict[str, bytes]  # the release notebooks every submission is rebuilt on
    template_db: bytes  # the private template gradebook: each workspace's gradebook
    packages: PackageSnapshot
    timeout: float
    config_text: str
    isolation: str
    limits: Limits
    bwrap: str = ""
    cgroups: Cgroups | None = None
    feedback: bool = False  # also run generate_feedback (no kernel) on what autograde made


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40] or "student"


SHM = Path("/dev/shm")
#: the kernel-side guard, copied into each workspace's packages (found, not imported: it imports IPython)
_GUARD_SPEC = importlib.util.find_spec("grading.isolation.guard")
if _GUARD_SPEC is None:
    raise ImportError("grading.isolation.guard is missing: the grading package is incomplete")
GUARD_FILE = Path(str(_GUARD_SPEC.origin))
IPC_PREFIX = "course-ipc-"  # the kernel's socket folder


def _setup_sandbox(ctx: BatchContext, student: str, ws: Path) -> tuple[str, dict, list[Path], Path]:
    """Kernelspec, sandbox configuration, ipc folder, cgroups: (extra config, env, cgroup dirs,
    ipc folder)."""
    box = ws / "box"
    (box / "etc").mkdir(parents=True)
    (box / "etc" / "passwd").write_text(
        f"student:x:{sandbox.SANDBOX_UID}:{sandbox.SANDBOX_UID}:student:/tmp:/bin/false\n"
    )
    (box / "etc" / "group").write_text(f"student:x:{sandbox.SANDBOX_UID}:\n")
    # The socket folder is the one host folder the kernel can write. With cgroups it is on
    # memory-backed /dev/shm, where what it writes counts against its memory cgroup. Without
    # (--isolation namespaces) nothing would bound it there but the host's memory: it is on
    # disk in the worker's scratch folder instead, bounded per file by RLIMIT_FSIZE, and
    # removed by the next batch if this worker dies. Short name: socket paths are < 108 bytes.
    # On /dev/shm its name holds the worker's pid and scope: grading.batch.worker.sweep_scratch
    # removes it if the worker dies before it does (nothing else would; it is host memory).
    on_shm = ctx.cgroups is not None and os.access(SHM, os.W_OK)
    ipc = Path(
        tempfile.mkdtemp(prefix=owned_prefix(IPC_PREFIX) if on_shm else IPC_PREFIX, dir=SHM if on_shm else ctx.work)
    )
    dirs = ctx.cgroups.create(f"{_safe(student)}-{os.urandom(3).hex()}", ctx.limits) if ctx.cgroups is not None else []
    # a batch's limits have their cpu_seconds (Options.kernel_limits); a context made without
    # a batch (tests) gets it by the same rule
    limits = ctx.limits.for_timeout(ctx.timeout)
    # the grader's own folders (never bound into the sandbox): the connection files, and what
    # each kernel printed to its stdout and stderr (grading.isolation.launcher)
    runtime, output = box / "runtime", box / "kernel-output"
    runtime.mkdir(mode=0o700)
    output.mkdir(mode=0o700)
    cfg = {
        "level": ctx.isolation,
        "bwrap": ctx.bwrap,
        "python_roots": sandbox.python_roots(),
        "etc": str(box / "etc"),
        "ipc": str(ipc),
        "pkgs": str(ws / "pkgs"),
        "stage": str(box / "assignment"),
        "runtime": str(runtime),
        "output": str(output),
        "tmpfs_size": limits.memory,
        "cgroups": [str(d) for d in dirs],
        "report": str(ws / "isolation.txt"),
        "limits": {
            "memory": limits.memory,
            "pids": limits.pids,
            "file_size": limits.file_size,
            "cpu_seconds": limits.cpu_seconds,
            "threads": limits.threads,
        },
    }
    (ws / "sandbox.json").write_text(json.dumps(cfg, indent=1), encoding="utf-8")
    sandbox.write_kernelspec(ws / "jupyter", ws / "sandbox.json")
    extra = SANDBOX_CONFIG.format(
        ip=str(ipc / "k"), connection=str(runtime / "kernel.json"), kernel=sandbox.KERNEL_NAME
    )
    env = {"JUPYTER_PATH": str(ws / "jupyter"), "JUPYTER_RUNTIME_DIR": str(runtime)}
    events = [d / "pids.events" for d in dirs if (d / "pids.events").is_file()]
    if events:  # GuardedExecute restarts the kernel after a cell that hit the process limit
        env[PIDS_EVENTS_ENV] = str(events[0])
    return extra, env, dirs, ipc


def _isolation_note(ctx: BatchContext, ws: Path) -> str:
    """The isolation every kernel of this submission actually got, from the launcher's reports."""
    if ctx.isolation == "none":
        return "isolation: none (kernel ran as the grader, unsandboxed)"
    report = ws / "isolation.txt"
    got = sorted(set(report.read_text(encoding="utf-8").split("\n")) - {""}) if report.is_file() else []
    return "isolation: " + ("; ".join(got) if got else "no kernel started")


def grade_one(ctx: BatchContext, task: Task) -> Outcome:
    """Autograde ``task`` in a private workspace: its outcome (the result, the private grades,
    and the files made under ``autograded/STUDENT/``: the assignment's autograded notebooks and
    its autograde log, none when nothing was autograded).

    Never raises for a problem of the submission; the coordinator records whatever happened.
    """
    start = time.monotonic()
    student = task.student
    result = SubmissionResult(student, STATUS_ERROR)
    ws = ctx.work / "students" / student
    if os.path.lexists(ws):
        remove_tree(ws)
    sub_dst = ws / "submitted" / student / ctx.assignment
    sub_dst.mkdir(parents=True)
    try:
        if not rebuild_submission(ctx.release, ctx.limits, task, sub_dst, result):
            result.status = STATUS_MISSING
            result.seconds = time.monotonic() - start
            return Outcome(result, None)
    except Refused as exc:
        result.notes.append(str(exc))
        result.seconds = time.monotonic() - start
        return Outcome(result, None)
    write_tree(ws / "source" / ctx.assignment, ctx.source)
    (ws / "gradebook.db").write_bytes(ctx.template_db)
    ctx.packages.write_copy(ws / "pkgs")
    shutil.copy(GUARD_FILE, ws / "pkgs" / f"{GUARD_MODULE}.py")
    notes_file = ws / "guard_notes.txt"
    config_text = ctx.config_text
    env_extra: dict[str, str] = {}
    cgroup_dirs: list[Path] = []
    ipc: Path | None = None
    if ctx.isolation != "none":
        extra, env_extra, cgroup_dirs, ipc = _setup_sandbox(ctx, student, ws)
        config_text += extra
    (ws / "nbgrader_config.py").write_text(config_text, encoding="utf-8")
    env = nbgrader_env(
        PYTHONPATH=str(ws / "pkgs"), **{NOTES_ENV: str(notes_file)}, **ctx.limits.thread_env(), **env_extra
    )  # an unsandboxed kernel inherits
    argv = _nbgrader_argv("autograde", ctx, ws, student)
    log_path = ws / "autograde.log"
    try:  # a fresh process forked from this worker's fork server, in its own session
        # kill_tree: a kernel or a process the student started must not linger
        rc = run_nbgrader(argv, cwd=ws, env=env, log=log_path, timeout=ctx.timeout, on_end=kill_tree)
    except ForkServerError as exc:
        result.notes.append(str(exc))
        rc = -1
    finally:
        if ctx.cgroups is not None:
            left = ctx.cgroups.members(cgroup_dirs)
            ctx.cgroups.remove(cgroup_dirs)
            if left:
                result.notes.append(f"{len(left)} leftover process(es) killed")
        # only now that nothing of the submission runs (a live process could swap a folder
        # for a link while it is removed); see grading.isolation.cleanup
        if ipc is not None and not remove_tree(ipc):
            result.notes.append("the kernel's socket folder could not be removed")
    if notes_file.is_file():
        result.notes.extend(n for n in notes_file.read_text(encoding="utf-8").splitlines() if n)
    result.notes.append(_isolation_note(ctx, ws))
    private = None
    if rc is None:
        result.status = STATUS_TIMEOUT
        result.notes.append(f"killed after {ctx.timeout:g} s")
    else:
        try:
            private = read_private_grades(ws / "gradebook.db", ctx.course_id, ctx.assignment, student)
        except Exception as exc:
            result.notes.append(f"no grades ({type(exc).__name__})")
        if rc == 0 and private is not None:
            result.status = STATUS_FLAGGED if result.manual else STATUS_OK
            for info in private["notebooks"].values():  # as the plain path's FlagUnrepaired
                for name in result.manual:
                    if name in info["grades"]:
                        auto, _, max_score = info["grades"][name]
                        info["grades"][name] = (auto, True, max_score)
        else:
            result.notes.append(f"nbgrader exit {rc}: " + logs.last_line(log_path)[:200])
            private = None
    feedback = _feedback_pages(ctx, ws, student, env) if ctx.feedback and private is not None else {}
    made = ws / "autograded" / student / ctx.assignment
    files = {f"{ctx.assignment}/{rel}": data for rel, data in read_tree(made).items()} if made.is_dir() else {}
    # bounded: nbgrader's log, then what each kernel printed (grading.batch.logs)
    files[f"{ctx.assignment}.autograde.log"] = logs.autograde_log(log_path, ws / "box" / "kernel-output")
    result.seconds = time.monotonic() - start
    return Outcome(result, private, files, feedback=feedback)


def _nbgrader_argv(command: str, ctx: BatchContext, ws: Path, student: str) -> list[str]:
    """``nbgrader COMMAND`` for the student in the workspace (its private gradebook)."""
    return [
        command,
        ctx.assignment,
        "--student",
        student,
        "--force",
        f"--CourseDirectory.root={ws}",
        f"--CourseDirectory.db_url={sqlite_url(ws / 'gradebook.db')}",
        f"--CourseDirectory.course_id={ctx.course_id}",
    ]


FEEDBACK_TIMEOUT = 120.0  # seconds for generate_feedback (no kernel: an nbconvert export)


def _feedback_pages(ctx: BatchContext, ws: Path, student: str, env: dict[str, str]) -> dict[str, bytes]:
    """The student's feedback pages, made by ``nbgrader generate_feedback`` in the workspace (the
    course's feedback settings, the private gradebook), as {file name: bytes}; none if it failed."""
    argv = _nbgrader_argv("generate_feedback", ctx, ws, student)
    try:
        rc = run_nbgrader(argv, cwd=ws, env=env, log=ws / "feedback.log", timeout=FEEDBACK_TIMEOUT, on_end=kill_tree)
    except ForkServerError:
        return {}
    pages = ws / "feedback" / student / ctx.assignment
    if rc != 0 or not pages.is_dir():
        return {}
    return {name: data for name, data in read_tree(pages).items() if name.endswith(".html")}
