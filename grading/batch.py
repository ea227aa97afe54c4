"""A batch: every submission of an assignment, graded in parallel workspaces, recorded one by one.

1. A scratch copy of ``source/ASSIGNMENT`` goes through ``nbgrader generate_assignment``
   against a private *template* gradebook (and against the real gradebook when that does
   not know the assignment yet); its release notebook is the skeleton every submission is
   rebuilt on.
2. Workers grade students in private workspaces (:mod:`grading.workspace`), kernels in
   the sandbox (:mod:`grading.sandbox`) at the requested isolation level.
3. Only this (parent) process writes the real gradebook, one submission at a time, and
   checks the installed course packages after each one (:mod:`grading.integrity`).
4. The summary (student, score, max, status, seconds, notes) is printed and written as CSV
   and Markdown next to the autograded notebooks; each student's notes also go to
   ``autograded/STUDENT/ASSIGNMENT.notes.txt``.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from grading import sandbox
from grading.gradebook import (
    check_db_url, copy_duedate, course_id_of, gradebook_knows, record_result, sqlite_url,
)
from grading.integrity import PackageSnapshot
from grading.results import STATUS_ERROR, STATUS_MISSING, STATUS_OK, GradingError, SubmissionResult, \
    write_summary
from grading.workspace import EXTRA_CONFIG, BatchContext, grade_one, nbgrader_env

DEFAULT_TIMEOUT = 900.0  # seconds per submission, whole autograde
DEFAULT_CELL_TIMEOUT = 300  # seconds per cell (nbgrader's own default of 30 s is too short for fit)


@dataclass(frozen=True, kw_only=True)
class Options:
    """How a batch is graded (every field has the command line's default)."""

    course_dir: Path | str = "."
    db_url: str | None = None  # default: sqlite:///COURSE_DIR/gradebook.db
    workers: int | None = None  # default: number of cores
    timeout: float = DEFAULT_TIMEOUT
    cell_timeout: int = DEFAULT_CELL_TIMEOUT
    students: list[str] | None = None  # default: everyone with a submission
    restore_course_files: bool = True
    skip_tail: bool = False
    isolation: str = "sandboxed"
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)


def prepare_batch(assignment: str, opts: Options, db_url: str, work: Path) -> BatchContext:
    """Generate the template gradebook and release skeleton; register the assignment if needed."""
    course_dir = Path(opts.course_dir)
    source = course_dir / "source" / assignment
    if not source.is_dir():
        raise GradingError(f"no source folder {source}: is {course_dir} the course directory?")
    bwrap, cgroup_version = sandbox.check_host(opts.isolation)
    course_id = course_id_of(course_dir)
    cfg_file = course_dir / "nbgrader_config.py"
    base_cfg = cfg_file.read_text(encoding="utf-8") if cfg_file.is_file() else "c = get_config()\n"
    config_text = base_cfg + EXTRA_CONFIG.format(cell_timeout=int(opts.cell_timeout),
                                                 skip_tail=bool(opts.skip_tail))
    scratch = work / "template"
    shutil.copytree(source, scratch / "source" / assignment)
    (scratch / "nbgrader_config.py").write_text(base_cfg, encoding="utf-8")
    template_db = work / "template.db"

    def generate(url: str) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
             f"--CourseDirectory.root={scratch}", f"--CourseDirectory.db_url={url}",
             f"--CourseDirectory.course_id={course_id}"],
            cwd=scratch, env=nbgrader_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise GradingError(f"nbgrader generate_assignment failed:\n{proc.stdout}{proc.stderr}")

    generate(sqlite_url(template_db))
    main_file = Path(db_url[len("sqlite:///"):].split("?")[0]) if db_url.startswith("sqlite:///") else None
    if main_file is not None and not main_file.exists():
        shutil.copy(template_db, main_file)  # a new SQLite gradebook: same content, no 2nd run
    elif not gradebook_knows(db_url, course_id, assignment):
        generate(db_url)
    copy_duedate(db_url, sqlite_url(template_db), course_id, assignment)
    cgroups = None
    if cgroup_version is not None:
        cgroups = sandbox.Cgroups(cgroup_version, sandbox.CGROUP_ROOT,
                                  f"course-grading-{os.getpid()}-{os.urandom(3).hex()}")
        try:
            cgroups.sweep_stale()
            cgroups.open_batch()
        except OSError as exc:
            raise GradingError(f"cannot create cgroups under {sandbox.CGROUP_ROOT} ({exc}); "
                               "pass --isolation namespaces to sandbox without limits") from None
    return BatchContext(
        course_dir=course_dir, assignment=assignment, db_url=db_url, course_id=course_id,
        work=work, template_db=template_db, release_dir=scratch / "release" / assignment,
        packages=PackageSnapshot.take(), timeout=opts.timeout, config_text=config_text,
        isolation=opts.isolation, limits=opts.limits, bwrap=bwrap, cgroups=cgroups)


