"""The values a batch sends between its coordinator and its workers (no Dask here).

A batch is one :class:`Bundle` (shared by every task: the assignment's source folder, the
release skeleton, the private template gradebook, the course packages snapshot, the
options) and one :class:`Task` per student (the submitted files); a worker sends back one
:class:`Outcome` per task. :func:`not_graded_notes` is what a task's fields say, as notes,
of what was handed in and not graded.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from grading.batch.results import SubmissionResult
from grading.limits import Limits

TIMESTAMP = "timestamp.txt"  # written by nbgrader submit; read for late penalties
TIMESTAMP_BYTES = 1024  # a timestamp.txt (one date and time) is far shorter
STRAY_NAMED = 20  # files not graded named in a note (and as many folders and special files)


@dataclass(frozen=True, kw_only=True)
class Bundle:
    """Everything every task of a batch needs, built once by the coordinator."""

    batch_id: str
    assignment: str
    course_id: str
    source: dict[str, bytes]  # source/ASSIGNMENT/* (nbgrader reads it; the kernel never sees it)
    release: dict[str, bytes]  # the release notebooks every submission is rebuilt on
    template_db: bytes  # private gradebook template (hidden tests): never the real gradebook
    packages: dict[str, dict[str, bytes]]  # the course packages, as the kernel imports them
    config_text: str
    timeout: float
    isolation: str
    limits: Limits
    restore_course_files: bool = True
    feedback: bool = False  # also make each student's feedback page (the grading service)


@dataclass(frozen=True)
class Task:
    """One student's submitted files (``submitted/STUDENT/ASSIGNMENT/*``, flat), as the
    coordinator's scan (:mod:`grading.batch.scan`) found them; the worker grades this value
    as it is (:func:`grading.batch.workspace.grade_one`), writing none of it back as files.

    ``files`` holds the bytes of the graded notebooks and of ``timestamp.txt``. Symbolic
    links are not read: ``links`` names the files that were links (graded as unreadable
    notebooks, never followed) and ``folder_link`` says the folder itself was one (not
    graded). Nor are files it does not grade (``stray``: the first few names, for the "files
    not graded" note; ``stray_more`` counts the others) or notebooks (and a timestamp.txt)
    over the size limit (``oversize``: (name, bytes), refused by that size). Nor is what is
    neither a regular file nor a link (``special``: (name, what it is: "folder", "FIFO",
    "socket", "device", "special file"), never opened; every graded name and timestamp.txt,
    the first few others, ``special_more`` counting the rest).
    """

    student: str
    files: dict[str, bytes]
    links: tuple[str, ...] = ()
    folder_link: bool = False
    stray: tuple[str, ...] = ()
    stray_more: int = 0  # files not graded beyond the first few named in ``stray`` (not carried)
    oversize: tuple[tuple[str, int], ...] = ()
    special: tuple[tuple[str, str], ...] = ()
    special_more: int = 0  # folders and special files beyond those in ``special`` (not carried)
    unreadable: str = ""  # why the coordinator could not read the folder: an error, not graded


def shown(name: str) -> str:
    """A file name the student chose, for a note: as it is if plain, else quoted as a Python
    string (so that no name reads as a count, a list separator, another note or a line
    break, and none hides itself behind a control or right-to-left character)."""
    return name if re.fullmatch(r"[A-Za-z0-9_.+-]+", name) else repr(name)


def not_graded_notes(task: Task, notebooks: Collection[str]) -> list[str]:
    """The notes on what ``task`` holds and nothing grades (``notebooks``: those of the
    release): the files not graded; each graded name that is a folder or a special file;
    the other folders and special files. Each list names the first :data:`STRAY_NAMED` and
    counts the rest (a submission may hold thousands)."""
    graded = {*notebooks, TIMESTAMP}
    carried = (*task.files, *(name for name, _ in task.oversize), *task.links)
    files = sorted({*task.stray, *(n for n in carried if n not in graded)})
    notes = _listed("files not graded", [shown(n) for n in files], task.stray_more)
    for name, kind in sorted(task.special):
        if name in notebooks:
            inside = ", nor anything inside it" if kind == "folder" else ""
            notes.append(f"{shown(name)} is a {kind}, not a notebook file: not graded{inside}")
    others = [f"{shown(n)} ({kind})" for n, kind in sorted(task.special) if n not in notebooks]
    return notes + _listed("folders and special files not graded", others, task.special_more)


def _listed(what: str, items: list[str], more: int) -> list[str]:
    """One note, ``what: `` and the first :data:`STRAY_NAMED` of ``items``, counting the
    others and ``more`` (none if there are no items)."""
    if not items:
        return []
    extra = max(len(items) - STRAY_NAMED, 0) + more
    tail = f" and {extra} more" if extra > 0 else ""
    return [f"{what}: {', '.join(items[:STRAY_NAMED])}{tail}"]


@dataclass
class Outcome:
    """What a worker sends back for one student."""

    result: SubmissionResult
    private: dict | None
    autograded: dict[str, bytes] = field(default_factory=dict)  # paths under autograded/STUDENT/
    worker: str = ""
    feedback: dict[str, bytes] = field(default_factory=dict)  # pages under feedback/STUDENT/ (Bundle.feedback)
