"""grading.batch.scan: the coordinator's scan of an untrusted ``submitted/STUDENT/ASSIGNMENT/`` folder.

It reads only the notebooks it grades (other files by name, the first twenty, and a count; folders,
FIFOs and sockets too, with what each is, never opened), and
what was checked is what is read while the folder changes under it: a file swapped for a link
after the listing is never followed (it could point at the solution), a FIFO never blocks the
batch, a file that grows after its size was taken is never read past the limit, and a folder
swapped for a link after its check is not listed through the link."""
from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import nbformat
import pytest
from helpers.courses import toy_source, toy_submission
from helpers.repo import ROOT

from grading.batch import submission, workspace
from grading.batch.results import STATUS_ERROR, STATUS_MISSING, SubmissionResult
from grading.batch.scan import submitted_task
from grading.batch.submission import Refused
from grading.batch.tasks import Task
from grading.batch.worker import grade_task
from grading.batch.workspace import BatchContext
from grading.isolation.integrity import PackageSnapshot
from grading.limits import Limits


def test_the_coordinator_reads_only_the_notebooks_it_grades(tmp_path):
    course = tmp_path / "course"
    folder = course / "submitted" / "s" / "toy"
    folder.mkdir(parents=True)
    nbformat.write(toy_submission(), folder / "toy.ipynb")
    with open(folder / "dataset.bin", "wb") as fh:  # sparse: 8 GiB that take no disk
        fh.truncate(8 << 30)
    with open(folder / "extra.ipynb", "wb") as fh:
        fh.truncate(100 << 20)
    task = submitted_task(course, "toy", "s", max_bytes=20 << 20,
                           graded=frozenset({"toy.ipynb", "extra.ipynb"}))
    assert set(task.files) == {"toy.ipynb"}
    assert task.stray == ("dataset.bin",) and task.oversize == (("extra.ipynb", 100 << 20),)
    # the worker grades the same names and sizes: the stray file named, the big one refused
    ctx = _context(tmp_path, Limits(), ("toy.ipynb", "extra.ipynb"))
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(Refused, match=r"^extra.ipynb is 100.0 MB, over the 20.0 MB limit: not graded$"):
        submission.rebuild_submission(ctx.release, ctx.limits, task, dest, result)
    assert result.notes == ["files not graded: dataset.bin"] and not list(dest.iterdir())


def test_the_coordinator_reads_no_notebook_it_does_not_grade_nor_a_long_timestamp(tmp_path):
    """The coordinator holds every task in memory at once: notebooks the release does not
    have (a submission may hold thousands of them, each under the size limit) and a
    timestamp.txt longer than a timestamp are carried by name (and size), never read."""
    course = tmp_path / "course"
    folder = course / "submitted" / "s" / "toy"
    folder.mkdir(parents=True)
    nbformat.write(toy_submission(), folder / "toy.ipynb")
    for i in range(50):
        nbformat.write(toy_submission(), folder / f"copy{i:02}.ipynb")
    (folder / "timestamp.txt").write_text("2026-11-29 01:00:00 " + "x" * 5000)
    task = submitted_task(course, "toy", "s", max_bytes=20 << 20, graded=frozenset({"toy.ipynb"}))
    assert set(task.files) == {"toy.ipynb"}
    assert task.stray == tuple(f"copy{i:02}.ipynb" for i in range(20)) and task.stray_more == 30
    assert task.oversize == (("timestamp.txt", 5020),)


def test_a_submission_with_thousands_of_stray_files_travels_as_twenty_names_and_a_count(tmp_path):
    """The coordinator names the first 20 files not graded (a link among them: never read)
    and counts the rest; the worker writes none of them, and the note counts them all."""
    course = tmp_path / "course"
    folder = course / "submitted" / "s" / "toy"
    folder.mkdir(parents=True)
    nbformat.write(toy_submission(), folder / "toy.ipynb")
    names = [f"f{i:05}.txt" for i in range(3000)]
    for name in reversed(names):  # not in directory order
        (folder / name).touch()
    (folder / "a-link").symlink_to(tmp_path / "elsewhere")  # sorts first
    task = submitted_task(course, "toy", "s", max_bytes=20 << 20, graded=frozenset({"toy.ipynb"}))
    assert task.stray == ("a-link", *names[:19]) and task.stray_more == 2981
    assert set(task.files) == {"toy.ipynb"} and task.links == ()
    ctx = _context(tmp_path, Limits())
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    assert submission.rebuild_submission(ctx.release, ctx.limits, task, dest, result)
    assert sorted(p.name for p in dest.iterdir()) == ["toy.ipynb"]  # the rebuilt notebook only
    named = ", ".join(task.stray)
    assert f"files not graded: {named} and 2981 more" in result.notes, result.notes


