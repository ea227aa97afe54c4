"""Rebuilding a submission on the release skeleton: only answer-cell sources come from the student."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.utils import is_solution

from grading.extensions.cells import grade_id

#: nbgrader's marks of a cell (``metadata.nbgrader``): nothing else of the metadata is read
NBGRADER_KEYS = ("grade_id", "solution", "grade", "locked", "points", "schema_version", "task", "checksum", "cell_type")
MAX_CELLS = 10_000  # a notebook has tens; millions of empty cells fit in the size limit


class Unreadable(ValueError):
    """A submitted notebook that is not read (the message says why)."""


def _slim_cell(cell) -> dict:
    """The parts of a submitted cell the rebuild reads: type, id, source, nbgrader's marks."""
    if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
        raise Unreadable("a cell that is not a notebook cell")
    source = cell.get("source", "")
    if not isinstance(source, (str, list)) or isinstance(source, list) and not all(isinstance(s, str) for s in source):
        raise Unreadable("a cell source that is not text")
    slim = {"cell_type": cell["cell_type"], "source": source, "metadata": {}}
    if isinstance(cell.get("id"), str):
        slim["id"] = cell["id"]
    meta = cell.get("metadata")
    marks = meta.get("nbgrader") if isinstance(meta, dict) else None
    if isinstance(marks, dict):
        slim["metadata"]["nbgrader"] = {
            k: marks[k] for k in NBGRADER_KEYS if isinstance(marks.get(k), (str, int, float, bool))
        }
    if cell["cell_type"] == "code":
        slim.update(outputs=[], execution_count=None)
    return slim


def read_submission(source: bytes | str | Path):
    """A submitted notebook (its bytes, or the path of its file), reduced to what
    :func:`rebuild_notebook` takes from it.

    nbformat turns every JSON value into a NotebookNode and validates it: about 170 bytes
    of the worker's memory per byte of a notebook whose outputs or metadata are full of
    ``{}`` (a 20 MB file: over 3 GB and most of a minute, outside any sandbox limit). Only
    ``json.loads`` (about 25 bytes per byte) sees the whole file; outputs, attachments and
    metadata other than nbgrader's are dropped before nbformat sees the rest.
    """
    data = json.loads(source if isinstance(source, bytes) else Path(source).read_bytes())
    if (
        not isinstance(data, dict)
        or data.get("nbformat") != 4
        or not isinstance(data.get("cells"), list)
        or not isinstance(data.get("nbformat_minor", 0), int)
    ):
        raise Unreadable("not a version 4 notebook")
    if len(data["cells"]) > MAX_CELLS:
        raise Unreadable(f"{len(data['cells'])} cells, over the {MAX_CELLS} of a notebook")
    slim = {
        "nbformat": 4,
        "nbformat_minor": data.get("nbformat_minor", 0),
        "metadata": {},
        "cells": [_slim_cell(c) for c in data["cells"]],
    }
    return nbformat.reads(json.dumps(slim), as_version=4)


def oversized_cell(nb, limit: int) -> str | None:
    """A note on the first cell of ``nb`` whose source is over ``limit`` characters, if any."""
    for i, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        n = len(source) if isinstance(source, str) else sum(len(str(s)) for s in source)
        if n > limit:
            name = grade_id(cell) or cell.get("id") or f"#{i + 1}"
            return f"cell {name!r} has {n} characters of source, over the limit of {limit}: not graded"
    return None


def rebuild_notebook(release_nb: NotebookNode, submitted_nb: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """The notebook to grade: the release notebook with the student's solution-cell sources.

    Only the source of cells that are solution cells in the release (matched by
    ``grade_id``, falling back to the cell id; the last match wins, as in nbgrader's
    DeduplicateIds) comes from the student. Everything else (read-only cells, test
    cells, metadata) comes from the release. Returns (notebook, notes on what changed).
    """
    nb = copy.deepcopy(release_nb)
    by_grade_id: dict[str, NotebookNode] = {}
    by_cell_id: dict[str, NotebookNode] = {}
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
        student_cell = by_grade_id.get(gid or "") or by_cell_id.get(cell.get("id", ""))
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
        c
        for c in submitted_nb.cells
        if id(c) not in used
        and not grade_id(c)
        and c.get("source", "") not in release_plain
        and c.get("source", "").strip()
    ]
    if extra_cells:
        notes.append(f"{len(extra_cells)} extra cell(s) not graded")
    return nb, notes
