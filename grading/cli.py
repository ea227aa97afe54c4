"""Command line: ``python -m grading ASSIGNMENT [options]``."""

from __future__ import annotations

import argparse
import shlex
import sys

from grading.batch.coordinator import autograde_all
from grading.batch.options import Options
from grading.batch.results import STATUS_FLAGGED, STATUS_MISSING, STATUS_OK, STATUS_SKIPPED
from grading.errors import GradingError
from grading.limits import LEVEL_SUMMARY, LEVELS, Limits, format_size, parse_size


def parser() -> argparse.ArgumentParser:
    """The flags; every default is :class:`Options`' (and its :class:`Limits`')."""
    default = Options()
    limits = default.limits
    levels = "; ".join(
        f"{level}{' (default)' if level == default.isolation else ''}: {LEVEL_SUMMARY[level]}" for level in LEVELS
    )
    p = argparse.ArgumentParser(
        prog="python -m grading",
        description="Autograde all submissions of an nbgrader assignment on Dask distributed "
        "(an embedded local cluster, or --scheduler), each student's kernel in its "
        "own sandbox on the worker.",
    )
    p.add_argument("assignment")
    p.add_argument(
        "--workers",
        type=int,
        default=default.workers,
        help="worker processes of the embedded Dask cluster, one autograde each "
        "(default: number of cores; ignored with --scheduler)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="grade on an existing Dask cluster (tcp:// or tls://) instead of an "
        "embedded one; workers need only this project and its requirements",
    )
    p.add_argument("--tls-ca-file", default=None, help="CA certificate (PEM) for a tls:// scheduler")
    p.add_argument("--tls-cert", default=None, help="client certificate (PEM) for a tls:// scheduler")
    p.add_argument("--tls-key", default=None, help="client private key (PEM) for a tls:// scheduler")
    p.add_argument(
        "--regrade",
        action="store_true",
        help="grade again the students the gradebook already has a result for "
        "(default: skip them, so an interrupted batch can be rerun)",
    )
    p.add_argument("--db", default=None, help="gradebook URL (default: sqlite:///COURSE_DIR/gradebook.db)")
    p.add_argument(
        "--course-dir", default=default.course_dir, help=f"nbgrader course directory (default: {default.course_dir})"
    )
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="nbgrader config (Python) of the batch (default: COURSE_DIR/nbgrader_config.py)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=default.timeout,
        help=f"wall-clock seconds per submission (default {default.timeout:g})",
    )
    p.add_argument(
        "--cell-timeout",
        type=int,
        default=default.cell_timeout,
        help=f"seconds per cell before it is interrupted (default {default.cell_timeout})",
    )
    p.add_argument("--student", action="append", default=None, help="grade only this student (repeatable)")
    p.add_argument("--skip-tail", action="store_true", help="do not run the cells after the last graded cell (faster)")
    p.add_argument("--no-restore", action="store_true", help="only report changed course files, do not put them back")
    # argparse's choices only for --help and its usage error: Options checks the level
    p.add_argument("--isolation", choices=LEVELS, default=default.isolation, help=levels)
    memory, file_size = format_size(limits.memory), format_size(limits.file_size)
    p.add_argument("--memory", default=memory, help=f"memory limit per submission (default {memory})")
    p.add_argument(
        "--pids", type=int, default=limits.pids, help=f"processes and threads per submission (default {limits.pids})"
    )
    p.add_argument("--file-size", default=file_size, help=f"largest file a submission may write (default {file_size})")
    p.add_argument(
        "--kernel-threads",
        type=int,
        default=limits.threads,
        help=f"compute threads (TensorFlow, BLAS) of each kernel (default {limits.threads}: "
        "one core per worker; run one worker per core)",
    )
    return p


def next_steps(assignment: str, course_dir: str, db_url: str | None) -> str:
    """The instructor's next commands after a batch (docs/instructors.md, 6-8, and docs/lms.md)."""
    a = shlex.quote(assignment)
    db = f" --db={shlex.quote(db_url)}" if db_url else ""
    where = "" if course_dir in (".", "") else f" (cd {shlex.quote(str(course_dir))})"
    return "\n".join(
        [
            f"Next, in the course folder{where}:",
            f"  nbgrader generate_feedback {a} --force{db}   # feedback/<student>/{assignment}/*.html",
            f"  python -m grading.extensions.lms_feedback {a}   # LMS: the pages zipped to upload (docs/lms.md)",
            f"  nbgrader export{db}   # grades.csv",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:  # Limits and Options check every value; cpu_seconds follows the timeout (Options.kernel_limits)
        limits = Limits(
            memory=parse_size(args.memory),
            pids=args.pids,
            file_size=parse_size(args.file_size),
            threads=args.kernel_threads,
        )
        opts = Options(
            course_dir=args.course_dir,
            db_url=args.db,
            config_file=args.config,
            workers=args.workers,
            scheduler=args.scheduler,
            tls_ca_file=args.tls_ca_file,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            regrade=args.regrade,
            timeout=args.timeout,
            cell_timeout=args.cell_timeout,
            students=args.student,
            restore_course_files=not args.no_restore,
            skip_tail=args.skip_tail,
            isolation=args.isolation,
            limits=limits,
        )
        results = autograde_all(args.assignment, opts)
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(next_steps(args.assignment, str(args.course_dir), args.db))
    return 0 if all(r.status in (STATUS_OK, STATUS_FLAGGED, STATUS_MISSING, STATUS_SKIPPED) for r in results) else 1