def list_students(course_dir: Path, assignment: str) -> list[str]:
    """Students with a ``submitted/<student>/<assignment>/`` folder, sorted."""
    root = course_dir / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / assignment).is_dir())


def autograde_all(
    assignment: str,
    options: Options | None = None,
    *,
    progress: Callable[[str], None] | None = print,
    stats: dict[str, float] | None = None,
    **fields,
) -> list[SubmissionResult]:
    """Autograde every submission of ``assignment``; ``fields`` override ``options``' fields.

    The gradebook is ``course_dir/gradebook.db`` unless ``db_url`` is given (any
    SQLAlchemy URL nbgrader accepts, e.g. ``postgresql://user:pw@127.0.0.1:5432/db``).
    Returns one :class:`SubmissionResult` per student; the summary table is written to
    ``autograded/<assignment>_summary.csv`` and ``.md`` in the course directory.
    With ``restore_course_files`` (default) an installed course file that changed while
    the batch ran is put back; without it the change is only reported (use that on a
    development checkout that people edit while grading runs).
    ``stats``, if given, receives the wall seconds of the one-off preparation
    (``prepare``) and of the grading itself (``grading``).
    """
    opts = replace(options or Options(), **fields)
    course_dir = Path(opts.course_dir).resolve()
    opts = replace(opts, course_dir=course_dir)
    db_url = check_db_url(opts.db_url or sqlite_url(course_dir / "gradebook.db"))
    workers = max(1, int(opts.workers or os.cpu_count() or 1))
    if opts.timeout <= 0 or opts.cell_timeout <= 0:
        raise GradingError("timeouts must be positive numbers of seconds")
    say = progress or (lambda _msg: None)
    todo = opts.students if opts.students is not None else list_students(course_dir, assignment)
    if not todo:
        raise GradingError(f"no submissions in {course_dir / 'submitted'}/*/{assignment}/")
    results: list[SubmissionResult] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="autograde-") as tmp:
        ctx = prepare_batch(assignment, opts, db_url, Path(tmp))
        try:
            t1 = time.monotonic()
            level = opts.isolation + (f" ({opts.limits.describe()})" if opts.isolation == "sandboxed" else "")
            say(f"autograding {len(todo)} submission(s) of {assignment} with {workers} worker(s), "
                f"isolation {level}")
            _run(ctx, todo, workers, opts.restore_course_files, results, say)
        finally:
            if ctx.cgroups is not None:
                ctx.cgroups.close_batch()
    if stats is not None:
        stats.update(prepare=t1 - t0, grading=time.monotonic() - t1)
    out = course_dir / "autograded"
    table = write_summary(results, out / f"{assignment}_summary.csv", out / f"{assignment}_summary.md")
    say(table)
    return results


def _run(ctx: BatchContext, todo: list[str], workers: int, restore: bool,
         results: list[SubmissionResult], say: Callable[[str], None]) -> None:
    failures = 0
    guard_lock = threading.Lock()
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(grade_one, ctx, s): s for s in todo}
        for fut in cf.as_completed(futures):
            student = futures[fut]
            try:
                res, private = fut.result()
            except Exception as exc:  # a bug of ours must not stop the batch
                res, private = SubmissionResult(student, STATUS_ERROR,
                                                notes=[f"{type(exc).__name__}: {exc}"]), None
            with guard_lock:
                touched = ctx.packages.restore_changes(write=restore)
            if touched:
                verb = "restored" if restore else "NOT restored"
                res.notes.append(f"course files changed ({verb}): " + ", ".join(touched))
            if res.status != STATUS_MISSING:
                res.score, res.max_score, res.grades = record_result(
                    ctx.db_url, ctx.course_id, ctx.assignment, student, private)
                notes = ctx.course_dir / "autograded" / student / f"{ctx.assignment}.notes.txt"
                notes.parent.mkdir(parents=True, exist_ok=True)
                notes.write_text("".join(n + "\n" for n in res.notes), encoding="utf-8")
            failures += res.status != STATUS_OK
            results.append(res)
            say(f"[{len(results)}/{len(todo)}] {student}: {res.status} "
                f"{res.score:g}/{res.max_score:g} ({res.seconds:.1f} s) failures={failures}")
