"""What the coordinator reads of a student's ``submitted/STUDENT/ASSIGNMENT/`` folder (untrusted:
the student chose every name, size and file type in it) to make the student's Dask task."""
from __future__ import annotations

import heapq
import os
from pathlib import Path

from grading.cluster import Task
from grading.workspace import STRAY_NAMED, TIMESTAMP_BYTES


def submitted_task(course_dir: Path, assignment: str, student: str, *, max_bytes: int,
                   graded: frozenset[str]) -> Task:
    """The student's submitted files. Only the notebooks named in ``graded`` (those of the
    release), up to ``max_bytes``, and a timestamp.txt up to ``TIMESTAMP_BYTES`` are read;
    other files (other notebooks too: a submission may hold a million) are only counted,
    the first :data:`STRAY_NAMED` by name carried for the note; graded ones over the limit
    by name and size. Symbolic links are never followed (one could point at the solution):
    the task names them and the worker grades them as links (not read)."""
    folder = course_dir / "submitted" / student / assignment
    if folder.is_symlink() or folder.parent.is_symlink():
        return Task(student, {}, folder_link=True)
    if not folder.is_dir():
        return Task(student, {})
    files, links, oversize = {}, [], []
    stray: list[_Desc] = []  # the first STRAY_NAMED names not graded, as a heap
    stray_more = 0
    with os.scandir(folder) as entries:  # no sorted list of a million names
        for entry in entries:
            name = entry.name
            if name not in graded and name != "timestamp.txt":
                if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    stray_more += 1  # by name only, a link too: never graded
                    heapq.heappush(stray, _Desc(name))
                    if len(stray) > STRAY_NAMED:
                        heapq.heappop(stray)  # drops the largest name
            elif entry.is_symlink():
                links.append(name)
            elif not entry.is_file(follow_symlinks=False):
                continue
            elif (size := entry.stat(follow_symlinks=False).st_size) > \
                    (max_bytes if name in graded else TIMESTAMP_BYTES):
                oversize.append((name, size))
            else:
                files[name] = Path(entry.path).read_bytes()
    named = sorted(d.name for d in stray)
    return Task(student, files, links=tuple(sorted(links)), stray=tuple(named),
                stray_more=stray_more - len(named), oversize=tuple(sorted(oversize)))


class _Desc:
    """A name ordered backwards: a min-heap of these keeps the smallest names."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __lt__(self, other: "_Desc") -> bool:
        return self.name > other.name
