"""The notebook to grade: the release with only the student's graded-cell code put in.

:func:`repair_submission` is the one repair that both graders (nbgrader's plain path through
``grading.extensions.repair``, and ``python -m grading``) and the students' ``python -m
utils.refresh`` use. Tests and every other cell always come from the release, so a repair can
never earn points the answers do not earn; where a graded cell cannot be found, the release's
unanswered cell stays (the exercise scores 0) and the result says so.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import nbformat

from utils.repair.matching import BY_CELL_ID, BY_GRADE_ID, BY_POSITION, Found, Matcher
from utils.repair.reading import Cell, read_cells

STATUS_OK = "ok"  # every graded cell where nbgrader expects it; nothing else to repair
STATUS_REPAIRED = "repaired"  # every graded cell found; something else repaired (see the note)
STATUS_INCOMPLETE = "incomplete"  # some graded cell not found: its exercise scores 0
STATUS_UNREADABLE = "unreadable"  # not a notebook: every exercise scores 0

METADATA_LOST = "nbgrader metadata missing: re-saved by another editor?"
_BY_LINES = ("# GRADED CELL lines", "# GRADED CELL lines")  # markers, or the release's unchanged cell
_HOW = {BY_CELL_ID: ("cell id", "cell ids"), BY_POSITION: ("place in the notebook", "places in the notebook")}


@dataclass(frozen=True)
class Repair:
    """The notebook to grade, what was repaired (one line) and whether every graded cell was found."""

    notebook: nbformat.NotebookNode
    status: str
    note: str  # "" when the status is "ok"
    missing: tuple[str, ...] = ()  # grade_ids of graded cells not found (release cell kept)
    found: Mapping[str, str] = field(default_factory=dict)  # grade_id -> how it was found
    split: Mapping[str, int] = field(default_factory=dict)  # grade_id -> pieces joined back
    copies: Mapping[str, int] = field(default_factory=dict)  # grade_id -> copies (if over 1)

    @property
    def complete(self) -> bool:
        """Every graded cell of the release was found in the submission."""
        return self.status in (STATUS_OK, STATUS_REPAIRED)


def _names(gids: list[str]) -> str:
    return gids[0] if len(gids) == 1 else ", ".join(gids[:-1]) + " and " + gids[-1]


def _locked_restored(release: list[Cell], submitted: dict[int, Cell], claims: Mapping) -> int:
    """Release cells (not graded cells) deleted, edited or retyped in the submission."""
    kept: dict[int, list[Cell]] = {}
    for pos, claim in claims.items():
        kept.setdefault(claim.release, []).append(submitted[pos])
    return sum(
        1
        for cell in release
        if not cell.solution
        and not any(c.source == cell.source and c.cell_type == cell.cell_type for c in kept.get(cell.position, []))
    )


def _extra(submitted: dict[int, Cell], claims: Mapping, used: set[int]) -> int:
    """Submitted cells with something in them that are neither a release cell nor graded code."""
    first: set[int] = set()
    seen: set[int] = set()
    for pos in sorted(claims):
        if claims[pos].release not in seen:
            seen.add(claims[pos].release)
            first.add(pos)
    return sum(1 for pos, cell in submitted.items() if pos not in first and pos not in used and cell.source.strip())


def _note(results: list[Found], matcher: Matcher, marks: bool, crlf: bool) -> str:
    parts: list[str] = []
    cause = "" if marks else METADATA_LOST
    missing = [r for r in results if r.source is None]
    if missing:
        detail = next((r.why_missing for r in missing if r.why_missing), "")
        why = "; ".join(filter(None, [cause, detail])) or "deleted, or its # GRADED CELL line removed?"
        verb = "scores" if len(missing) == 1 else "score"
        parts.append(f"{_names([r.grade_id for r in missing])} not found ({why}): {verb} 0")
    found = [r for r in results if r.source is not None]
    odd = [r for r in found if r.how != BY_GRADE_ID]
    if odd:
        hows = Counter(_HOW.get(r.how or "", _BY_LINES) for r in odd)
        if len(hows) == 1 and len(odd) == len(found) and len(found) > 1:
            text = f"graded cells found by their {next(iter(hows))[1]}"
        else:
            text = ", ".join(f"{r.grade_id} found by its {_HOW.get(r.how or '', _BY_LINES)[0]}" for r in odd)
        parts.append(text + (f" ({cause})" if cause and not missing else ""))
    parts += [
        f"{r.grade_id} split in {r.parts} cells (JupyterLab's Split Cell?): joined back" for r in found if r.parts > 1
    ]
    parts += [f"{r.grade_id} in {r.copies} copies: the last above its test graded" for r in found if r.copies > 1]
    parts += [
        f"{r.grade_id} was a {r.cell_type} cell: graded as code"
        for r in found
        if r.cell_type not in (None, "code") and matcher.release[_pos(matcher, r)].cell_type == "code"
    ]
    if crlf:
        parts.append("Windows line endings converted")
    used = {p for r in results for p in r.positions} | matcher.copy_positions
    restored = _locked_restored(matcher.release, matcher.submitted, matcher.claimed)
    if restored:
        parts.append(f"{restored} locked cell{'s' if restored > 1 else ''} restored")
    extra = _extra(matcher.submitted, matcher.claimed, used)
    if extra:
        parts.append(f"{extra} extra cell{'s' if extra > 1 else ''} not graded")
    return "; ".join(parts)


def _pos(matcher: Matcher, result: Found) -> int:
    return next(g.position for g in matcher.solutions if g.grade_id == result.grade_id)


def _repair(base: nbformat.NotebookNode, release: list[Cell], submitted: object) -> Repair:
    sub = read_cells(submitted)
    gids = tuple(c.grade_id for c in release if c.solution and c.grade_id)
    if sub.problem:
        return Repair(base, STATUS_UNREADABLE, sub.problem, missing=gids)
    matcher = Matcher(release, sub.cells)
    results = matcher.match()
    for result in results:
        if result.source is not None:
            base.cells[_pos(matcher, result)].source = result.source
    missing = tuple(r.grade_id for r in results if r.source is None)
    crlf = any(c.carriage_returns for c in sub.cells)
    note = "; ".join(
        filter(
            None,
            ["nbformat 3 notebook upgraded" if sub.upgraded else "", _note(results, matcher, sub.nbgrader_marks, crlf)],
        )
    )
    status = STATUS_INCOMPLETE if missing else STATUS_REPAIRED if note else STATUS_OK
    return Repair(
        base,
        status,
        note,
        missing=missing,
        found={r.grade_id: r.how for r in results if r.how},
        split={r.grade_id: r.parts for r in results if r.parts > 1},
        copies={r.grade_id: r.copies for r in results if r.copies > 1},
    )


def repair_submission(release: Mapping, submitted: object) -> Repair:
    """Repair ``submitted`` (a notebook's parsed JSON, of any shape, or an ``Unparsable``) against
    ``release`` (the release notebook, as nbformat or JSON). Never raises for a bad submission;
    raises ValueError only for a release that is not a notebook."""
    cells = read_cells(release)
    if cells.problem:
        raise ValueError(f"the release notebook is not usable: {cells.problem}")
    base = nbformat.from_dict(copy.deepcopy(dict(release)))
    try:
        return _repair(base, list(cells.cells), submitted)
    except Exception as exc:  # a repair bug must not stop a batch: flagged, saying why
        gids = tuple(c.grade_id for c in cells.cells if c.solution and c.grade_id)
        base = nbformat.from_dict(copy.deepcopy(dict(release)))
        return Repair(
            base, STATUS_UNREADABLE, f"the repair failed ({type(exc).__name__}: {str(exc)[:120]})", missing=gids
        )
