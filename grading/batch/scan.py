"""What the coordinator reads of a student's ``submitted/STUDENT/ASSIGNMENT/`` folder (untrusted:
the student chose every name, size and file type in it) to make the student's Dask task."""

from __future__ import annotations

import errno
import heapq
import os
import stat
from pathlib import Path

from grading.batch.tasks import STRAY_NAMED, TIMESTAMP, TIMESTAMP_BYTES, Task


def submitted_task(course_dir: Path, assignment: str, student: str, *, max_bytes: int, graded: frozenset[str]) -> Task:
    """The student's submitted files. Only the notebooks named in ``graded`` (those of the
    release), up to ``max_bytes``, and a timestamp.txt up to ``TIMESTAMP_BYTES`` are read;
    other files (other notebooks too: a submission may hold a million) are only counted,
    the first :data:`STRAY_NAMED` by name carried for the note; graded ones over the limit
    by name and size. Symbolic links are never followed (one could point at the solution):
    the task names them and the worker grades them as links (not read). Folders, FIFOs and
    other special files are never opened: the task names them and what each is (every
    graded name and timestamp.txt, the first :data:`STRAY_NAMED` others, a count of the
    rest). The folder can change while it is read: every name is opened relative to the
    folder actually listed, never through a link, and what is read is what was opened
    (:func:`_read_file`).
    A folder or graded file the grader may not read (nbgrader collect copies the student's
    file modes) makes a task that is an error for its student: never one for the batch."""
    try:
        return _scan(course_dir, assignment, student, max_bytes=max_bytes, graded=graded)
    except OSError as exc:
        what = exc.filename if isinstance(exc.filename, str) else "the submitted folder"
        return Task(student, {}, unreadable=f"not graded: the grader cannot read {what} ({exc.strerror or exc})")


def _scan(course_dir: Path, assignment: str, student: str, *, max_bytes: int, graded: frozenset[str]) -> Task:
    """:func:`submitted_task`, an OSError of the folder or of a graded file escaping it."""
    folder = _open_submitted(course_dir / "submitted", student, assignment)
    if isinstance(folder, str):
        return Task(student, {}, folder_link=folder == "link")
    files, links, oversize, special = {}, [], [], []
    stray, others = _Firsts(STRAY_NAMED), _Firsts(STRAY_NAMED)  # (no sorted list of a million names)
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                wanted = name in graded or name == TIMESTAMP
                if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    if not wanted:
                        stray.add(name)  # by name only, a link too: never graded
                    elif entry.is_symlink():
                        links.append(name)
                    else:
                        got = _read_file(folder, name, max_bytes if name in graded else TIMESTAMP_BYTES)
                        if got == _LINK:  # became one since it was listed
                            links.append(name)
                        elif isinstance(got, str):  # became a folder, a FIFO...
                            special.append((name, got))
                        elif isinstance(got, int):
                            oversize.append((name, got))
                        elif isinstance(got, bytes):  # else None: gone
                            files[name] = got
                elif (kind := _listed_kind(entry)) is not None:  # never opened
                    if wanted:
                        special.append((name, kind))
                    else:
                        others.add(name, kind)
    finally:
        os.close(folder)
    return Task(
        student,
        files,
        links=tuple(sorted(links)),
        stray=tuple(n for n, _ in stray.kept()),
        stray_more=stray.more,
        oversize=tuple(sorted(oversize)),
        special=tuple(sorted(special + others.kept())),
        special_more=others.more,
    )


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


_LINK = "symbolic link"
_KINDS = {
    stat.S_IFDIR: "folder",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "device",
    stat.S_IFBLK: "device",
}


def _kind(mode: int) -> str:
    """What a file of ``mode`` that is neither a regular file nor a link is, for a note."""
    return _KINDS.get(stat.S_IFMT(mode), "special file")


def _listed_kind(entry: os.DirEntry[str]) -> str | None:
    """What ``entry``, listed as neither a regular file nor a link, is (its type as listed, or
    as lstat gives it: nothing is opened); None if it is gone."""
    if entry.is_dir(follow_symlinks=False):
        return "folder"
    try:
        return _kind(entry.stat(follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return None
    except OSError:  # a folder the grader may list but not search: named all the same
        return "special file"


def _read_file(folder: int, name: str, limit: int) -> bytes | int | str | None:
    """The bytes of the regular file ``name`` in ``folder`` if at most ``limit``, else its
    size; else what it is instead (``_LINK``, "folder", "FIFO", "hard link"...); None if it is gone."""
    try:
        fd = os.open(name, _FILE, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _LINK
        if exc.errno == errno.ENXIO:  # a socket (or a device with nothing behind it)
            try:
                return _kind(os.lstat(name, dir_fd=folder).st_mode)
            except FileNotFoundError:
                return None
        if exc.errno == errno.ENOENT:
            return None
        raise
    try:
        info = os.fstat(fd)  # before io.open, which raises for a folder
        if not stat.S_ISREG(info.st_mode):
            return _kind(info.st_mode)
        if info.st_nlink > 1:  # (red team) could be the solution's own file, where the kernel lets
            return "hard link"  # a student link one they cannot read (fs.protected_hardlinks=0)
        if info.st_size > limit:
            return info.st_size
        with open(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)  # it may have grown since
        return max(len(data), info.st_size) if len(data) > limit else data
    finally:
        os.close(fd)


class _Firsts:
    """The first ``n`` names added (in sorted order, each with what it is) and how many more:
    a min-heap of :class:`_Desc`, never a list of every name."""

    def __init__(self, n: int) -> None:
        self._n, self._added = n, 0
        self._heap: list[_Desc] = []

    def add(self, name: str, what: str = "") -> None:
        """Count ``name``, keep it if it is among the first ``n``."""
        self._added += 1
        heapq.heappush(self._heap, _Desc(name, what))
        if len(self._heap) > self._n:
            heapq.heappop(self._heap)  # drops the largest name

    def kept(self) -> list[tuple[str, str]]:
        """The names kept and what each is, sorted."""
        return sorted((d.name, d.what) for d in self._heap)

    @property
    def more(self) -> int:
        """How many names were added and not kept."""
        return self._added - len(self._heap)


class _Desc:
    """A name (and what it is) ordered backwards: a min-heap of these keeps the smallest names."""

    __slots__ = ("name", "what")

    def __init__(self, name: str, what: str) -> None:
        self.name, self.what = name, what

    def __lt__(self, other: _Desc) -> bool:
        return self.name > other.name
