"""Grade the collected submissions of the course hub in the sandbox, as root (docs/hub.md).

    python3 deploy/grade.py multiclass_digits [python -m grading options, e.g. --skip-tail]

On the hub the Formgrader's Autograde button is off (it would run student code as the
instructor); this is the way to grade. It finds the instructor (the owner of the course's
folder in nbgrader's exchange) and their course folder and gradebook URL (their nbgrader
settings, which deploy/roster.py wrote), runs ``python -m grading`` from the course
environment on it (from ``/``, with root's copy of ``nbgrader_config.py`` in COURSE_HOME, never
the course folder's), every kernel in the sandbox, and gives what it wrote
(``autograded/``, a new SQLite gradebook) back to the instructor, so that the Formgrader can
generate and release the feedback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from settings import settings  # noqa: E402  (deploy/ is not a package: run as a script; puts the repo on the path)

from grading.service.course import CourseError as GradeError  # noqa: E402  (standard library only)
from grading.service.course import course_of, give_back, instructor_of  # noqa: E402


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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].startswith("-"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        if os.geteuid() != 0:
            raise GradeError("run as root: the sandbox's cgroups need it")
        cfg = settings()
        instructor = instructor_of(cfg.exchange_course)
        course, db_url = course_of(instructor)
        if db_url is None:
            db_url = cfg.db_url
        config = cfg.home / "nbgrader_config.py"  # root's copy: the course folder's would run as root
        if not config.is_file():
            raise GradeError(f"no {config}: run tools/install_hub.sh again")
        # -P and cwd /: no grading/ package of the course folder shadows the installed one
        cmd = [str(cfg.python), "-P", "-m", "grading", *args, "--course-dir", str(course), "--config", str(config)]
        if db_url:
            cmd += ["--db", db_url]
        env = {**os.environ, "PATH": f"{cfg.python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        print(
            f"grade: {' '.join(c if c != db_url else '--db URL' for c in cmd)} (course of {instructor.pw_name})",
            file=sys.stderr,
        )
        try:
            code = subprocess.run(cmd, cwd="/", env=env).returncode
            keep_secrets(course, args[0])
        finally:
            give_back(course, instructor)
    except GradeError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
