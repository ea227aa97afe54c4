"""grading/__init__.py's module map names every module of the package, under its own package."""
from __future__ import annotations

import re

import grading
from helpers.repo import ROOT


def _modules_on_disk() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / "grading").rglob("*.py")):
        package = ".".join(path.relative_to(ROOT).parent.parts)
        if path.name != "__init__.py":
            out.setdefault(package, set()).add(path.stem)
    return out


def _modules_in_map(doc: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    package = None
    for line in doc.splitlines():
        head = re.match(r"``(grading[.\w]*)`` \(", line)
        if head:
            package = head.group(1)
            continue
        entry = re.match(r"    ``(\w+)``\s", line)
        if entry and package:
            out.setdefault(package, set()).add(entry.group(1))
    return out


def test_the_module_map_lists_every_module_where_it_lives():
    assert grading.__doc__
    on_disk, in_map = _modules_on_disk(), _modules_in_map(grading.__doc__)
    assert set(on_disk) == {"grading", "grading.batch", "grading.extensions", "grading.isolation", "grading.service"}
    for package, modules in on_disk.items():
        assert in_map.get(package, set()) == modules, package
