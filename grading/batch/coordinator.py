"""A batch: every submission of an assignment, graded as Dask tasks, recorded one by one.

1. A scratch copy of ``source/ASSIGNMENT`` goes through ``nbgrader generate_assignment``
   against a private *template* gradebook (and against the real gradebook when that does
   not know the assignment yet); its release notebook is the skeleton every submission is
   rebuilt on. Source, skeleton, template, course packages and options make the batch's
   :class:`~grading.batch.tasks.Bundle`.
2. Each student is a Dask task (:mod:`grading.batch.worker`) on an embedded ``LocalCluster``
   or an existing cluster (``--scheduler``); the worker grades it in a private workspace
   (:mod:`grading.batch.workspace`), the kernel in the sandbox (:mod:`grading.isolation.sandbox`). A task
   whose worker dies is rerun elsewhere; one that kills its worker more often than Dask's
   ``distributed.scheduler.allowed-failures`` is recorded as an error for that student.
3. Only this (coordinator) process writes the real gradebook and ``autograded/``, one
   result at a time. Students the gradebook already has a result for are skipped unless
   ``regrade`` is set, so an interrupted batch can simply be rerun.
4. The summary (student, score, max, status, seconds, notes, worker) is printed and written
   as CSV and Markdown next to the autograded notebooks; each student's notes also go to
   ``autograded/STUDENT/ASSIGNMENT.notes.txt``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from grading.batch.client import grading_resources, open_client
from grading.batch.gradebook import (
    cell_max_scores,
    check_db_url,
    copy_duedate,
    course_id_of,
    gradebook_knows,
    graded_students,
    record_result,
    sqlite_file,
    sqlite_url,
)
from grading.batch.options import Options
from grading.batch.report import write_report
from grading.batch.results import (
    STATUS_ERROR,
    STATUS_FLAGGED,
    STATUS_MISSING,
    STATUS_OK,
    STATUS_SKIPPED,
    SubmissionResult,
    clean_note,
    write_summary,
)
from grading.batch.scan import submitted_task
from grading.batch.tasks import Bundle, Outcome
from grading.batch.worker import grade_task, prepare_worker, worker_ready
from grading.batch.workspace import EXTRA_CONFIG
from grading.errors import GradingError
from grading.filetree import read_tree, write_tree
from grading.isolation import sandbox
from grading.isolation.integrity import PackageSnapshot
from grading.processes import nbgrader_env


def check_batch(assignment: str, opts: Options) -> None:
    """The check that needs no cluster: the source folder (the options checked themselves)."""
    course_dir = Path(opts.course_dir)
    source = course_dir / "source" / assignment
    if not source.is_dir():
        raise GradingError(f"no source folder {source}: is {course_dir} the course directory?")


def config_file_of(opts: Options) -> Path:
    """The nbgrader config the batch uses: ``opts.config_file``, else the course folder's."""
    return Path(opts.config_file) if opts.config_file is not None else Path(opts.course_dir) / "nbgrader_config.py"


