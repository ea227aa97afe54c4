"""The course's rules for submissions through the grading service: which one counts, how many
in how long, until when, how large. All judged by the server's clock, never the student's."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from grading.errors import GradingError

COUNTING = ("latest", "best")
_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
MIB = 1 << 20


@dataclass(frozen=True)
class Refusal:
    """Why a submission is not taken: HTTP status, a sentence for the student, when to try again."""

    status: int
    message: str
    retry_after: datetime | None = None


@dataclass(frozen=True)
class Policy:
    """The course settings of the grading service (environment variables, see :func:`from_env`)."""

    counting: str = "latest"  # which graded submission the gradebook holds: latest or best
    limit: int = 10  # at most this many submissions per student...
    window: float = 3600.0  # ...in any this many seconds
    deadline: datetime | None = None  # None: the assignment's due date in the gradebook, if any
    max_bytes: int = 8 * MIB  # the largest notebook taken

    def __post_init__(self) -> None:
        if self.counting not in COUNTING:
            raise GradingError(f"COURSE_SUBMIT_COUNTING={self.counting!r}: use one of {', '.join(COUNTING)}")
        if self.limit < 1 or self.window <= 0:
            raise GradingError("COURSE_SUBMIT_LIMIT: at least one submission in a positive time")
        if self.deadline is not None and self.deadline.tzinfo is None:
            raise GradingError("COURSE_SUBMIT_DEADLINE needs a time zone, e.g. 2026-12-20T23:59:00+01:00")

    def describe(self) -> str:
        return f"counting {self.counting}, at most {self.limit} per {_duration(self.window)}"

    def counts(self, score: float, counted: float | None) -> bool:
        """Whether a newly graded submission with ``score`` becomes the counted one, the student's
        counted one so far having ``counted`` (None: none yet). Best: ties go to the newer."""
        return self.counting == "latest" or counted is None or score >= counted

    def admit(self, now: datetime, earlier: Sequence[datetime], deadline: datetime | None) -> Refusal | None:
        """None if a student whose submissions so far were made at ``earlier`` may submit at
        ``now``; else why not. ``deadline`` is the one in force (this policy's, or the
        gradebook's due date)."""
        if deadline is not None and now > deadline:
            return Refusal(
                403,
                f"The deadline was {deadline.astimezone(UTC):%Y-%m-%d %H:%M} UTC (server time): "
                "no more submissions are taken. Your last graded submission stands.",
            )
        recent = sorted(t for t in earlier if now - t < timedelta(seconds=self.window))
        if len(recent) >= self.limit:
            retry = recent[len(recent) - self.limit] + timedelta(seconds=self.window)
            return Refusal(
                429,
                f"You have made {len(recent)} submissions in the last {_duration(self.window)} (the course "
                f"allows {self.limit}). Your next submission is possible at {retry:%H:%M:%S} UTC "
                "(server time); your notebook is unchanged and nothing was graded.",
                retry,
            )
        return None


def _duration(seconds: float) -> str:
    for unit, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % unit == 0:
            n = int(seconds // unit)
            return f"{n} {name}s" if n != 1 else name
    return f"{seconds:g} seconds"


def parse_limit(text: str) -> tuple[int, float]:
    """``N/PERIOD``: N submissions per PERIOD, a number of seconds or with a unit (``10/h``,
    ``3/30min``, ``20/1d``)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(s|min|h|d)?\s*", text)
    if not m or (m.group(2) is None and m.group(3) is None):
        raise GradingError(f"COURSE_SUBMIT_LIMIT={text!r}: write N/PERIOD, e.g. 10/h, 3/30min or 5/600")
    count = int(m.group(1))
    window = float(m.group(2) or 1) * _UNITS[m.group(3) or "s"]
    return count, window


def parse_deadline(text: str) -> datetime:
    """An ISO 8601 date and time with its time zone."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise GradingError(f"COURSE_SUBMIT_DEADLINE={text!r}: not an ISO 8601 date and time") from None
    if when.tzinfo is None:
        raise GradingError(f"COURSE_SUBMIT_DEADLINE={text!r} needs a time zone, e.g. 2026-12-20T23:59:00+01:00")
    return when


def from_env(env: Mapping[str, str] | None = None) -> Policy:
    """The policy from COURSE_SUBMIT_COUNTING (latest), COURSE_SUBMIT_LIMIT (10/h),
    COURSE_SUBMIT_DEADLINE (none: the gradebook's due date) and COURSE_SUBMIT_MAX_MB (8)."""
    env = os.environ if env is None else env
    count, window = parse_limit(env.get("COURSE_SUBMIT_LIMIT", "10/h"))
    deadline = env.get("COURSE_SUBMIT_DEADLINE", "").strip()
    try:
        max_mb = float(env.get("COURSE_SUBMIT_MAX_MB", "8"))
    except ValueError:
        raise GradingError(f"COURSE_SUBMIT_MAX_MB={env.get('COURSE_SUBMIT_MAX_MB')!r}: a number of MiB") from None
    return Policy(
        counting=env.get("COURSE_SUBMIT_COUNTING", "latest").strip().lower(),
        limit=count,
        window=window,
        deadline=parse_deadline(deadline) if deadline else None,
        max_bytes=int(max_mb * MIB),
    )
