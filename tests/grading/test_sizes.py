"""What the grader itself reads of a submission, outside every sandbox, is bounded: an
oversized notebook or cell is an error for its student and is never parsed, and the
coordinator reads only the names of files it does not grade."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from grading import workspace
from grading.batch import _submitted_task
from grading.cluster import _write_submission
from grading.integrity import PackageSnapshot
from grading.results import STATUS_ERROR, SubmissionResult
from grading.sandbox import Limits
from grading.workspace import BatchContext, grade_one
from helpers.courses import make_course, submit, toy_source, toy_submission


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
    real_read, real_review = nbformat.read, workspace.review_flags

    def read(path, *args, **kwargs):
        seen.append(Path(path).parent.name)
        return real_read(path, *args, **kwargs)

    def review(source, *args, **kwargs):
        seen.append(f"cell of {len(source)}")
        return real_review(source, *args, **kwargs)

    monkeypatch.setattr(workspace.nbformat, "read", read)
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
    task = _submitted_task(course, "toy", "s", max_bytes=20 << 20,
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
    task = _submitted_task(course, "toy", "s", max_bytes=20 << 20, graded=frozenset({"toy.ipynb"}))
    assert set(task.files) == {"toy.ipynb"}
    assert task.stray == tuple(f"copy{i:02}.ipynb" for i in range(50))
    assert task.oversize == (("timestamp.txt", 5020),)


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