def _context(tmp: Path, limits: Limits, notebooks: tuple[str, ...] = ("toy.ipynb",)) -> BatchContext:
    (tmp / "work").mkdir()
    release = {name: nbformat.writes(toy_source()).encode() for name in notebooks}
    return BatchContext(assignment="toy", course_id="course", work=tmp / "work",
                        source=release, release=release, template_db=b"",
                        packages=PackageSnapshot(roots={}, files={}), timeout=60,
                        config_text="", isolation="none", limits=limits)


GRADED = frozenset({"toy.ipynb"})


SOLUTION = b'{"cells": "THE SOLUTION"}'


def _course(tmp_path: Path) -> tuple[Path, Path]:
    course = tmp_path / "course"
    folder = course / "submitted" / "s" / "toy"
    folder.mkdir(parents=True)
    nbformat.write(toy_submission(), folder / "toy.ipynb")
    (course / "source" / "toy").mkdir(parents=True)
    (course / "source" / "toy" / "toy.ipynb").write_bytes(SOLUTION)
    return course, folder


class _Entry:
    """A directory entry as listed (its type from the listing), with a hook on stat()."""

    def __init__(self, entry: os.DirEntry, on_stat) -> None:
        self._entry, self._on_stat = entry, on_stat
        self.name, self.path = entry.name, entry.path

    def is_symlink(self) -> bool:
        return self._entry.is_symlink()

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._entry.is_file(follow_symlinks=follow_symlinks)

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._entry.is_dir(follow_symlinks=follow_symlinks)

    def inode(self) -> int:
        return self._entry.inode()

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        result = self._entry.stat(follow_symlinks=follow_symlinks)
        self._on_stat()
        return result


def _change_during_scan(monkeypatch, *, before=None, after_listing=None, after_size=None) -> None:
    """Run ``before`` when the folder is about to be listed, ``after_listing`` once every
    name is listed (and typed) but before any is looked at, ``after_size`` right after the
    first size is taken (an entry's stat or an fstat, whichever the scan uses)."""
    real_scandir, real_fstat = os.scandir, os.fstat
    fired = []

    def once() -> None:
        if after_size is not None and not fired:
            fired.append(True)
            after_size()

    def scandir(arg):
        if before is not None:
            before()
        with real_scandir(arg) as it:
            entries = [_Entry(e, once) for e in it]
        if after_listing is not None:
            after_listing()

        class Listing:
            def __enter__(self):
                return iter(entries)

            def __exit__(self, *exc):
                return None

        return Listing()

    def fstat(fd):
        result = real_fstat(fd)
        once()
        return result

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "fstat", fstat)


def test_a_notebook_swapped_for_a_link_after_the_listing_is_never_followed(tmp_path, monkeypatch):
    course, folder = _course(tmp_path)

    def swap():
        (folder / "toy.ipynb").unlink()
        (folder / "toy.ipynb").symlink_to(course / "source" / "toy" / "toy.ipynb")

    _change_during_scan(monkeypatch, after_listing=swap)
    task = submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)
    assert SOLUTION not in task.files.values(), "the coordinator read the solution"
    assert task.files == {} and task.links == ("toy.ipynb",)  # graded as a link: not read


@pytest.mark.parametrize("name", ["toy.ipynb", "timestamp.txt"])
def test_a_file_swapped_for_a_fifo_after_the_listing_does_not_block_the_batch(
        tmp_path, monkeypatch, name):
    course, folder = _course(tmp_path)
    (folder / "timestamp.txt").write_text("2026-11-29 01:00:00")

    def swap():
        (folder / name).unlink()
        os.mkfifo(folder / name)

    _change_during_scan(monkeypatch, after_listing=swap)
    got: list = []
    scan = threading.Thread(target=lambda: got.append(
        submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)), daemon=True)
    scan.start()
    scan.join(10)
    if scan.is_alive():  # unblock it (a writer opens the FIFO and closes it: end of file)
        os.close(os.open(folder / name, os.O_WRONLY | os.O_NONBLOCK))
        scan.join(10)
        pytest.fail(f"the coordinator blocked on a FIFO named {name}")
    assert name not in got[0].files and not got[0].oversize  # not a file any more: not carried
    assert got[0].special == ((name, "FIFO"),)  # named as what it is now


