"""Fixtures of the grading tests: a temporary toy course, and the graded lab's big batch,
graded ONCE per session and checked by several test modules.

Every fault and cheat of helpers.faults, the graded lab's ordinary submissions
(helpers.submissions) and the corpus of notebooks saved by other editors or damaged
(helpers.foreign, as they were handed in) go into one batch, sandboxed (the default) with tight
limits, two workers, as a real course would mix them. The batch's coordinator is this test
process. The course's source is the lab as helpers.notebooks.mechanics_lab makes it (no figure
cells, no tail), and so are its students' notebooks, but for the corpus: the whole lab as it was
handed in, whose cells that release lacks are extra cells, never run. The lab itself is tested
whole elsewhere. The escape attempts of helpers.escapes test the sandbox, not the lab: they are
graded in a batch of the toy assignment (tests/grading/isolation/test_sandbox.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers.courses import (
    lab_base,
    lab_course,
    make_course,
    sha256,
    submit,
    toy_source,
)
from helpers.faults import CASES, student_notebook
from helpers.foreign import CASES as CORPUS
from helpers.foreign import student_of
from helpers.repo import LAB
from helpers.submissions import SUBMISSIONS, filled_release

from grading.batch.coordinator import autograde_all
from grading.batch.results import SubmissionResult
from grading.isolation.integrity import package_dir
from grading.limits import Limits

LAB_LIMITS = Limits(memory=2 << 30, pids=128, file_size=64 << 20)


@pytest.fixture()
def toy_course(tmp_path: Path) -> Path:
    """A course folder (in the test's tmp_path) whose source is the toy assignment ``toy``."""
    return make_course(tmp_path / "toy-course", "toy", toy_source())


@dataclass
class LabBatch:
    """The graded batch: course folder, results by student, the course's data file checksum
    before and after it, and its progress lines."""

    course: Path
    results: dict[str, SubmissionResult]
    data_before: str
    data_after: str
    lines: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)  # autograde_all's options (one by one: test_worker.py)


@pytest.fixture(scope="session")
def lab_batch(tmp_path_factory: pytest.TempPathFactory) -> LabBatch:
    course = lab_course(tmp_path_factory.mktemp("labcourse"), mechanics=True)
    base = lab_base(mechanics=True)
    for case in CASES:
        submit(course, LAB, case.name, student_notebook(base, case))
    for kind in SUBMISSIONS:  # the graded lab's ordinary submissions, in the same batch
        submit(course, LAB, f"lab_{kind}", filled_release(kind, mechanics=True))
    for case in CORPUS.values():  # notebooks from other editors, and damaged ones, as handed in
        folder = course / "submitted" / student_of(case) / LAB
        folder.mkdir(parents=True)
        (folder / f"{LAB}.ipynb").write_bytes(case.build())
    data_file = package_dir("utils") / "data" / "digits_y.npy"
    before = sha256(data_file)
    lines: list[str] = []
    # 15 s per cell: no training here (mechanics lab, --skip-tail); the longest honest cell, the
    # imports (TensorFlow), takes about 4 s with both workers busy. The never-returning softmax
    # costs one worker 2 cell timeouts (softmax_compare, test_my_softmax): 30 s, not 60 at 30 s
    options = dict(workers=2, timeout=1200, cell_timeout=15, restore_course_files=False,
                   skip_tail=True, limits=LAB_LIMITS)
    results = autograde_all(LAB, course_dir=course, progress=lines.append, **options)
    print("\n".join(lines))
    return LabBatch(course, {r.student: r for r in results}, before, sha256(data_file), lines,
                    options)
