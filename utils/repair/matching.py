"""Finding the student's code of each graded cell in a submission, whatever happened to it.

A submitted cell *claims* a release cell when it is that cell or a copy of it: the same
nbgrader ``grade_id``; else (no known grade_id) the same cell id; else the same non-empty
source, if no other release cell has it. A graded cell's copies are the cells that claim it,
plus, among code cells that claim no other graded cell, those carrying its ``# UNQ_C1`` /
``# GRADED CELL: name`` marker lines. Where nothing claims it, the one new code cell in its
place (between the release cells around it, found in the submission in order) is taken, if
exactly one is there and the release has no other code cell in that gap.

Copies next to each other with the same grade_id, all but the first without the marker lines,
are the pieces of one cell split by JupyterLab's Split Cell (which copies the nbgrader metadata
into every piece and trims the newlines at the cut): they are joined back. Of several copies,
the one graded is what running the student's notebook top to bottom gives the exercise's first
test cell: the last copy above that test cell; if no copy is above it (or the test cell is gone),
the last copy. A copy of the graded cell's own type is preferred (a markdown copy never runs).
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from utils.repair.reading import MAX_CELL_CHARS, Cell

BY_GRADE_ID = "grade id"
BY_CELL_ID = "cell id"
BY_SOURCE = "source"
BY_MARKERS = "markers"
BY_POSITION = "position"

_UNQ = re.compile(r"^[ \t]*#[ \t]*(UNQ_C\d+)\b", re.M | re.I)
_GRADED = re.compile(r"^[ \t]*#[ \t]*GRADED CELL\b[ \t]*:?([^\n]*)$", re.M | re.I)
_COMPILE_LIMIT = 200_000  # characters: longer joins are not test-compiled


def markers(source: str) -> frozenset[str]:
    """The graded-cell marker lines of a source, normalised (``UNQ_C1``, ``graded cell: my_softmax``)."""
    found = {m.group(1).upper() for m in _UNQ.finditer(source)}
    found |= {"graded cell: " + " ".join(m.group(1).split()).lower() for m in _GRADED.finditer(source)}
    return frozenset(found)


@dataclass(frozen=True)
class Claim:
    """A submitted cell that is (a copy of) the release cell at ``release``, found ``how``."""

    release: int
    how: str


@dataclass(frozen=True)
class Found:
    """The outcome for one graded cell of the release."""

    grade_id: str
    source: str | None  # the student's code; None when not found
    how: str | None
    copies: int = 0  # copies the submission holds (split pieces joined)
    parts: int = 1  # cells the graded copy was split into
    cell_type: str | None = None  # type of the graded copy
    positions: tuple[int, ...] = ()  # submitted cells it was taken from
    why_missing: str | None = None


def claims(release: Sequence[Cell], submitted: Sequence[Cell]) -> dict[int, Claim]:
    """{submitted position: Claim} for every submitted cell that is (a copy of) a release cell."""
    by_gid = {c.grade_id: c.position for c in release if c.grade_id}
    by_id = {c.cell_id: c.position for c in release if c.cell_id}
    counts = Counter(c.source.strip() for c in release)
    by_source = {c.source.strip(): c.position for c in release if c.source.strip() and counts[c.source.strip()] == 1}
    out: dict[int, Claim] = {}
    for cell in submitted:
        if cell.grade_id in by_gid:
            out[cell.position] = Claim(by_gid[cell.grade_id], BY_GRADE_ID)
        elif cell.cell_id in by_id:
            out[cell.position] = Claim(by_id[cell.cell_id], BY_CELL_ID)
        elif cell.source.strip() in by_source:
            out[cell.position] = Claim(by_source[cell.source.strip()], BY_SOURCE)
    return out


def aligned(claimed: dict[int, Claim], skip: set[int]) -> dict[int, int]:
    """{release position: submitted position}: the longest run of claims in the same order in
    both notebooks (cells moved out of order are left out), release cells in ``skip`` ignored."""
    pairs = sorted((s, c.release) for s, c in claimed.items() if c.release not in skip)
    tails: list[int] = []  # release positions ending the best chains, increasing
    tail_at: list[int] = []  # index into pairs of each tail
    back: list[int] = []
    for i, (_, rel) in enumerate(pairs):
        k = bisect_left(tails, rel)
        back.append(tail_at[k - 1] if k else -1)
        if k == len(tails):
            tails.append(rel)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = rel, i
    out: dict[int, int] = {}
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        out[pairs[i][1]] = pairs[i][0]
        i = back[i]
    return out


def _compiles(source: str) -> bool:
    code = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
    try:
        compile(code, "<cell>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def join_pieces(pieces: Sequence[str]) -> str:
    """Join the pieces of a split cell back: directly where the cut fell inside a line (the first
    piece ends in a line's indentation, or only the direct join is valid Python), else with the
    newline that Split Cell trimmed. (A cut inside a name that leaves two valid statements, as
    ``x = np.su`` and ``m(z)``, cannot be told from a cut between lines: it gets the newline.)"""
    out = pieces[0]
    for piece in pieces[1:]:
        tail = out.rsplit("\n", 1)[-1]
        if tail and not tail.strip():
            out += piece
            continue
        joined = out + "\n" + piece
        if len(joined) <= _COMPILE_LIMIT and not _compiles(joined) and _compiles(out + piece):
            joined = out + piece
        out = joined
    return out


def _too_long(gid: str, chars: int) -> Found:
    return Found(gid, None, None, why_missing=f"{chars} characters, over the {MAX_CELL_CHARS} of a graded cell")


class Matcher:
    """Finds every graded cell of ``release`` in ``submitted`` (see the module docstring)."""

    def __init__(self, release: Sequence[Cell], submitted: Sequence[Cell]) -> None:
        self.release = list(release)
        self.submitted = {c.position: c for c in submitted}
        self.order = [c.position for c in submitted]
        self.solutions = [c for c in self.release if c.solution and c.grade_id]
        self.claimed = claims(self.release, submitted)
        own = Counter(m for g in self.solutions for m in markers(g.source))
        self.marks = {g.position: frozenset(m for m in markers(g.source) if own[m] == 1) for g in self.solutions}
        self.copy_positions: set[int] = set()  # every submitted cell that is a graded cell's copy

    def copies(self, graded: Cell) -> list[tuple[int, str]]:
        """(submitted position, how) of every copy of a graded cell, in notebook order."""
        solution_positions = {g.position for g in self.solutions}
        marks = self.marks[graded.position]
        out = []
        for pos in self.order:
            claim = self.claimed.get(pos)
            if claim and claim.release == graded.position:
                out.append((pos, claim.how))
            elif (
                marks
                and self.submitted[pos].cell_type == "code"
                and (claim is None or claim.release not in solution_positions)
                and markers(self.submitted[pos].source) & marks
            ):
                out.append((pos, BY_MARKERS))
        return out

    def _groups(self, graded: Cell, copies: list[tuple[int, str]]) -> list[list[int]]:
        marks = self.marks[graded.position]
        groups: list[list[int]] = []
        for pos, how in copies:
            cell = self.submitted[pos]
            if (
                groups
                and pos == groups[-1][-1] + 1
                and how == BY_GRADE_ID
                and self.claimed.get(groups[-1][-1], Claim(-1, "")).how == BY_GRADE_ID
                and not markers(cell.source) & marks
                and cell.cell_type == self.submitted[groups[-1][0]].cell_type
            ):
                groups[-1].append(pos)
            else:
                groups.append([pos])
        return groups

    def _first_test(self, graded: Cell) -> int | None:
        """Submitted position of the first test cell of this graded cell's exercise, if any."""
        tests = []
        for cell in self.release[graded.position + 1 :]:
            if cell.solution:
                break
            if cell.grade:
                tests.append(cell.position)
        found = [pos for pos, c in self.claimed.items() if c.release in tests]
        return min(found) if found else None

    def find(self, graded: Cell) -> Found:
        """The student's code of one graded cell, from its copies (positions not yet decided)."""
        copies = self.copies(graded)
        self.copy_positions.update(pos for pos, _ in copies)
        if not copies:
            return Found(graded.grade_id or "", None, None)
        how = dict(copies)
        groups = self._groups(graded, copies)
        typed = [g for g in groups if self.submitted[g[0]].cell_type == graded.cell_type] or groups
        test = self._first_test(graded)
        above = [g for g in typed if test is not None and g[0] < test]
        chosen = (above or typed)[-1]
        source = join_pieces([self.submitted[p].source for p in chosen])
        return Found(
            graded.grade_id or "",
            source,
            how[chosen[0]],
            copies=len(groups),
            parts=len(chosen),
            cell_type=self.submitted[chosen[0]].cell_type,
            positions=tuple(chosen),
        )

    def by_position(self, graded: Cell, anchors: dict[int, int], used: set[int]) -> tuple[int | None, str]:
        """The one new code cell where the graded cell was, or (None, why not)."""
        before = [r for r in anchors if r < graded.position]
        after = [r for r in anchors if r > graded.position]
        lo_rel, hi_rel = (max(before) if before else -1), (min(after) if after else len(self.release))
        lo, hi = anchors.get(lo_rel, -1), anchors.get(hi_rel, max(self.order, default=-1) + 1)
        gap = [
            c
            for c in self.release[lo_rel + 1 : hi_rel]
            if c.cell_type == graded.cell_type and c.position not in anchors
        ]
        if [c.position for c in gap] != [graded.position]:
            return None, "its place in the notebook is not clear"
        new = [
            p
            for p in self.order
            if lo < p < hi
            and p not in self.claimed
            and p not in used
            and self.submitted[p].cell_type == graded.cell_type
            and self.submitted[p].source.strip()
        ]
        if len(new) == 1:
            return new[0], ""
        return None, ("several new cells in its place" if new else "")

    def match(self) -> list[Found]:
        """A :class:`Found` for every graded cell of the release, in release order."""
        results = {g.position: self.find(g) for g in self.solutions}
        for pos, res in list(results.items()):
            if res.source is not None and len(res.source) > MAX_CELL_CHARS:
                results[pos] = _too_long(res.grade_id, len(res.source))
        used = {p for r in results.values() for p in r.positions}
        anchors = aligned(self.claimed, skip={g.position for g in self.solutions})
        anchors.update({pos: r.positions[0] for pos, r in results.items() if r.positions})
        for graded in self.solutions:
            res = results[graded.position]
            if res.source is not None or res.why_missing:
                continue
            at, why = self.by_position(graded, dict(sorted(anchors.items())), used)
            if at is None:
                results[graded.position] = Found(res.grade_id, None, None, why_missing=why or None)
                continue
            cell = self.submitted[at]
            if len(cell.source) > MAX_CELL_CHARS:
                results[graded.position] = _too_long(res.grade_id, len(cell.source))
                continue
            used.add(at)
            anchors[graded.position] = at
            results[graded.position] = Found(
                res.grade_id, cell.source, BY_POSITION, copies=1, cell_type=cell.cell_type, positions=(at,)
            )
        return [results[g.position] for g in self.solutions]
