"""The values a batch sends between its coordinator and its workers (no Dask here).

A batch is one :class:`Bundle` (shared by every task: the assignment's source folder, the
release skeleton, the private template gradebook, the course packages snapshot, the
options) and one :class:`Task` per student (the submitted files); a worker sends back one
:class:`Outcome` per task.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from grading.batch.results import SubmissionResult
from grading.limits import Limits

TIMESTAMP = "timestamp.txt"  # written by nbgrader submit; read for late penalties
TIMESTAMP_BYTES = 1024  # a timestamp.txt (one date and time) is far shorter
STRAY_NAMED = 20  # files not graded named in a note


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
    over the size limit (``oversize``: (name, bytes), refused by that size).
    """

    student: str
    files: dict[str, bytes]
    links: tuple[str, ...] = ()
    folder_link: bool = False
    stray: tuple[str, ...] = ()
    stray_more: int = 0  # files not graded beyond the first few named in ``stray`` (not carried)
    oversize: tuple[tuple[str, int], ...] = ()
    unreadable: str = ""  # why the coordinator could not read the folder: an error, not graded


@dataclass
class Outcome:
    """What a worker sends back for one student."""

    result: SubmissionResult
    private: dict | None
    autograded: dict[str, bytes] = field(default_factory=dict)  # paths under autograded/STUDENT/
    worker: str = ""


