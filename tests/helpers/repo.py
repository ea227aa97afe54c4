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
