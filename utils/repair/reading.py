"""Reading a submitted notebook of any shape: bytes to JSON, JSON to the few facts of each cell.

Nothing here raises on a bad submission: a file that is no notebook becomes an
:class:`Unparsable` value saying why, in a few words, with the likely cause. Only what the
repair needs is kept of a cell (type, source, id, nbgrader's marks): outputs, attachments and
other metadata are never looked at, so a notebook full of ``{}`` costs no more than its JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

MAX_NOTEBOOK_BYTES = 20 << 20  # a submitted notebook file (the grader's sandbox limit)
MAX_CELLS = 10_000  # a notebook has tens; millions of empty cells fit in the size limit
MAX_CELL_CHARS = 1 << 20  # the source of one graded cell


@dataclass(frozen=True)
class Unparsable:
    """A submitted file that is not a notebook: ``reason`` says why and the likely cause."""

    reason: str


@dataclass(frozen=True)
class Cell:
    """What the repair knows of one cell (of the release or of a submission)."""

    position: int  # index in the notebook's list of cells
    cell_type: str
    source: str  # joined, with "\n" line endings
    cell_id: str | None
    grade_id: str | None
    solution: bool  # nbgrader: a cell the student answers in
    grade: bool  # nbgrader: a graded (test) cell
    carriage_returns: bool  # its source had Windows (or old Mac) line endings


@dataclass(frozen=True)
class Cells:
    """The cells of a notebook, or why there are none (``problem``)."""

    cells: tuple[Cell, ...]
    problem: str | None = None
    nbgrader_marks: bool = False  # some cell still carries nbgrader metadata
    upgraded: bool = False  # read from an nbformat 3 notebook, upgraded by nbformat


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


def parse_submission(raw: bytes, max_bytes: int = MAX_NOTEBOOK_BYTES) -> object:
    """The JSON value of a submitted file's bytes, or :class:`Unparsable` (never raises)."""
    try:
        if len(raw) > max_bytes:
            return Unparsable(f"{_size(len(raw))}, over the {_size(max_bytes)} limit of a notebook")
        if raw.startswith(b"PK\x03\x04"):
            return Unparsable("a zip archive, not a notebook (zipped before uploading?)")
        if raw.startswith(b"%PDF"):
            return Unparsable("a PDF file, not a notebook (exported instead of saved?)")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return Unparsable("a binary file, not a notebook (the wrong file uploaded?)")
        if "\x00" in text:
            return Unparsable("a binary file, not a notebook (the wrong file uploaded?)")
        if not text.strip():
            return Unparsable("an empty file (saved while the editor was closing?)")
        if text.lstrip()[:1] == "<":
            return Unparsable("an HTML page, not a notebook (the web page saved instead of the file?)")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            return Unparsable(
                f"invalid JSON at line {exc.lineno}, column {exc.colno} (the file is damaged or was cut short?)"
            )
    except RecursionError:
        return Unparsable("JSON nested too deeply to be a notebook")
    except Exception as exc:  # MemoryError and the like: still a result, never a crash
        return Unparsable(f"unreadable ({type(exc).__name__})")


def _source(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "".join(value)
    return None


def _cell(position: int, entry: object) -> Cell | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("cell_type"), str):
        return None
    source = _source(entry.get("source", ""))
    if source is None:
        return None
    meta = entry.get("metadata")
    marks = meta.get("nbgrader") if isinstance(meta, Mapping) else None
    marks = marks if isinstance(marks, Mapping) else {}
    gid = marks.get("grade_id")
    cid = entry.get("id")
    return Cell(
        position=position,
        cell_type=entry["cell_type"],
        source=source.replace("\r\n", "\n").replace("\r", "\n"),
        cell_id=cid if isinstance(cid, str) and cid else None,
        grade_id=gid if isinstance(gid, str) and gid else None,
        solution=marks.get("solution") is True,
        grade=marks.get("grade") is True,
        carriage_returns="\r" in source,
    )


def _upgrade_v3(data: Mapping) -> object | None:
    """An nbformat 3 notebook as nbformat upgrades it to version 4 (None if it cannot)."""
    import nbformat

    try:
        return json.loads(json.dumps(nbformat.convert(nbformat.from_dict(dict(data)), 4)))
    except Exception:  # a damaged version 3 file: not a notebook to grade
        return None


def _no_cells(problem: str) -> Cells:
    return Cells(cells=(), problem=problem)


def read_cells(data: object) -> Cells:
    """The cells of a notebook's JSON value (any shape), or why it has none usable."""
    if isinstance(data, Unparsable):
        return _no_cells(data.reason)
    if not isinstance(data, Mapping):
        return _no_cells("JSON, but not a notebook (the wrong file uploaded?)")
    version = data.get("nbformat")
    if version == 3 or "worksheets" in data and "cells" not in data:
        upgraded = _upgrade_v3(data)
        if upgraded is None:
            return _no_cells("an nbformat 3 notebook (saved by IPython 2 or older) that nbformat cannot upgrade")
        return replace(read_cells(upgraded), upgraded=True)
    if version not in (4, None):
        return _no_cells(f"nbformat {version!r}, not the version 4 this course uses")
    entries = data.get("cells")
    if not isinstance(entries, list):
        return _no_cells("JSON without a list of cells: not a notebook")
    if len(entries) > MAX_CELLS:
        return _no_cells(f"{len(entries)} cells, over the {MAX_CELLS} of a notebook")
    if not entries:
        return _no_cells("the notebook has no cells (an empty notebook submitted?)")
    cells = tuple(c for i, e in enumerate(entries) if (c := _cell(i, e)) is not None)
    if not cells:
        return _no_cells("no cell of the notebook is readable")
    marks = any(
        isinstance(e, Mapping)
        and isinstance(e.get("metadata"), Mapping)
        and isinstance(e["metadata"].get("nbgrader"), Mapping)
        for e in entries
    )
    return Cells(cells=cells, nbgrader_marks=marks)
