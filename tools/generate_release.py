"""Regenerate release/multiclass_digits/ from the nbgrader source, reproducibly.

nbgrader writes a gradebook and logs into the course directory it runs in, so the
generation runs in a temporary copy of the course (nbgrader_config.py and source/),
and only the generated release/<assignment>/ is copied back.

    python tools/generate_release.py            # rewrite release/multiclass_digits/
    python tools/generate_release.py --check    # exit 1 if the committed release is stale
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "multiclass_digits"


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: this interpreter's bin/ first on PATH (nbgrader runs alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def generate(dest: Path, assignment: str = ASSIGNMENT) -> Path:
    """Generate the release of ``assignment`` in a temporary course copy; copy it to ``dest``.

    Returns ``dest`` (which is replaced entirely). Raises RuntimeError with nbgrader's
    output when generation fails.
    """
    src = ROOT / "source" / assignment
    if not (src / f"{assignment}.ipynb").is_file():
        raise FileNotFoundError(f"no nbgrader source notebook in {src}")
    with tempfile.TemporaryDirectory(prefix="nbgrader-release-") as tmp:
        course = Path(tmp)
        shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(
            src, course / "source" / assignment, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "nbgrader",
                "generate_assignment",
                assignment,
                "--force",
                f"--CourseDirectory.root={course}",
            ],
            cwd=course,
            env=nbgrader_env(),
            capture_output=True,
            text=True,
        )
        generated = course / "release" / assignment
        if proc.returncode != 0 or not generated.is_dir():
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{proc.stdout}\n{proc.stderr}")
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(generated, dest)
    return dest


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that differ (content, or present on one side only) between two trees."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()} if a.is_dir() else set()
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()} if b.is_dir() else set()
    out = sorted(str(p) for p in files_a ^ files_b)
    out += sorted(str(p) for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only compare with the committed release; exit 1 if they differ"
    )
    args = parser.parse_args(argv)
    committed = ROOT / "release" / ASSIGNMENT
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = generate(Path(tmp) / ASSIGNMENT)
            diff = differences(fresh, committed)
        if diff:
            print("release/ is out of date; run `python tools/generate_release.py`. Differs: " + ", ".join(diff))
            return 1
        print("release/ is up to date")
        return 0
    generate(committed)
    print(f"wrote {committed.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
