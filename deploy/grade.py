"""Grade the collected submissions of the course hub in the sandbox, as root (docs/hub.md).

    python3 deploy/grade.py multiclass_digits [python -m grading options, e.g. --skip-tail]

On the hub the Formgrader's Autograde button is off (it would run student code as the
instructor); this is the way to grade. It finds the instructor (the owner of the course's
folder in nbgrader's exchange) and their course folder and gradebook URL (their nbgrader
settings, which deploy/roster.py wrote), runs ``python -m grading`` from the course
environment there, every kernel in the grader's sandbox, and gives what it wrote
(``autograded/``, a new SQLite gradebook) back to the instructor, so that the Formgrader can
generate and release the feedback.
"""
from __future__ import annotations

import json
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from roster import chown_tree  # noqa: E402  (deploy/ is not a package: run as a script)
from settings import Settings, nbgrader_settings_file, settings  # noqa: E402


class GradeError(RuntimeError):
    """The hub's course is not set up for grading; nothing was graded."""


def instructor_of(cfg: Settings) -> pwd.struct_passwd:
    """The owner of the course's exchange folder (deploy/roster.py made it for the instructor)."""
    try:
        info = cfg.exchange_course.lstat()
    except FileNotFoundError:
        raise GradeError(f"no {cfg.exchange_course}: create the instructor with deploy/roster.py") from None
    if not stat.S_ISDIR(info.st_mode):
        raise GradeError(f"{cfg.exchange_course} is not a folder")
    return pwd.getpwuid(info.st_uid)


def course_of(instructor: pwd.struct_passwd) -> tuple[Path, str | None]:
    """The instructor's course folder and gradebook URL, from their nbgrader settings (JSON)."""
    path = nbgrader_settings_file(Path(instructor.pw_dir))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd) as fh:
            values = json.load(fh).get("CourseDirectory", {})
    except (OSError, ValueError) as exc:
        raise GradeError(f"cannot read {path}: {exc}") from exc
    course = Path(values.get("root", ""))
    try:
        info = course.lstat()
    except OSError as exc:
        raise GradeError(f"course folder {course!s}: {exc}") from exc
    if not course.is_absolute() or not stat.S_ISDIR(info.st_mode) or info.st_uid != instructor.pw_uid:
        raise GradeError(f"course folder {course} is not a folder of {instructor.pw_name}'s")
    db_url = values.get("db_url")
    return course, db_url if isinstance(db_url, str) and db_url else None


def keep_secrets(course: Path, assignment: str) -> None:
    """Copy each submission's ``submission_secret.txt`` (nbgrader's exchange writes it at submit)
    next to its autograded notebook, where generate_feedback looks for it: release_feedback
    names the released file after it, and fetch_feedback finds it by it. ``python -m grading``
    does not carry it over."""
    for folder in sorted((course / "submitted").glob(f"*/{assignment}")):
        secret = folder / "submission_secret.txt"
        target = course / "autograded" / folder.parent.name / assignment
        if secret.is_file() and not secret.is_symlink() and target.is_dir() and not target.is_symlink():
            dest = target / secret.name
            if not dest.exists():
                dest.write_bytes(secret.read_bytes())


def give_back(course: Path, instructor: pwd.struct_passwd) -> None:
    """What the grader (root) wrote in the course folder goes back to the instructor."""
    for name in ("autograded", "gradebook.db"):
        path = course / name
        if path.exists() and not path.is_symlink():
            if path.is_dir():
                chown_tree(path, instructor.pw_uid, instructor.pw_gid)
            else:
                os.lchown(path, instructor.pw_uid, instructor.pw_gid)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].startswith("-"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        if os.geteuid() != 0:
            raise GradeError("run as root: the sandbox's cgroups need it")
        cfg = settings()
        instructor = instructor_of(cfg)
        course, db_url = course_of(instructor)
        if db_url is None:
            db_url = cfg.db_url
        cmd = [str(cfg.python), "-m", "grading", *args, "--course-dir", str(course)]
        if db_url:
            cmd += ["--db", db_url]
        env = {**os.environ, "PATH": f"{cfg.python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        print(f"grade: {' '.join(c if c != db_url else '--db URL' for c in cmd)} (course of "
              f"{instructor.pw_name})", file=sys.stderr)
        try:
            code = subprocess.run(cmd, cwd=course, env=env).returncode
            keep_secrets(course, args[0])
        finally:
            give_back(course, instructor)
    except GradeError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