def prepare_batch(assignment: str, opts: Options, db_url: str, work: Path) -> Bundle:
    """Generate the template gradebook and release skeleton; register the assignment if needed."""
    check_batch(assignment, opts)
    course_dir = Path(opts.course_dir)
    source = course_dir / "source" / assignment
    cfg_file = config_file_of(opts)
    if opts.config_file is not None and not cfg_file.is_file():
        raise GradingError(f"no nbgrader config {cfg_file} (--config)")
    course_id = course_id_of(course_dir, cfg_file)
    base_cfg = cfg_file.read_text(encoding="utf-8") if cfg_file.is_file() else "c = get_config()\n"
    config_text = base_cfg + EXTRA_CONFIG.format(cell_timeout=int(opts.cell_timeout), skip_tail=bool(opts.skip_tail))
    scratch = work / "template"
    shutil.copytree(source, scratch / "source" / assignment)
    (scratch / "nbgrader_config.py").write_text(base_cfg, encoding="utf-8")
    template_db = work / "template.db"

    def generate(url: str) -> None:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "nbgrader",
                "generate_assignment",
                assignment,
                "--force",
                f"--CourseDirectory.root={scratch}",
                f"--CourseDirectory.db_url={url}",
                f"--CourseDirectory.course_id={course_id}",
            ],
            cwd=scratch,
            env=nbgrader_env(),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise GradingError(f"nbgrader generate_assignment failed:\n{proc.stdout}{proc.stderr}")

    generate(sqlite_url(template_db))
    main_file = sqlite_file(db_url)
    if main_file is not None and not main_file.exists():
        shutil.copy(template_db, main_file)  # a new SQLite gradebook: same content, no 2nd run
    elif not gradebook_knows(db_url, course_id, assignment):
        generate(db_url)
    copy_duedate(db_url, sqlite_url(template_db), course_id, assignment)
    return Bundle(
        batch_id=os.urandom(6).hex(),
        assignment=assignment,
        course_id=course_id,
        source=read_tree(source),
        release=read_tree(scratch / "release" / assignment),
        template_db=template_db.read_bytes(),
        packages=PackageSnapshot.take().files,
        config_text=config_text,
        timeout=opts.timeout,
        isolation=opts.isolation,
        limits=opts.kernel_limits,
        restore_course_files=opts.restore_course_files,
    )


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
    """Autograde every submission of ``assignment``; ``fields`` override ``options``' fields
    (:class:`~grading.batch.options.Options`, which checks them).

    The gradebook is ``course_dir/gradebook.db`` unless ``db_url`` is given (any
    SQLAlchemy URL nbgrader accepts, e.g. ``postgresql://user:pw@127.0.0.1:5432/db``).
    Returns one :class:`SubmissionResult` per student; the summary table is written to
    ``autograded/<assignment>_summary.csv`` and ``.md`` in the course directory.
    Students the gradebook already has a result for are reported as ``already graded``
    (with their recorded score) and not graded again, unless ``regrade``.
    With ``restore_course_files`` (default) an installed course file that changed while
    the batch ran is put back; without it the change is only reported (use that on a
    development checkout that people edit while grading runs).
    ``stats``, if given, receives the wall seconds of the one-off preparation
    (``prepare``: cluster start, ``generate_assignment``, the workers' fork servers ready),
    of the grading itself (``grading``: first task submitted to last result recorded) and of
    the cluster's ``shutdown``, and the CPU seconds the whole machine was busy while grading
    (``busy_cpu``, for the benchmark).
    """
    opts = replace(options or Options(), **fields)
    course_dir = Path(opts.course_dir).resolve()
    opts = replace(opts, course_dir=course_dir)
    db_url = check_db_url(opts.db_url or sqlite_url(course_dir / "gradebook.db"))
    say = progress or (lambda _msg: None)
    students = opts.students if opts.students is not None else list_students(course_dir, assignment)
    if not students:
        raise GradingError(f"no submissions in {course_dir / 'submitted'}/*/{assignment}/")
    results: list[SubmissionResult] = []
    done = {} if opts.regrade else graded_students(db_url, course_id_of(course_dir, config_file_of(opts)), assignment)
    todo = [s for s in students if s not in done]
    for student in students:
        if student in done:
            results.append(SubmissionResult(student, STATUS_SKIPPED, *done[student]))
    if done and todo != students:
        say(
            f"skipping {len(students) - len(todo)} student(s) the gradebook already has a result "
            "for (--regrade grades them again)"
        )
    t0 = t1 = t2 = time.monotonic()
    if todo:
        check_batch(assignment, opts)
        if opts.scheduler is None:  # the embedded cluster's workers are this machine: fail fast
            sandbox.check_host(opts.isolation)
        with (
            tempfile.TemporaryDirectory(prefix="autograde-") as tmp,
            open_client(opts.cluster()) as (client, n_workers),
        ):
            _check_workers(client, opts.isolation)  # workers' fork servers start importing...
            bundle = prepare_batch(assignment, opts, db_url, Path(tmp))  # ...while this runs
            client.run(worker_ready)  # ...and have imported before the first task arrives
            t1, busy1 = time.monotonic(), _busy_cpu_seconds()
            level = opts.isolation + (f" ({opts.limits.describe()})" if opts.isolation == "sandboxed" else "")
            say(
                f"autograding {len(todo)} submission(s) of {assignment} with "
                f"{opts.cluster().describe(n_workers)}, isolation {level}"
            )
            _run(client, bundle, course_dir, db_url, todo, results, say)
            t2, busy2 = time.monotonic(), _busy_cpu_seconds()  # the cluster's shutdown not counted
    if stats is not None:
        stats.update(prepare=t1 - t0, grading=t2 - t1, shutdown=time.monotonic() - t2)
        if todo:
            stats["busy_cpu"] = busy2 - busy1
    out = course_dir / "autograded"
    table = write_summary(results, out / f"{assignment}_summary.csv", out / f"{assignment}_summary.md")
    write_report(
        results, out, assignment, cell_max_scores(db_url, course_id_of(course_dir, config_file_of(opts)), assignment)
    )
    say(table)
    return results


