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
    """One student's submitted files (``submitted/STUDENT/ASSIGNMENT/*``, flat).

    Symbolic links are not read by the coordinator: ``links`` names the files that were
    links and ``folder_link`` says the folder itself was one; the worker recreates them as
    links to an empty file (folder), which the workspace refuses to follow and notes.
    Nor are files it does not grade (``stray``: the first few names, recreated empty for the
    "not graded" note; ``stray_more`` counts the others)
    or notebooks over the size limit (``oversize``: (name, bytes), recreated as sparse
    files of that size, which the workspace refuses by size without reading them).
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


