"""The course on the hub as root finds it (no imports beyond the standard library: the hub's
deploy/ scripts use this with Debian's Python): the instructor (owner of the course's folder in
nbgrader's exchange), their course folder and gradebook URL (their nbgrader settings, which
deploy/roster.py wrote), and giving back to the instructor what root wrote there."""

from __future__ import annotations

import json
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path


class CourseError(RuntimeError):
    """The hub's course is not set up for grading; nothing was graded."""


def nbgrader_settings_file(home: Path) -> Path:
    """The instructor's own nbgrader settings (course root, gradebook URL), JSON."""
    return home / ".jupyter" / "nbgrader_config.json"


@dataclass(frozen=True)
class Course:
    instructor: pwd.struct_passwd
    folder: Path  # nbgrader's course root, the instructor's
    db_url: str | None  # None: the default (an SQLite gradebook.db in the folder)


def instructor_of(exchange_course: Path) -> pwd.struct_passwd:
    """The owner of the course's exchange folder (deploy/roster.py made it for the instructor)."""
    try:
        info = exchange_course.lstat()
    except FileNotFoundError:
        raise CourseError(f"no {exchange_course}: create the instructor with deploy/roster.py") from None
    if not stat.S_ISDIR(info.st_mode):
        raise CourseError(f"{exchange_course} is not a folder")
    return pwd.getpwuid(info.st_uid)


def course_of(instructor: pwd.struct_passwd) -> tuple[Path, str | None]:
    """The instructor's course folder and gradebook URL, from their nbgrader settings (JSON)."""
    path = nbgrader_settings_file(Path(instructor.pw_dir))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd) as fh:
            values = json.load(fh).get("CourseDirectory", {})
    except (OSError, ValueError) as exc:
        raise CourseError(f"cannot read {path}: {exc}") from exc
    course = Path(values.get("root", ""))
    try:
        info = course.lstat()
    except OSError as exc:
        raise CourseError(f"course folder {course!s}: {exc}") from exc
    if not course.is_absolute() or not stat.S_ISDIR(info.st_mode) or info.st_uid != instructor.pw_uid:
        raise CourseError(f"course folder {course} is not a folder of {instructor.pw_name}'s")
    db_url = values.get("db_url")
    return course, db_url if isinstance(db_url, str) and db_url else None


def find_course(exchange_course: Path, default_db_url: str | None = None) -> Course:
    """The course as the exchange and the instructor's settings give it."""
    instructor = instructor_of(exchange_course)
    folder, db_url = course_of(instructor)
    return Course(instructor, folder, db_url or default_db_url)


def chown_tree(path: Path, uid: int, gid: int) -> None:
    """chown a folder and everything in it, never following a symbolic link."""
    os.lchown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def give_back(
    folder: Path, instructor: pwd.struct_passwd, names: tuple[str, ...] = ("autograded", "gradebook.db")
) -> None:
    """What the grader (root) wrote in the course folder goes back to the instructor."""
    for name in names:
        path = folder / name
        if path.exists() and not path.is_symlink():
            if path.is_dir():
                chown_tree(path, instructor.pw_uid, instructor.pw_gid)
            else:
                os.lchown(path, instructor.pw_uid, instructor.pw_gid)
