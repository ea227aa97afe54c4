"""grading.batch.submission: what the grader itself reads of a submission, outside every sandbox,
is bounded (an oversized notebook or cell is an error for its student and is never parsed), and
the notes on files not graded."""
from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from helpers.courses import (
    TOY_ADD,
    make_course,
    submit,
    toy_source,
    toy_submission,
)

from grading.batch import submission
from grading.batch.results import STATUS_ERROR, SubmissionResult, clean_note
from grading.batch.scan import submitted_task
from grading.batch.tasks import Task
from grading.batch.workspace import BatchContext, grade_one
from grading.isolation.integrity import PackageSnapshot
from grading.limits import Limits


def _context(tmp: Path, limits: Limits) -> BatchContext:
    (tmp / "work").mkdir()
    release = {"toy.ipynb": nbformat.writes(toy_source()).encode()}
    return BatchContext(assignment="toy", course_id="course", work=tmp / "work",
                        source=release, release=release, template_db=b"",
                        packages=PackageSnapshot(roots={}, files={}), timeout=60,
                        config_text="", isolation="none", limits=limits)


def _task(course: Path, student: str) -> Task:
    """The task the coordinator makes of ``student``'s submitted folder (default size limit)."""
    return submitted_task(course, "toy", student, max_bytes=Limits().notebook_bytes,
                          graded=frozenset({"toy.ipynb"}))


@pytest.fixture()
def parsed(monkeypatch) -> list[str]:
    """What the worker parses: notebook files (nbformat.read), the student's notebooks (their
    bytes, read_submission: "submitted notebook") and cell sources (review_flags)."""
    seen: list[str] = []
    real_read, real_submission = nbformat.read, submission.read_submission
    real_review = submission.review_flags

    def read(path, *args, **kwargs):
        seen.append(Path(path).parent.name)
        return real_read(path, *args, **kwargs)

    def read_submission(source):
        seen.append("submitted notebook")
        return real_submission(source)

    def review(source, *args, **kwargs):
        seen.append(f"cell of {len(source)}")
        return real_review(source, *args, **kwargs)

    monkeypatch.setattr(submission.nbformat, "read", read)
    monkeypatch.setattr(submission, "read_submission", read_submission)
    monkeypatch.setattr(submission, "review_flags", review)
    return seen


def test_a_notebook_over_the_size_limit_is_an_error_and_never_parsed(tmp_path, parsed):
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "big", toy_submission(add="x = 1\n" + "# padding\n" * 300_000))
    size = (course / "submitted" / "big" / "toy" / "toy.ipynb").stat().st_size
    assert size > 3 << 20
    out = grade_one(_context(tmp_path, Limits(notebook_bytes=2 << 20)), _task(course, "big"))
    res, private = out.result, out.private
    assert res.status == STATUS_ERROR and private is None
    assert f"toy.ipynb is {size / (1 << 20):.1f} MB, over the 2.0 MB limit: not graded" in res.notes
    assert "submitted notebook" not in parsed and "toy" not in parsed  # the student's notebook


def test_a_cell_over_the_source_limit_is_an_error_and_never_parsed(tmp_path, parsed):
    course = make_course(tmp_path / "course", "toy", toy_source())
    answer = "def my_add(a, b):\n    return a + b\n" + "# padding\n" * 200
    submit(course, "toy", "long", toy_submission(add=answer))
    out = grade_one(_context(tmp_path, Limits(cell_chars=1000)), _task(course, "long"))
    res, private = out.result, out.private
    assert res.status == STATUS_ERROR and private is None
    assert f"cell 'my_add' has {len(answer)} characters of source, over the limit of 1000: " \
           "not graded" in res.notes, res.notes
    assert not [p for p in parsed if p.startswith("cell")]  # review_flags never saw it


def test_a_timestamp_file_longer_than_a_timestamp_is_an_error_and_never_copied(tmp_path, parsed):
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "late", toy_submission())
    stamp = course / "submitted" / "late" / "toy" / "timestamp.txt"
    with open(stamp, "wb") as fh:  # sparse: 8 GiB that take no disk
        fh.truncate(8 << 30)
    ctx = _context(tmp_path, Limits())
    task = _task(course, "late")
    assert task.oversize == (("timestamp.txt", 8 << 30),)  # by size, never read
    out = grade_one(ctx, task)
    res, private = out.result, out.private
    assert res.status == STATUS_ERROR and private is None
    assert f"timestamp.txt is {8 << 30} bytes, over the 1024 bytes of a timestamp: not graded" \
           in res.notes, res.notes
    assert not list((ctx.work / "students").rglob("timestamp.txt"))


