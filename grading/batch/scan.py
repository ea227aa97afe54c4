"""What the coordinator reads of a student's ``submitted/STUDENT/ASSIGNMENT/`` folder (untrusted:
the student chose every name, size and file type in it) to make the student's Dask task."""
from __future__ import annotations

import errno
import heapq
import os
import stat
from pathlib import Path

from grading.batch.tasks import STRAY_NAMED, TIMESTAMP, TIMESTAMP_BYTES, Task


def submitted_task(course_dir: Path, assignment: str, student: str, *, max_bytes: int,
                   graded: frozenset[str]) -> Task:
    """The student's submitted files. Only the notebooks named in ``graded`` (those of the
    release), up to ``max_bytes``, and a timestamp.txt up to ``TIMESTAMP_BYTES`` are read;
    other files (other notebooks too: a submission may hold a million) are only counted,
    the first :data:`STRAY_NAMED` by name carried for the note; graded ones over the limit
    by name and size. Symbolic links are never followed (one could point at the solution):
    the task names them and the worker grades them as links (not read). The folder can
    change while it is read: every name is opened relative to the folder actually listed,
    never through a link, and what is read is what was opened (:func:`_read_file`).
    A folder or graded file the grader may not read (nbgrader collect copies the student's
    file modes) makes a task that is an error for its student: never one for the batch."""
    try:
        return _scan(course_dir, assignment, student, max_bytes=max_bytes, graded=graded)
    except OSError as exc:
        what = exc.filename if isinstance(exc.filename, str) else "the submitted folder"
        return Task(student, {}, unreadable=f"not graded: the grader cannot read {what} "
                                            f"({exc.strerror or exc})")


def _scan(course_dir: Path, assignment: str, student: str, *, max_bytes: int,
          graded: frozenset[str]) -> Task:
    """:func:`submitted_task`, an OSError of the folder or of a graded file escaping it."""
    folder = _open_submitted(course_dir / "submitted", student, assignment)
    if isinstance(folder, str):
        return Task(student, {}, folder_link=folder == "link")
    files, links, oversize = {}, [], []
    stray: list[_Desc] = []  # the first STRAY_NAMED names not graded, as a heap
    stray_more = 0
    try:
        with os.scandir(folder) as entries:  # no sorted list of a million names
            for entry in entries:
                name = entry.name
                if name not in graded and name != TIMESTAMP:
                    if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                        stray_more += 1  # by name only, a link too: never graded
                        heapq.heappush(stray, _Desc(name))
                        if len(stray) > STRAY_NAMED:
                            heapq.heappop(stray)  # drops the largest name
                elif entry.is_symlink():
                    links.append(name)
                elif entry.is_file(follow_symlinks=False):
                    got = _read_file(folder, name, max_bytes if name in graded else TIMESTAMP_BYTES)
                    if got == "link":  # became one since it was listed
                        links.append(name)
                    elif isinstance(got, int):
                        oversize.append((name, got))
                    elif isinstance(got, bytes):  # else None: gone, or no regular file
                        files[name] = got
    finally:
        os.close(folder)
    named = sorted(d.name for d in stray)
    return Task(student, files, links=tuple(sorted(links)), stray=tuple(named),
                stray_more=stray_more - len(named), oversize=tuple(sorted(oversize)))


_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO: no waiting


def _open_submitted(submitted: Path, student: str, assignment: str) -> int | str:
    """A descriptor of ``submitted/STUDENT/ASSIGNMENT``, neither of them opened through a
    link; else "link" if one of them is a symbolic link, "missing" if either is no folder.
    Raises OSError if one cannot be opened otherwise (its mode)."""
    try:
        fd = os.open(submitted, _DIR & ~os.O_NOFOLLOW)  # the instructor's own folder
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    for name in (student, assignment):
        try:
            fd, parent = os.open(name, _DIR, dir_fd=fd), fd
        except OSError as exc:
            try:
                if stat.S_ISLNK(os.lstat(name, dir_fd=fd).st_mode):
                    return "link"
            except OSError:
                pass
            finally:
                os.close(fd)
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return "missing"
            raise
        os.close(parent)
    return fd


def _read_file(folder: int, name: str, limit: int) -> bytes | int | str | None:
    """The bytes of the regular file ``name`` in ``folder`` if at most ``limit``, else its
    size; "link" for a symbolic link; None if it is gone or no regular file (a FIFO)."""
    try:
        fd = os.open(name, _FILE, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "link"
        if exc.errno in (errno.ENOENT, errno.ENXIO):  # gone; a socket
            return None
        raise
    with open(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > limit:
            return info.st_size
        data = fh.read(limit + 1)  # it may have grown since
        return max(len(data), info.st_size) if len(data) > limit else data


class _Desc:
    """A name ordered backwards: a min-heap of these keeps the smallest names."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __lt__(self, other: _Desc) -> bool:
        return self.name > other.name
