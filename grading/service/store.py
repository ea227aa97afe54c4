"""The grading service's own records: every submission as uploaded, its place in the queue and
its result, in one SQLite file only root reads. Nothing is ever deleted; a restart finds the
queue as it was (a submission being graded when the service stopped is queued again)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

QUEUED, GRADING, GRADED, ERROR = "queued", "grading", "graded", "error"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    student TEXT NOT NULL,
    notebook TEXT NOT NULL,
    submitted REAL NOT NULL,       -- the server's clock (Unix seconds) when it was taken
    status TEXT NOT NULL,          -- queued, grading, graded, error
    attempts INTEGER NOT NULL DEFAULT 0,
    finished REAL,
    score REAL,
    max_score REAL,
    result TEXT NOT NULL DEFAULT '{}',  -- exercises, message (JSON)
    counted INTEGER NOT NULL DEFAULT 0,
    body BLOB NOT NULL,            -- the notebook as uploaded
    feedback BLOB                  -- the feedback page (HTML)
);
CREATE INDEX IF NOT EXISTS by_student ON submissions (student, submitted);
CREATE INDEX IF NOT EXISTS by_status ON submissions (status, submitted);
"""


@dataclass
class Submission:
    """One row, without its notebook and page (see :meth:`Store.body`, :meth:`Store.feedback`)."""

    id: str
    student: str
    notebook: str
    submitted: datetime
    status: str
    attempts: int = 0
    score: float | None = None
    max_score: float | None = None
    result: dict = field(default_factory=dict)
    counted: bool = False
    has_feedback: bool = False


def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


_COLUMNS = "id, student, notebook, submitted, status, attempts, score, max_score, result, counted, feedback IS NOT NULL"


def _row(row: tuple) -> Submission:
    return Submission(
        id=row[0],
        student=row[1],
        notebook=row[2],
        submitted=_when(row[3]),
        status=row[4],
        attempts=row[5],
        score=row[6],
        max_score=row[7],
        result=json.loads(row[8]),
        counted=bool(row[9]),
        has_feedback=bool(row[10]),
    )


class Store:
    """The service's SQLite file; safe to use from the web handlers and the grading thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a taken submission survives a power cut
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def add(self, student: str, notebook: str, body: bytes, now: datetime, admit) -> Submission | object:
        """Take a submission if ``admit(earlier submission times)`` returns None (checked and
        written in one transaction); else return what ``admit`` returned."""
        with self._transaction() as db:
            earlier = [
                _when(r[0]) for r in db.execute("SELECT submitted FROM submissions WHERE student = ?", (student,))
            ]
            refusal = admit(earlier)
            if refusal is not None:
                return refusal
            sid = os.urandom(12).hex()
            db.execute(
                "INSERT INTO submissions (id, student, notebook, submitted, status, body) VALUES (?, ?, ?, ?, ?, ?)",
                (sid, student, notebook, now.timestamp(), QUEUED, body),
            )
        found = self.get(sid)
        assert found is not None
        return found

    def get(self, sid: str, student: str | None = None) -> Submission | None:
        """The submission ``sid`` (only if it is ``student``'s, when given)."""
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM submissions WHERE id = ?", (sid,)).fetchone()
        if row is None or (student is not None and row[1] != student):
            return None
        return _row(row)

    def of_student(self, student: str) -> list[Submission]:
        """The student's submissions, newest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM submissions WHERE student = ? ORDER BY submitted DESC", (student,)
            ).fetchall()
        return [_row(r) for r in rows]

    def body(self, sid: str) -> bytes:
        with self._lock:
            return bytes(self._db.execute("SELECT body FROM submissions WHERE id = ?", (sid,)).fetchone()[0])

    def feedback(self, sid: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT feedback FROM submissions WHERE id = ?", (sid,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def ahead_of(self, sub: Submission) -> int:
        """How many submissions wait or are graded before ``sub`` (0 when it is being graded)."""
        if sub.status != QUEUED:
            return 0
        with self._lock:
            (n,) = self._db.execute(
                "SELECT COUNT(*) FROM submissions WHERE status IN (?, ?) AND submitted < ?",
                (QUEUED, GRADING, sub.submitted.timestamp()),
            ).fetchone()
        return int(n)

    def requeue_interrupted(self) -> int:
        """Submissions a stopped service was grading go back to the queue; how many."""
        with self._transaction() as db:
            return db.execute("UPDATE submissions SET status = ? WHERE status = ?", (QUEUED, GRADING)).rowcount

    def next_queued(self, busy: set[str]) -> Submission | None:
        """The oldest queued submission of a student none of whose submissions is being graded,
        marked as being graded."""
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM submissions WHERE status = ? ORDER BY submitted", (QUEUED,)
            ).fetchall()
            grading = {r[0] for r in db.execute("SELECT student FROM submissions WHERE status = ?", (GRADING,))}
            for row in rows:
                if row[1] not in busy and row[1] not in grading:
                    db.execute(
                        "UPDATE submissions SET status = ?, attempts = attempts + 1 WHERE id = ?", (GRADING, row[0])
                    )
                    sub = _row(row)
                    sub.status, sub.attempts = GRADING, sub.attempts + 1
                    return sub
        return None

    def finish(
        self,
        sid: str,
        status: str,
        score: float | None,
        max_score: float | None,
        result: dict,
        feedback: bytes | None,
        now: datetime,
    ) -> None:
        """Record a submission's result (once: only a submission being graded takes one)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE submissions SET status = ?, score = ?, max_score = ?, result = ?, feedback = ?, finished = ? "
                "WHERE id = ? AND status = ?",
                (status, score, max_score, json.dumps(result), feedback, now.timestamp(), sid, GRADING),
            )

    def set_counted(self, student: str, sid: str) -> None:
        """``sid`` is the student's submission the gradebook holds (and no other)."""
        with self._transaction() as db:
            db.execute("UPDATE submissions SET counted = (id = ?) WHERE student = ?", (sid, student))

    def counts(self) -> dict[str, int]:
        """How many submissions are in each state."""
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM submissions GROUP BY status").fetchall())
