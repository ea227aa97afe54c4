"""Folders as values: every file under a folder as ``{relative path: bytes}``, and back."""

from __future__ import annotations

from pathlib import Path

from grading.errors import GradingError


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as {relative path: bytes}."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    """Write {relative path: bytes} under ``root``, refusing paths that leave it."""
    base = root.resolve()
    for rel, data in files.items():
        target = (root / rel).resolve()
        if base not in target.parents:
            raise GradingError(f"refusing to write {rel!r} outside {root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
