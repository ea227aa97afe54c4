"""The gradebook: URLs, the course id, reading a private gradebook, writing the real one.

Only the parent process of a batch writes the real gradebook (SQLite or PostgreSQL), one
submission at a time; SQLite is opened with a busy timeout and locked writes are retried,
in case an instructor's formgrader holds the database at the same moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from grading.errors import GradingError


def course_id_of(course_dir: Path, config_file: Path | str | None = None) -> str:
    """The ``CourseDirectory.course_id`` set in the course's nbgrader config (``config_file``,
    default: ``course_dir/nbgrader_config.py``), or nbgrader's default."""
    cfg_file = Path(config_file) if config_file is not None else course_dir / "nbgrader_config.py"
    if cfg_file.is_file():
        from traitlets.config.loader import PyFileConfigLoader

        cfg = PyFileConfigLoader(cfg_file.name, path=str(cfg_file.parent)).load_config()
        value = cfg.get("CourseDirectory", {}).get("course_id")
        if isinstance(value, str) and value:
            return value
    return "default_course"


def sqlite_url(path: Path) -> str:
    """An SQLAlchemy URL for the SQLite file ``path``."""
    return f"sqlite:///{Path(path).resolve()}"


def sqlite_file(db_url: str) -> Path | None:
    """The file of an ``sqlite:///PATH`` URL (query string left out); None for other databases."""
    if not db_url.startswith("sqlite:///"):
        return None
    return Path(db_url[len("sqlite:///") :].split("?")[0])


def _with_busy_timeout(db_url: str) -> str:
    """Add a 60 s busy timeout to SQLite URLs (pysqlite's ``timeout`` connect argument)."""
    if db_url.startswith("sqlite:") and "timeout=" not in db_url:
        return db_url + ("&" if "?" in db_url else "?") + "timeout=60"
    return db_url


def check_db_url(db_url: str) -> str:
    """Fail early, with a clear message, on a database URL nbgrader cannot use."""
    if not db_url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg2://")):
        raise GradingError(
            f"unsupported gradebook URL {db_url!r}: use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
        )
    if db_url.startswith("postgresql"):
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError

        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise GradingError(f"cannot connect to the gradebook {db_url!r}: {exc.orig}") from None
        finally:
            engine.dispose()
    return db_url


def _retry(fn: Callable[[], object], attempts: int = 8) -> object:
    """Run a gradebook transaction, retrying when the database is momentarily locked."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def gradebook_knows(db_url: str, course_id: str, assignment: str) -> bool:
    """Whether the gradebook already has ``assignment`` (with its notebooks)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(_with_busy_timeout(db_url), course_id) as gb:
        try:
            return len(gb.find_assignment(assignment).notebooks) > 0
        except MissingEntry:
            return False


def read_private_grades(db_path: Path, course_id: str, assignment: str, student: str) -> dict:
    """Grades, comments and late penalties nbgrader stored in a private gradebook."""
    from nbgrader.api import Gradebook

    out: dict = {"notebooks": {}, "timestamp": None}
    with Gradebook(sqlite_url(db_path), course_id) as gb:
        sub = gb.find_submission(assignment, student)
        out["timestamp"] = sub.timestamp
        for nb in sub.notebooks:
            out["notebooks"][nb.name] = {
                "late_penalty": nb.late_submission_penalty,
                "grades": {g.name: (g.auto_score, g.needs_manual_grade, g.max_score) for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
            }
    return out


def record_result(
    db_url: str,
    course_id: str,
    assignment: str,
    student: str,
    private: dict | None,
) -> tuple[float, float, dict[str, float | None]]:
    """Write one submission's grades into the real gradebook (parent process, one at a time).

    ``private`` is what :func:`read_private_grades` returned, or ``None`` when the
    submission could not be graded (timeout, crash): then every autograded cell gets 0
    and is marked for manual review. Returns (score, max_score, {grade_id: auto_score}).
    """
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    def transaction() -> tuple[float, float, dict[str, float | None]]:
        with warnings.catch_warnings(), Gradebook(_with_busy_timeout(db_url), course_id) as gb:
            # nbgrader's own update_or_create_submission triggers a harmless SAWarning
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_student(student)
            ts = private["timestamp"] if private else None
            sub = gb.update_or_create_submission(assignment, student, timestamp=ts)
            seen: dict[str, float | None] = {}
            for nb in sub.notebooks:
                info = (private or {}).get("notebooks", {}).get(nb.name)
                if info is not None:
                    nb.late_submission_penalty = info["late_penalty"]
                for grade in nb.grades:
                    if info is not None and grade.name in info["grades"]:
                        auto, needs_manual, _ = info["grades"][grade.name]
                        grade.auto_score = auto
                        grade.needs_manual_grade = needs_manual
                    else:
                        grade.auto_score = 0.0 if grade.cell.max_score else None
                        grade.needs_manual_grade = True
                    seen[grade.name] = grade.auto_score
                for comment in nb.comments:
                    if info is not None and comment.name in info["comments"]:
                        comment.auto_comment = info["comments"][comment.name]
            gb.db.commit()
            sub = gb.find_submission(assignment, student)
            return float(sub.score), float(sub.max_score), seen

    return _retry(transaction)  # type: ignore[return-value]


def copy_duedate(src_url: str, dst_url: str, course_id: str, assignment: str) -> None:
    """Give the gradebook at ``dst_url`` the due date ``src_url`` has for ``assignment``."""
    from nbgrader.api import Gradebook

    with Gradebook(_with_busy_timeout(src_url), course_id) as gb:
        duedate = gb.find_assignment(assignment).duedate
    if duedate is not None:
        with Gradebook(dst_url, course_id) as gb:
            gb.update_or_create_assignment(assignment, duedate=duedate)


def graded_students(db_url: str, course_id: str, assignment: str) -> dict[str, tuple[float, float]]:
    """{student: (score, max score)} of the submissions the gradebook already holds."""
    from nbgrader.api import Gradebook, MissingEntry

    main_file = sqlite_file(db_url)
    if main_file is not None and not main_file.exists():
        return {}
    with Gradebook(db_url, course_id) as gb:
        try:
            subs = gb.assignment_submissions(assignment)
        except MissingEntry:
            return {}
        return {s.student.id: (float(s.score), float(s.max_score)) for s in subs}


def cell_max_scores(db_url: str, course_id: str, assignment: str) -> dict[str, float]:
    """{grade_id: max points} of the assignment's autograded test cells, from the gradebook."""
    from nbgrader.api import Gradebook

    out: dict[str, float] = {}
    with Gradebook(db_url, course_id) as gb:
        for nb in gb.find_assignment(assignment).notebooks:
            for cell in nb.grade_cells:
                if cell.cell_type == "code" and cell.max_score:
                    out[cell.name] = float(cell.max_score)
    return out