def test_a_notebook_that_grows_after_its_size_was_taken_is_not_read_past_the_limit(
        tmp_path, monkeypatch):
    course, folder = _course(tmp_path)
    limit = (folder / "toy.ipynb").stat().st_size + 100

    def grow():
        with open(folder / "toy.ipynb", "ab") as fh:
            fh.write(b" " * (4 << 20))

    _change_during_scan(monkeypatch, after_size=grow)
    task = submitted_task(course, "toy", "s", max_bytes=limit, graded=GRADED)
    assert "toy.ipynb" not in task.files, f"read {len(task.files['toy.ipynb'])} bytes, limit {limit}"
    assert [n for n, size in task.oversize if size > limit] == ["toy.ipynb"]


@pytest.mark.parametrize("swapped", ["assignment folder", "student folder"])
def test_a_folder_swapped_for_a_link_after_its_check_is_not_listed_through_it(
        tmp_path, monkeypatch, swapped):
    course, folder = _course(tmp_path)
    decoy = tmp_path / "decoy"  # what the link leads to: the solution, as the folder expects
    (decoy / "toy").mkdir(parents=True)
    (decoy / "toy" / "toy.ipynb").write_bytes(SOLUTION)
    moved = folder if swapped == "assignment folder" else folder.parent
    target = decoy / "toy" if swapped == "assignment folder" else decoy

    def swap():
        if not moved.is_symlink():
            moved.rename(moved.with_name(moved.name + "-moved"))
            moved.symlink_to(target)

    _change_during_scan(monkeypatch, before=swap)
    task = submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)
    assert SOLUTION not in task.files.values(), "the coordinator listed the folder through a link"


UNREADABLE = textwrap.dedent("""\
    import os, sys
    from pathlib import Path
    from grading.batch.scan import submitted_task
    course = Path(sys.argv[1])
    for student in ("mode", "folder", "fine"):
        task = submitted_task(course, "toy", student, max_bytes=1 << 20,
                              graded=frozenset({"toy.ipynb"}))
        print(student, sorted(task.files), task.folder_link, repr(task.unreadable))
""")


