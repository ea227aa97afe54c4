"""Fixtures of the grading tests: a temporary toy course, and the graded lab's big batch,
graded ONCE per session and checked by several test modules.

Every fault and cheat of helpers.faults, every escape attempt of helpers.escapes, the
graded lab's ordinary submissions (helpers.submissions) and the corpus of notebooks saved by
other editors or damaged (helpers.foreign, as they were handed in) go into one batch, sandboxed (the
default) with tight limits, two workers, as a real course would mix them. The batch's
coordinator is this test process. The course's source is the lab as
helpers.notebooks.mechanics_lab makes it (no figure cells, no tail), and so are its students'
notebooks, but for the corpus: the whole lab as it was handed in, whose cells that release
lacks are extra cells, never run. The lab itself is tested whole elsewhere.
"""
from __future__ import annotations

import os
import secrets
import socket
import sysconfig
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
from helpers.escapes import Targets, accept_in_background, escape_cases
from helpers.faults import CASES, Case, student_notebook
from helpers.foreign import CASES as CORPUS
from helpers.foreign import student_of
from helpers.repo import LAB, ROOT
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
    """The graded batch: course folder, results by student, and what the host saw meanwhile."""

    course: Path
    results: dict[str, SubmissionResult]
    targets: Targets
    escapes: list[Case]
    accepted: list
    secret: str
    data_before: str
    data_after: str
    lines: list[str] = field(default_factory=list)
    grader_env: dict = field(default_factory=dict)


@pytest.fixture(scope="session")
def lab_batch(tmp_path_factory: pytest.TempPathFactory) -> LabBatch:
    course = lab_course(tmp_path_factory.mktemp("labcourse"), mechanics=True)
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = accept_in_background(listener)
    secret_name, secret = "COURSE_TEST_SECRET", secrets.token_hex(16)
    targets = Targets(course=str(course), repo=str(ROOT), utils_dir=str(package_dir("utils")),
                      site_packages=sysconfig.get_paths()["purelib"], coordinator=os.getpid(),
                      loopback_port=listener.getsockname()[1], secret_name=secret_name)
    escapes = escape_cases(targets)
    base = lab_base(mechanics=True)
    for case in CASES + escapes:
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
    os.environ[secret_name] = secret
    grader_env = dict(os.environ)
    try:
        # 30 s per cell: the longest honest cell (training) takes a few seconds even with both
        # cores shared; the never-returning softmax costs 3 cell timeouts of one worker
        results = autograde_all(LAB, course_dir=course, workers=2, timeout=1200, cell_timeout=30,
                                progress=lines.append, restore_course_files=False, skip_tail=True,
                                limits=LAB_LIMITS)
    finally:
        del os.environ[secret_name]
        listener.close()
    print("\n".join(lines))
    return LabBatch(course, {r.student: r for r in results}, targets, escapes, accepted, secret,
                    before, sha256(data_file), lines, grader_env)
