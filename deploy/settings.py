"""The course hub's names and settings, shared by deploy/roster.py and deploy/grade.py.

Settings are environment variables with the defaults below (docs/hub.md); every script and
the hub read the same ones.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

COURSE_ID = "multiclass-digits"  # the repository's nbgrader_config.py says the same
ASSIGNMENT = "multiclass_digits"
STUDENTS_GROUP = f"{COURSE_ID}-students"
INSTRUCTORS_GROUP = f"{COURSE_ID}-instructors"
ROLES = {"student": STUDENTS_GROUP, "instructor": INSTRUCTORS_GROUP}
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # grading.service.course: the standard library only
from grading.service.course import nbgrader_settings_file  # noqa: E402,F401  (roster.py's, grade.py's)


@dataclass(frozen=True)
class Settings:
    """Where the course lives on this server."""

    home: Path  # the course environment (COURSE_HOME)
    exchange: Path  # nbgrader's exchange root (COURSE_EXCHANGE)
    db_url: str | None  # gradebook URL (COURSE_DB); None: SQLite in the course folder

    @property
    def python(self) -> Path:
        return self.home / "env" / "bin" / "python"

    @property
    def exchange_course(self) -> Path:
        return self.exchange / COURSE_ID


def settings(environ: dict[str, str] | None = None) -> Settings:
    """The settings from the environment (COURSE_HOME, COURSE_EXCHANGE, COURSE_DB)."""
    env = os.environ if environ is None else environ
    db = env.get("COURSE_DB", "").strip()
    if db in ("", "sqlite"):
        db_url = None
    elif db.startswith("postgresql"):
        db_url = db
    else:
        raise ValueError(
            f"COURSE_DB={db!r}: use 'sqlite' (the default) or a "
            "postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DATABASE URL"
        )
    return Settings(
        home=Path(env.get("COURSE_HOME", "/opt/multiclass-digits")),
        exchange=Path(env.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")),
        db_url=db_url,
    )


def course_folder(home: Path) -> Path:
    """The instructor's course folder (nbgrader's course root) in their home."""
    return home / COURSE_ID