def _rebuild_or_refuse(tmp_path, course, student: str, dest) -> SubmissionResult | None:
    """The toy ``student``'s submission rebuilt into ``dest`` as the workspace does; None if refused."""
    dest.mkdir()
    result = SubmissionResult(student, STATUS_ERROR)
    ctx = _context(tmp_path, Limits())
    try:
        submission.rebuild_submission(ctx.release, ctx.limits, _task(course, student), dest, result)
    except submission.Refused:
        return None
    return result


@pytest.mark.parametrize("zone", ["/etc/hostname", "/etc/passwd", "../../../../etc/passwd"])
def test_a_timestamp_whose_zone_is_a_host_path_never_opens_it(tmp_path, monkeypatch, zone):
    """nbgrader reads timestamp.txt in the worker, as the grader, before any sandbox: a zone
    that is a path is the student's choice of a host file for it to open (one that blocks on
    read, as /proc/kmsg does, holds the submission until its wall clock; and "no zone file"
    stops the autograde where a missing file does not, which tells whether the file exists).
    The timestamp the worker hands nbgrader names no file (or the submission is refused)."""
    import contextlib
    import importlib

    import dateutil.tz
    from nbgrader.coursedir import CourseDirectory

    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "s", toy_submission())
    (course / "submitted" / "s" / "toy" / "timestamp.txt").write_text(f"2026-11-29 01:00:00 {zone}\n")
    dest = tmp_path / "dest"
    if _rebuild_or_refuse(tmp_path, course, "s", dest) is None:
        return  # refused with a note: nbgrader never parses it
    opened: list[str] = []
    real_open = open

    def recording_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    zone_files = importlib.import_module(dateutil.tz.tzfile.__module__)  # where tzfile opens them
    monkeypatch.setattr(zone_files, "open", recording_open, raising=False)
    dateutil.tz.gettz.cache_clear()
    with contextlib.suppress(Exception):  # as nbgrader autograde reads it (it stops on a bad one)
        CourseDirectory().get_existing_timestamp(str(dest))
    assert zone not in opened, f"nbgrader opened {zone} named by the student's timestamp.txt"


@pytest.mark.parametrize("deep", ["x = " + "-" * 900_000 + "1", "x = 1" + " + 1" * 200_000])
def test_an_answer_too_deep_for_the_parser_is_a_note_not_an_exception(tmp_path, deep):
    """An answer cell under the source limit that Python's parser cannot build (900,000
    unary minuses, 200,000 additions) is the student's problem: a note for them, never an
    exception out of the worker's rebuild (the coordinator would show it as a bare
    ``RecursionError`` for that student, the notebook not graded at all)."""
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "deep", toy_submission(add=TOY_ADD + deep + "\n"))
    result = _rebuild_or_refuse(tmp_path, course, "deep", tmp_path / "dest")
    if result is None:
        return  # refused with a note: fine
    assert any("nested too deeply to review" in note for note in result.notes), result.notes


@pytest.mark.parametrize("stamp", ["2026-11-29 01:00:00.123456 UTC", "2026-11-29 01:00:00 -0500",
                                   "2026-11-29 01:00:00", "2026-11-29 01:00:00 CEST\n"])
def test_the_timestamps_nbgrader_writes_are_taken(stamp):
    submission._check_timestamp(stamp.encode())  # no Refused


def test_the_files_not_graded_note_names_other_notebooks_and_only_the_first_few(tmp_path):
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "s", toy_submission())
    folder = course / "submitted" / "s" / "toy"
    for i in range(30):
        (folder / f"data{i:02}.csv").write_text("1,2\n")
    nbformat.write(toy_submission(), folder / "other.ipynb")
    ctx = _context(tmp_path, Limits())
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    assert submission.rebuild_submission(ctx.release, ctx.limits, _task(course, "s"), dest, result)
    named = ", ".join([f"data{i:02}.csv" for i in range(20)])
    assert f"files not graded: {named} and 11 more" in result.notes, result.notes  # other.ipynb the 31st


