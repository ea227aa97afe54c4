"""The submission written into its workspace: what the grader itself reads of it, outside every sandbox.

:func:`rebuild_submission` writes a :class:`~grading.batch.tasks.Task`'s notebooks, each rebuilt
on the release (:mod:`grading.batch.rebuild`; repaired as nbgrader's plain path repairs it,
:mod:`utils.repair`, when its graded cells are not where nbgrader's ids say), and its
``timestamp.txt`` into the workspace's submitted folder, with the notes for its student (files
not graded, review flags). Everything it reads is bounded first: a notebook, a cell or a
timestamp over the limits is :class:`Refused` and never parsed.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbgrader.utils import is_solution

from grading.batch.rebuild import Unreadable, oversized_cell, read_submission, rebuild_notebook
from grading.batch.results import SubmissionResult
from grading.batch.review import review_flags
from grading.batch.tasks import TIMESTAMP, TIMESTAMP_BYTES, Task, not_graded_notes, shown
from grading.extensions.cells import grade_id
from grading.extensions.repair import exercise_grades
from grading.limits import Limits
from utils.repair import STATUS_UNREADABLE, parse_submission, repair_submission


class Refused(Exception):
    """The submission is not graded (the message says why): an error for its student."""


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


#: the zone of a three-word timestamp.txt: a numeric offset or a zone's abbreviation (nbgrader
#: hands any other word to dateutil's gettz, which opens a path, even ``../``, as a zone file)
_ZONE = re.compile(r"[+-]?[0-9]{1,4}|[A-Za-z]{1,6}")


def _check_timestamp(data: bytes) -> None:
    """Refuse a ``timestamp.txt`` whose zone nbgrader would look up as a file (it reads the
    timestamp in the worker, as the grader, outside any sandbox)."""
    words = data.decode("utf-8", "replace").strip().split(" ")
    if len(words) == 3 and not _ZONE.fullmatch(words[2]):
        raise Refused(
            f"timestamp.txt names the time zone {shown(words[2][:60])}, which is neither "
            "an offset nor a zone's abbreviation (as nbgrader submit writes): not graded"
        )


def rebuild_submission(
    release: dict[str, bytes], limits: Limits, task: Task, sub_dst: Path, result: SubmissionResult
) -> bool:
    """Write the notebooks of ``task``, each rebuilt on its notebook of the release folder
    ``release`` (``{relative path: bytes}``, the batch's), into ``sub_dst``; False if none was
    submitted.

    The notes on what is not graded come from the task's own fields (the coordinator's scan,
    :class:`~grading.batch.tasks.Task`): a folder that is a link, links (never followed), and
    :func:`~grading.batch.tasks.not_graded_notes` (files, folders, special files: the first
    few named, the others counted). No name the student chose becomes a path: only the
    release's names and ``timestamp.txt`` are written.

    Raises :class:`Refused` for a notebook or cell over the size limits (``limits``) or a
    ``timestamp.txt`` longer than a timestamp: this runs in the worker, outside any memory or
    time limit, so it is never parsed.
    """
    if task.folder_link:
        result.notes.append("submission folder is a symbolic link: not followed, not graded")
        return False
    links = set(task.links)
    sizes = {name: size for name, size in task.oversize if name not in links}
    sizes.update((name, len(data)) for name, data in task.files.items() if name not in links)
    if TIMESTAMP in sizes:
        if (size := sizes[TIMESTAMP]) > TIMESTAMP_BYTES:  # nbgrader reads it whole
            raise Refused(f"timestamp.txt is {size} bytes, over the {TIMESTAMP_BYTES} bytes of a timestamp: not graded")
        if TIMESTAMP in task.files:
            _check_timestamp(task.files[TIMESTAMP])
            (sub_dst / TIMESTAMP).write_bytes(task.files[TIMESTAMP])
    releases = sorted((n, b) for n, b in release.items() if "/" not in n and n.endswith(".ipynb"))
    result.notes.extend(not_graded_notes(task, [n for n, _ in releases]))
    flags: set[str] = set()
    found = False
    for name, release_bytes in releases:
        link = name in links
        if not link and name not in sizes:
            continue
        found = True
        if not link and (sizes[name] > limits.notebook_bytes or name not in task.files):
            raise Refused(f"{name} is {_mb(sizes[name])}, over the {_mb(limits.notebook_bytes)} limit: not graded")
        release_nb = nbformat.reads(release_bytes.decode("utf-8"), as_version=4)
        unreadable = None
        try:
            if link:  # it could point at the solution: never followed
                raise Unreadable("a symbolic link")
            submitted = read_submission(task.files[name])
        except Exception as exc:  # unreadable: grade as the unanswered release
            why = str(exc) if isinstance(exc, Unreadable) else type(exc).__name__
            unreadable = f"{name} unreadable ({why})"
            submitted = nbformat.v4.new_notebook()
        too_long = oversized_cell(submitted, limits.cell_chars)
        if too_long:
            raise Refused(too_long)
        rebuilt, notes = rebuild_notebook(release_nb, submitted)
        if not link and (unreadable or _lost(release_nb, notes)):
            # the graded cells are not where nbgrader's ids say (another editor, a split or
            # copied cell, an old format): found as nbgrader's plain path finds them
            rebuilt, notes, missing = _repaired(limits, release_nb, name, task.files[name])
            result.manual.extend(exercise_grades(rebuilt, set(missing)))
        result.notes.extend([unreadable] if unreadable else [])
        result.notes.extend(notes)
        for cell in rebuilt.cells:
            if is_solution(cell) and cell.cell_type == "code":
                flags.update(review_flags(cell.source))
        nbformat.write(rebuilt, sub_dst / name)
    if flags:
        result.notes.append("review: " + ", ".join(sorted(flags)))
    return found


def _lost(release_nb, notes: list[str]) -> bool:
    """Whether rebuild_notebook's notes say an answer cell was not found or found twice."""
    gids = {grade_id(c) for c in release_nb.cells if is_solution(c)}
    dup = "duplicate cells ignored: "
    return any(n in (f"answer cell {g} missing" for g in gids) for n in notes) or any(
        gids & set(n[len(dup) :].split(", ")) for n in notes if n.startswith(dup)
    )


def _repaired(
    limits: Limits, release_nb, name: str, data: bytes
) -> tuple[nbformat.NotebookNode, list[str], tuple[str, ...]]:
    """The submission ``name`` (its bytes ``data``) repaired by utils.repair, as nbgrader's plain
    path repairs it: (notebook, notes, graded cells not found: every one where it is not a
    notebook at all)."""
    repair = repair_submission(release_nb, parse_submission(data, limits.notebook_bytes))
    if repair.status == STATUS_UNREADABLE:
        return repair.notebook, [f"{name}: {repair.note}; scored 0 (grade it by hand)"], repair.missing
    too_long = oversized_cell(repair.notebook, limits.cell_chars)
    if too_long:
        raise Refused(too_long)
    notes = [f"repaired: {repair.note}"] if repair.note else []
    if repair.missing:
        notes.append("graded cell not found, scored 0 (grade it by hand): " + ", ".join(repair.missing))
    return repair.notebook, notes, repair.missing