def _busy_cpu_seconds() -> float:
    """CPU seconds this machine has spent busy since boot (every process, every core)."""
    import psutil

    times = psutil.cpu_times()._asdict()  # Linux: guest time is already inside user time
    return sum(times.get(k, 0.0) for k in ("user", "nice", "system", "irq", "softirq", "steal"))


def _check_workers(client, isolation: str) -> None:
    """Every worker must be able to give the isolation level (bubblewrap, cgroups); each
    starts its fork server while the batch is submitted."""
    try:
        client.run(prepare_worker, isolation)
    except GradingError as exc:
        raise GradingError(f"a Dask worker cannot grade here: {exc}") from None


def record_outcome(course_dir: Path, db_url: str, bundle: Bundle, outcome: Outcome) -> SubmissionResult:
    """Write one outcome into the gradebook and autograded/ (coordinator only)."""
    res, student = outcome.result, outcome.result.student
    res.worker = outcome.worker
    res.notes = [clean_note(n) for n in res.notes]  # before anything is printed or written
    if res.status == STATUS_MISSING:
        return res
    res.score, res.max_score, res.grades = record_result(
        db_url, bundle.course_id, bundle.assignment, student, outcome.private
    )
    dest = course_dir / "autograded" / student
    if outcome.autograded:
        if (dest / bundle.assignment).exists():
            shutil.rmtree(dest / bundle.assignment)
        write_tree(dest, outcome.autograded)
    notes = dest / f"{bundle.assignment}.notes.txt"
    notes.parent.mkdir(parents=True, exist_ok=True)
    notes.write_text("".join(n + "\n" for n in res.notes), encoding="utf-8")
    return res


def _run(
    client,
    bundle: Bundle,
    course_dir: Path,
    db_url: str,
    todo: list[str],
    results: list[SubmissionResult],
    say: Callable[[str], None],
) -> None:
    import warnings

    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    futures = {}
    with warnings.catch_warnings():
        # "large object in task graph": the bundle is sent once, a notebook once per student
        warnings.simplefilter("ignore", UserWarning)
        # a task, not scattered data: if every worker holding it dies, Dask recomputes it
        shared = client.submit(identity_bundle, bundle, key=f"bundle-{bundle.batch_id}", pure=False)
        graded = frozenset(n for n in bundle.release if "/" not in n and n.endswith(".ipynb"))
        for student in todo:
            task = submitted_task(
                course_dir, bundle.assignment, student, max_bytes=bundle.limits.notebook_bytes, graded=graded
            )
            fut = client.submit(
                grade_task,
                shared,
                task,
                key=f"grade-{bundle.batch_id}-{student}",
                pure=False,
                resources=grading_resources(client),
            )
            futures[fut] = student
    failures, n = 0, 0
    for fut in as_completed(list(futures)):
        student = futures.pop(fut)
        try:
            outcome = fut.result()
        except KilledWorker as exc:
            outcome = Outcome(
                SubmissionResult(
                    student,
                    STATUS_ERROR,
                    notes=[
                        "not graded: its autograde killed the Dask worker on every attempt "
                        f"(last: {getattr(exc, 'last_worker', None) or '?'}; Dask's allowed-failures)"
                    ],
                ),
                None,
            )
        except Exception as exc:  # a bug of ours, or a lost worker: not the batch's end
            outcome = Outcome(SubmissionResult(student, STATUS_ERROR, notes=[f"{type(exc).__name__}: {exc}"]), None)
        fut.release()
        res = record_outcome(course_dir, db_url, bundle, outcome)
        failures += res.status not in (STATUS_OK, STATUS_FLAGGED)
        n += 1
        results.append(res)
        where = f" on {res.worker}" if res.worker else ""
        say(
            f"[{n}/{len(todo)}] {student}: {res.status} {res.score:g}/{res.max_score:g} "
            f"({res.seconds:.1f} s{where}) failures={failures}"
        )


def identity_bundle(bundle: Bundle) -> Bundle:
    return bundle
