"""Integrity of the installed course packages: bytes snapshotted at the start of a batch.

After every submission the installed files are compared with the snapshot; anything
changed is restored (or only reported) and the submission is flagged. The snapshot also
writes each workspace's private, importable copy of the packages.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grading.errors import GradingError

PROTECTED_PACKAGES: tuple[str, ...] = ("utils", "public_tests")


def package_dir(name: str) -> Path:
    """Where the importable package ``name`` lives (found by import, never by cwd)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise GradingError(f"the course package {name!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def _package_files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


@dataclass
class PackageSnapshot:
    """Bytes of every file of the course packages, read at the start of a batch."""

    roots: dict[str, Path]
    files: dict[str, dict[str, bytes]]

    @classmethod
    def take(cls, names: Iterable[str] = PROTECTED_PACKAGES) -> PackageSnapshot:
        roots, files = {}, {}
        for name in names:
            try:
                root = package_dir(name)
            except GradingError:
                continue
            roots[name] = root
            files[name] = {str(p.relative_to(root)): p.read_bytes() for p in _package_files(root)}
        return cls(roots, files)

    def write_copy(self, dest: Path) -> None:
        """Write a private, importable copy of the packages under ``dest``."""
        for name, members in self.files.items():
            for rel, data in members.items():
                target = dest / name / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

    def restore_changes(self, write: bool = True) -> list[str]:
        """Put back any installed file that changed or vanished; return their names.

        With ``write=False`` only report them.
        """
        changed = []
        for name, members in self.files.items():
            root = self.roots[name]
            for rel, data in members.items():
                path = root / rel
                try:
                    same = path.is_file() and path.read_bytes() == data
                except OSError:
                    same = False
                if not same and not write:
                    changed.append(f"{name}/{rel}")
                elif not same:
                    if path.is_symlink() or path.is_dir():
                        shutil.rmtree(path) if path.is_dir() else path.unlink()
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    changed.append(f"{name}/{rel}")
            for path in _package_files(root):
                rel = str(path.relative_to(root))
                if rel not in members and path.suffix == ".py":
                    if write:
                        path.unlink()  # a planted module has no business in the package
                    changed.append(f"{name}/{rel} (added)")
        return changed
