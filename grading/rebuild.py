"""Rebuilding a submission on the release skeleton: only answer-cell sources come from the student."""
from __future__ import annotations

import copy

from nbgrader.utils import is_solution


def grade_id(cell) -> str | None:
    """The nbgrader ``grade_id`` of a cell, or None for a cell nbgrader does not know."""
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") or None


def oversized_cell(nb, limit: int) -> str | None:
    """A note on the first cell of ``nb`` whose source is over ``limit`` characters, if any."""
    for i, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        n = len(source) if isinstance(source, str) else sum(len(str(s)) for s in source)
        if n > limit:
            name = grade_id(cell) or cell.get("id") or f"#{i + 1}"
            return f"cell {name!r} has {n} characters of source, over the limit of {limit}: not graded"
    return None


def rebuild_notebook(release_nb, submitted_nb) -> tuple[object, list[str]]:
    """The notebook to grade: the release notebook with the student's solution-cell sources.

    Only the source of cells that are solution cells in the release (matched by
    ``grade_id``, falling back to the cell id; the last match wins, as in nbgrader's
    DeduplicateIds) comes from the student. Everything else (read-only cells, test
    cells, metadata) comes from the release. Returns (notebook, notes on what changed).
    """
    nb = copy.deepcopy(release_nb)
    by_grade_id: dict[str, object] = {}
    by_cell_id: dict[str, object] = {}
    duplicates: set[str] = set()
    for cell in submitted_nb.cells:
        gid = grade_id(cell)
        if gid:
            if gid in by_grade_id:
                duplicates.add(gid)
            by_grade_id[gid] = cell
        if cell.get("id"):
            by_cell_id[cell["id"]] = cell
    used = set()
    notes: list[str] = []
    release_sources = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid:
            release_sources[gid] = cell.source
        if not is_solution(cell):
            continue
        student_cell = by_grade_id.get(gid) or by_cell_id.get(cell.get("id", ""))
        if student_cell is None:
            notes.append(f"answer cell {gid} missing")
            continue
        used.add(id(student_cell))
        if student_cell.get("cell_type") != cell.cell_type:
            notes.append(f"answer cell {gid} changed type")
        cell.source = student_cell.get("source", "")
    extra = 0
    restored = []
    for cell in submitted_nb.cells:
        if id(cell) in used:
            continue
        gid = grade_id(cell)
        if gid in release_sources:
            if cell.get("source", "") != release_sources[gid]:
                restored.append(gid)
            continue
        extra += 1
    release_gids = {g for g in release_sources}
    submitted_gids = set(by_grade_id)
    missing = sorted(release_gids - submitted_gids)
    if duplicates:
        notes.append("duplicate cells ignored: " + ", ".join(sorted(duplicates)))
    if restored:
        notes.append("edited read-only cells restored: " + ", ".join(sorted(set(restored))))
    if missing:
        notes.append("deleted cells restored: " + ", ".join(missing))
    # Cells without nbgrader metadata that are identical to a release cell are the
    # student's unchanged copies of read-only cells; others are extra cells.
    release_plain = {c.source for c in nb.cells if not grade_id(c)}
    extra_cells = [
        c for c in submitted_nb.cells
        if id(c) not in used and not grade_id(c)
        and c.get("source", "") not in release_plain and c.get("source", "").strip()
    ]
    if extra_cells:
        notes.append(f"{len(extra_cells)} extra cell(s) not graded")
    return nb, notes
