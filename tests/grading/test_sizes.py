"""What the grader itself reads of a submission, outside every sandbox, is bounded: an
oversized notebook or cell is an error for its student and is never parsed, and the
coordinator reads only the names of files it does not grade."""
from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from grading.batch import workspace
from grading.batch.worker import _write_submission
from grading.isolation.integrity import PackageSnapshot
from grading.batch.results import STATUS_ERROR, SubmissionResult, clean_note
from grading.limits import Limits
from grading.batch.scan import submitted_task
from grading.batch.workspace import BatchContext, grade_one
from helpers.courses import TOY_ADD, make_course, submit, toy_source, toy_submission


def _context(course: Path, tmp: Path, limits: Limits) -> BatchContext:
    release = tmp / "release"
    release.mkdir()
    nbformat.write(toy_source(), release / "toy.ipynb")
    (tmp / "work").mkdir()
    return BatchContext(course_dir=course, assignment="toy", db_url="", course_id="course",
                        work=tmp / "work", template_db=tmp / "template.db", release_dir=release,
                        packages=PackageSnapshot(roots={}, files={}), timeout=60,
                        config_text="", isolation="none", limits=limits)


@pytest.fixture()
def parsed(monkeypatch) -> list[str]:
    """What the worker parses: notebooks (nbformat.read) and cell sources (review_flags)."""
    seen: list[str] = []
    real_read, real_submission = nbformat.read, workspace.read_submission
    real_review = workspace.review_flags

    def read(path, *args, **kwargs):
        seen.append(Path(path).parent.name)
        return real_read(path, *args, **kwargs)

    def submission(path):
        seen.append(Path(path).parent.name)
        return real_submission(path)

    def review(source, *args, **kwargs):
        seen.append(f"cell of {len(source)}")
        return real_review(source, *args, **kwargs)

    monkeypatch.setattr(workspace.nbformat, "read", read)
    monkeypatch.setattr(workspace, "read_submission", submission)
    monkeypatch.setattr(workspace, "review_flags", review)
    return seen


def test_a_notebook_over_the_size_limit_is_an_error_and_never_parsed(tmp_path, parsed):
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "big", toy_submission(add="x = 1\n" + "# padding\n" * 300_000))
    size = (course / "submitted" / "big" / "toy" / "toy.ipynb").stat().st_size
    assert size > 3 << 20
    res, private = grade_one(_context(course, tmp_path, Limits(notebook_bytes=2 << 20)), "big")
    assert res.status == STATUS_ERROR and private is None
    assert f"toy.ipynb is {size / (1 << 20):.1f} MB, over the 2.0 MB limit: not graded" in res.notes
    assert "toy" not in parsed  # the student's notebook (parent folder "toy"); the release is "release"


def test_a_cell_over_the_source_limit_is_an_error_and_never_parsed(tmp_path, parsed):
    course = make_course(tmp_path / "course", "toy", toy_source())
    answer = "def my_add(a, b):\n    return a + b\n" + "# padding\n" * 200
    submit(course, "toy", "long", toy_submission(add=answer))
    res, private = grade_one(_context(course, tmp_path, Limits(cell_chars=1000)), "long")
    assert res.status == STATUS_ERROR and private is None
    assert f"cell 'my_add' has {len(answer)} characters of source, over the limit of 1000: " \
           "not graded" in res.notes, res.notes
    assert not [p for p in parsed if p.startswith("cell")]  # review_flags never saw it


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
    scratch = tmp_path / "scratch"
    _write_submission(scratch, "toy", task)  # the worker sees the same names and sizes
    made = scratch / "submitted" / "s" / "toy"
    assert (made / "dataset.bin").stat().st_size == 0
    big = made / "extra.ipynb"
    assert big.stat().st_size == 100 << 20 and big.stat().st_blocks * 512 < 1 << 20


def test_a_timestamp_file_longer_than_a_timestamp_is_an_error_and_never_copied(tmp_path, parsed):
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "late", toy_submission())
    stamp = course / "submitted" / "late" / "toy" / "timestamp.txt"
    with open(stamp, "wb") as fh:  # sparse: what the worker makes of an oversized one
        fh.truncate(8 << 30)
    ctx = _context(course, tmp_path, Limits())
    res, private = grade_one(ctx, "late")
    assert res.status == STATUS_ERROR and private is None
    assert f"timestamp.txt is {8 << 30} bytes, over the 1024 bytes of a timestamp: not graded" \
           in res.notes, res.notes
    assert not list((ctx.work / "students").rglob("timestamp.txt"))


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
    and counts the rest; the worker recreates only those 20, and the note counts them all."""
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
    scratch = tmp_path / "scratch"
    _write_submission(scratch, "toy", task)
    made = scratch / "submitted" / "s" / "toy"
    assert sorted(p.name for p in made.iterdir()) == sorted(["toy.ipynb", *task.stray])
    ctx = _context(scratch, tmp_path, Limits())
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    assert workspace._rebuild_submission(ctx, "s", dest, result, not_carried=task.stray_more)
    named = ", ".join(task.stray)
    assert f"files not graded: {named} and 2981 more" in result.notes, result.notes


def test_the_files_not_graded_note_names_other_notebooks_and_only_the_first_few(tmp_path):
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "s", toy_submission())
    folder = course / "submitted" / "s" / "toy"
    for i in range(30):
        (folder / f"data{i:02}.csv").write_text("1,2\n")
    nbformat.write(toy_submission(), folder / "other.ipynb")
    ctx = _context(course, tmp_path, Limits())
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    assert workspace._rebuild_submission(ctx, "s", dest, result)
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
    scratch = tmp_path / "scratch"
    _write_submission(scratch, "toy", task)
    ctx = _context(scratch, tmp_path, Limits())
    result = SubmissionResult("s", STATUS_ERROR)
    dest = tmp_path / "dest"
    dest.mkdir()
    workspace._rebuild_submission(ctx, "s", dest, result, not_carried=task.stray_more)
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
    real_rebuild = workspace.rebuild_notebook

    def rebuild(release, submitted):
        seen.append(submitted)
        return real_rebuild(release, submitted)

    monkeypatch.setattr(workspace, "rebuild_notebook", rebuild)
    dest = tmp_path / "dest"
    dest.mkdir()
    result = SubmissionResult("s", STATUS_ERROR)
    assert workspace._rebuild_submission(_context(course, tmp_path, Limits()), "s", dest, result)
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
    assert workspace._rebuild_submission(_context(course, tmp_path, Limits()), "s", dest, result)
    assert f"toy.ipynb unreadable ({why})" in result.notes, result.notes
