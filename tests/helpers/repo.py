"""Where things are in the repository, found from this package's location (never the cwd)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

#: the repository root (tests/helpers/ is two levels below it)
ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
TOOLS = ROOT / "tools"

#: the graded lab's nbgrader assignment name, and its source and release notebooks
LAB = "multiclass_digits"
SOURCE_NB = ROOT / "source" / LAB / f"{LAB}.ipynb"
RELEASE_NB = ROOT / "release" / LAB / f"{LAB}.ipynb"


def import_tool(name: str) -> ModuleType:
    """Import the script ``tools/<name>.py`` as a module (tools/ is a folder of scripts, not a
    package); imported once, then the same module object is returned."""
    key = f"course_tools_{name}"
    if key in sys.modules:
        return sys.modules[key]
    path = TOOLS / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no tool {name!r}: {path} is missing")
    spec = importlib.util.spec_from_file_location(key, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]
        raise
    return module


def not_ignored(course: Path) -> list[str]:
    """The files of a course folder that this repository would commit if the course were its
    root (the instructor's case): neither tracked (course material) nor matched by .gitignore.
    After an instructor's command has run there, anything listed is student data at risk."""
    import subprocess

    files = sorted(p.relative_to(course).as_posix() for p in course.rglob("*") if p.is_file())
    tracked = set(subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True,
                                 text=True, check=True).stdout.splitlines())
    candidates = [f for f in files if f not in tracked]
    done = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--no-index", "--stdin"],
                          input="\n".join(candidates), capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: nothing ignored
        raise RuntimeError(f"git check-ignore failed: {done.stderr}")
    return [f for f in candidates if f not in set(done.stdout.splitlines())]