def test_a_submission_the_grader_may_not_read_is_an_error_for_its_student_only(tmp_path):
    """nbgrader collect copies the mode of the student's files (shutil.copytree): a notebook
    the student made readable to others only (0o004) reaches submitted/ unreadable by its
    owner, the grader. Its student gets an error saying so; not an exception that stops the
    batch for everyone, nor "no notebook" (the student did submit)."""
    course = tmp_path / "course"
    for student in ("mode", "folder", "fine"):
        (course / "submitted" / student / "toy").mkdir(parents=True)
        (course / "submitted" / student / "toy" / "toy.ipynb").write_text("{}")
    (course / "submitted" / "mode" / "toy" / "toy.ipynb").chmod(0o004)
    (course / "submitted" / "folder" / "toy").chmod(0o004)
    powerless = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"] \
        if os.geteuid() == 0 else []  # as root every permission is bypassed
    proc = subprocess.run([*powerless, sys.executable, "-c", UNREADABLE, str(course)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    (course / "submitted" / "folder" / "toy").chmod(0o755)  # (for tmp_path's removal)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert got["fine"] == "['toy.ipynb'] False ''"
    assert got["mode"].startswith("[] False ") and "toy.ipynb" in got["mode"] \
        and "Permission denied" in got["mode"], got
    assert got["folder"].startswith("[] False ") and "Permission denied" in got["folder"], got
    task = Task("mode", {}, unreadable="not graded: the grader cannot read toy.ipynb")
    outcome = grade_task(None, task)  # (no bundle needed: nothing is graded)
    assert outcome.result.status == STATUS_ERROR and outcome.private is None
    assert outcome.result.notes == [task.unreadable]


FOLDER_NOTES = {
    "my work": "folders and special files not graded: 'my work' (folder)",
    "toy.ipynb": "toy.ipynb is a folder, not a notebook file: not graded, nor anything inside it",
}


@pytest.mark.parametrize("inside", ["my work", "toy.ipynb"])
def test_a_notebook_handed_in_inside_a_folder_is_named_in_a_note(tmp_path, inside):
    """A student who hands in a folder (the notebook inside it, as an LMS upload of a folder
    unpacks) submitted something: the instructor reads the note naming it, not a bare
    "missing" as if nothing had been handed in (the names of files not graded are noted)."""
    course = tmp_path / "course"
    folder = course / "submitted" / "s" / "toy"
    (folder / inside).mkdir(parents=True)
    nbformat.write(toy_submission(), folder / inside / "toy.ipynb")
    task = submitted_task(course, "toy", "s", max_bytes=20 << 20, graded=GRADED)
    ctx = _context(tmp_path, Limits())
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    assert not submission.rebuild_submission(ctx.release, ctx.limits, task, dest, result)  # nothing graded
    assert any(inside in note for note in result.notes), result.notes
    assert result.notes == [FOLDER_NOTES[inside]] and not list(dest.iterdir())
    outcome = workspace.grade_one(ctx, task)  # what the worker sends back: the same note
    assert outcome.result.status == STATUS_MISSING and outcome.result.notes == [FOLDER_NOTES[inside]]


def _scan_unblocked(course: Path, unblock: list[Path]) -> Task:
    """The scan of student s, failing the test if it blocks (on a FIFO of ``unblock``)."""
    got: list[Task] = []
    scan = threading.Thread(target=lambda: got.append(
        submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)), daemon=True)
    scan.start()
    scan.join(10)
    if scan.is_alive():  # unblock it (a writer opens each FIFO and closes it: end of file)
        for fifo in unblock:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        scan.join(10)
        pytest.fail("the coordinator blocked on a FIFO")
    return got[0]


def test_fifos_sockets_and_folders_are_named_by_what_they_are_never_opened(tmp_path, monkeypatch):
    """A FIFO, a socket or a folder in a submission is named in a note with what it is, the
    first twenty and a count (a submission may hold thousands), one named like the graded
    notebook in a note of its own; none is opened (a FIFO would block the batch)."""
    course, folder = _course(tmp_path)
    (folder / "toy.ipynb").unlink()
    os.mkfifo(folder / "toy.ipynb")
    os.mkfifo(folder / "pipe")
    monkeypatch.chdir(folder)  # a socket's path must be short: bound by its name here
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("sock")
    for i in range(25):
        (folder / f"z{i:02}").mkdir()
    (folder / "timestamp.txt").mkdir()
    task = _scan_unblocked(course, [folder / "toy.ipynb", folder / "pipe"])
    assert task.files == {} and task.stray == () and task.links == () and task.oversize == ()
    assert task.special == (("pipe", "FIFO"), ("sock", "socket"), ("timestamp.txt", "folder"),
                            ("toy.ipynb", "FIFO"), *[(f"z{i:02}", "folder") for i in range(18)])
    assert task.special_more == 7  # z18 to z24: of the others, the first twenty are carried
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    ctx = _context(tmp_path, Limits())
    assert not submission.rebuild_submission(ctx.release, ctx.limits, task, dest, result)
    dirs = ", ".join(f"z{i:02} (folder)" for i in range(17))
    assert result.notes == [
        "toy.ipynb is a FIFO, not a notebook file: not graded",
        "folders and special files not graded: pipe (FIFO), sock (socket), timestamp.txt (folder), "
        f"{dirs} and 8 more",
    ], result.notes  # z17, the 21st of the 28, only counted
    assert not list(dest.iterdir())


def test_a_notebook_swapped_for_a_folder_after_the_listing_is_named_as_one(tmp_path, monkeypatch):
    course, folder = _course(tmp_path)

    def swap():
        (folder / "toy.ipynb").unlink()
        (folder / "toy.ipynb").mkdir()

    _change_during_scan(monkeypatch, after_listing=swap)
    task = submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)
    assert task.unreadable == "" and task.files == {} and task.special == (("toy.ipynb", "folder"),)


# red team rt2: entries that change type between the listing and the open
def _whiteout(path) -> None:
    """An unprivileged user's character device (0:0, an overlay whiteout): renameat2 RENAME_WHITEOUT."""
    libc = ctypes.CDLL(None, use_errno=True)
    moved = str(path) + ".moved"
    assert libc.renameat2(-100, str(path).encode(), -100, moved.encode(), 4) == 0, os.strerror(ctypes.get_errno())
    os.unlink(moved)


@pytest.mark.parametrize("name", ["toy.ipynb", "timestamp.txt"])
def test_rt2_a_file_swapped_for_a_device_after_the_listing(tmp_path, monkeypatch, name):
    course, folder = _course(tmp_path)
    (folder / "timestamp.txt").write_text("2026-11-29 01:00:00")
    _change_during_scan(monkeypatch, after_listing=lambda: _whiteout(folder / name))
    task = submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)
    assert task.unreadable == "" and name not in task.files and task.special == ((name, "device"),)


def test_rt2_a_file_swapped_for_a_hard_link_to_the_solution(tmp_path, monkeypatch):
    """Red team rt2: read as the student's notebook before (where fs.protected_hardlinks=0 lets a
    student link a file they cannot read); now named, never read."""
    course, folder = _course(tmp_path)

    def swap():
        (folder / "toy.ipynb").unlink()
        os.link(course / "source" / "toy" / "toy.ipynb", folder / "toy.ipynb")

    _change_during_scan(monkeypatch, after_listing=swap)
    task = submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)
    assert SOLUTION not in task.files.values(), "the coordinator read the solution through a hard link"
    assert task.special == (("toy.ipynb", "hard link"),)