def _read_back(note: str) -> tuple[list[str], int]:
    """The names and the count of more files a "files not graded" note gives, read as the
    instructor reads it: items between ', ', a quoted one a Python string, then ' and N more'."""
    text, names = note.removeprefix("files not graded: "), []
    item = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,]*?)(, | and (\d+) more$|$)""")
    while text:
        m = item.match(text)
        names.append(ast.literal_eval(m[1]) if m[1][:1] in "'\"" else m[1])
        if m[3] or not m[2]:
            return names, int(m[3] or 0)
        text = text[m.end():]
    return names, 0


def test_a_file_name_cannot_forge_the_files_not_graded_note(tmp_path):
    """The student chooses the names the note lists: read back, the note gives exactly the
    files and their count, whatever the names hold (a count of its own, the summary's note
    separator, commas, quotes, a line break, a right-to-left override, bytes that are no
    UTF-8); the note stays one printable line and an ordinary name stays as it is."""
    course = tmp_path / "course"
    folder = course / "submitted" / "s" / "toy"
    folder.mkdir(parents=True)
    nbformat.write(toy_submission(), folder / "toy.ipynb")
    names = ["data.csv", "data.csv; toy.ipynb unreadable (a symbolic link)", "a, b", "'q'", "q",
             "\u202egnp.ipynb", "line\nbreak", os.fsdecode(b"\xff.bin"), " lead", 'x"y\\',
             "\U0001f600 and 99999 more"]  # sorts last: it would end the note
    for name in names:
        (folder / name).touch()
    task = submitted_task(course, "toy", "s", max_bytes=20 << 20, graded=frozenset({"toy.ipynb"}))
    ctx = _context(tmp_path, Limits())
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    submission.rebuild_submission(ctx.release, ctx.limits, task, dest, result)
    (note,) = [clean_note(n) for n in result.notes if n.startswith("files not graded: ")]
    assert _read_back(note) == (sorted(names), 0), note
    assert note.isprintable(), note  # one line, nothing hidden
    assert note.startswith("files not graded: ") and ", data.csv, " in note


def test_outputs_and_metadata_of_a_submission_never_become_notebook_nodes(tmp_path, monkeypatch):
    """nbformat makes a NotebookNode of every JSON value (about 170 bytes of memory per byte
    of a file full of ``{}``: 3 GB for a notebook under the 20 MB limit). The rebuild takes
    only cell sources and nbgrader's marks: nothing else of the file reaches nbformat."""
    course = make_course(tmp_path / "course", "toy", toy_source())
    nb = toy_submission()
    junk = [{} for _ in range(100_000)]
    nb.metadata["junk"] = junk
    nb.cells[0].metadata["junk"] = junk
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", {"text/plain": "x"},
                                                  metadata={"junk": junk})]
    submit(course, "toy", "s", nb)
    size = (course / "submitted" / "s" / "toy" / "toy.ipynb").stat().st_size
    seen = []
    real_rebuild = submission.rebuild_notebook

    def rebuild(release, submitted):
        seen.append(submitted)
        return real_rebuild(release, submitted)

    monkeypatch.setattr(submission, "rebuild_notebook", rebuild)
    dest = tmp_path / "dest"
    dest.mkdir()
    result = SubmissionResult("s", STATUS_ERROR)
    ctx = _context(tmp_path, Limits())
    assert submission.rebuild_submission(ctx.release, ctx.limits, _task(course, "s"), dest, result)
    assert size > 1 << 20 and len(json.dumps(seen[0])) < size // 100
    marks = [c.metadata.get("nbgrader", {}).get("grade_id") for c in seen[0].cells]
    assert marks == [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    rebuilt = nbformat.read(dest / "toy.ipynb", as_version=4)
    assert [c.source for c in rebuilt.cells if "my_add" in c.source][:1] == [TOY_ADD]


def _source_5(nb: dict) -> None:
    nb["cells"][-1]["source"] = 5


def _cell_list(nb: dict) -> None:
    nb["cells"][-1] = ["a", "list"]


def _many_cells(nb: dict) -> None:
    nb["cells"] += [{"cell_type": "raw", "metadata": {}, "source": ""}] * 10_001


@pytest.mark.parametrize("spoil, why", [
    (_source_5, "a cell source that is not text"),
    (_cell_list, "a cell that is not a notebook cell"),
    (_many_cells, "10006 cells, over the 10000 of a notebook"),
])
def test_a_notebook_of_the_wrong_shape_is_unreadable_not_a_crash(tmp_path, spoil, why):
    """(An int source crashed the worker's cell-size check with a TypeError.)"""
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "s", toy_submission())
    path = course / "submitted" / "s" / "toy" / "toy.ipynb"
    data = json.loads(path.read_text())
    spoil(data)
    path.write_text(json.dumps(data))
    dest = tmp_path / "dest"
    dest.mkdir()
    result = SubmissionResult("s", STATUS_ERROR)
    ctx = _context(tmp_path, Limits())
    assert submission.rebuild_submission(ctx.release, ctx.limits, _task(course, "s"), dest, result)
    assert f"toy.ipynb unreadable ({why})" in result.notes, result.notes


