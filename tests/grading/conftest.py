"""The graded lab's big batch, graded ONCE per session and checked by several test modules.

Every fault and cheat of tests/faults/cases.py, every escape attempt of
tests/faults/escapes.py and the graded lab's ordinary submissions (tests/submissions.py)
go into one batch, sandboxed (the default) with tight limits, two workers, as a real
course would mix them. The batch's coordinator is this test process.
"""
from __future__ import annotations

import os
import secrets
import socket
import sysconfig
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from faults.cases import CASES, student_notebook
from faults.escapes import Targets, escape_cases
from grading.batch import autograde_all
from grading.integrity import package_dir
from grading.results import SubmissionResult
from grading.sandbox import Limits
from grading_helpers import LAB, ROOT, lab_base, lab_course, sha256, submit
from submissions import SUBMISSIONS, filled_release

LAB_LIMITS = Limits(memory=2 << 30, pids=128, file_size=64 << 20)


@dataclass
class LabBatch:
    course: Path
    results: dict[str, SubmissionResult]
    targets: Targets
    escapes: list
    accepted: list
    secret: str
    data_before: str
    data_after: str
    lines: list[str] = field(default_factory=list)
    grader_env: dict = field(default_factory=dict)


@pytest.fixture(scope="session")
def lab_batch(tmp_path_factory):
    course = lab_course(tmp_path_factory.mktemp("labcourse"))
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept())
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    secret_name, secret = "COURSE_TEST_SECRET", secrets.token_hex(16)
    targets = Targets(course=str(course), repo=str(ROOT), utils_dir=str(package_dir("utils")),
                      site_packages=sysconfig.get_paths()["purelib"], coordinator=os.getpid(),
                      loopback_port=listener.getsockname()[1], secret_name=secret_name)
    escapes = escape_cases(targets)
    base = lab_base()
    for case in CASES + escapes:
        submit(course, LAB, case.name, student_notebook(base, case))
    for kind in SUBMISSIONS:  # the graded lab's ordinary submissions, in the same batch
        submit(course, LAB, f"lab_{kind}", filled_release(kind))
    data_file = package_dir("utils") / "data" / "digits_y.npy"
    before = sha256(data_file)
    lines: list[str] = []
    os.environ[secret_name] = secret
    grader_env = dict(os.environ)
    try:
        results = autograde_all(LAB, course_dir=course, workers=2, timeout=1200, cell_timeout=60,
                                progress=lines.append, restore_course_files=False, skip_tail=True,
                                limits=LAB_LIMITS)
    finally:
        del os.environ[secret_name]
        listener.close()
    print("\n".join(lines))
    return LabBatch(course, {r.student: r for r in results}, targets, escapes, accepted, secret,
                    before, sha256(data_file), lines, grader_env)
