"""The foreign-notebook corpus graded on nbgrader's plain path: real ``nbgrader autograde``.

nbgrader grades one notebook after another, so the batch is split into two course folders
graded at the same time (both cores busy), each with its own gradebook; the cases that train
the model (40 epochs, twice) are spread over the two. With each case go the clean twins of
the answers used, graded in the same batch.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import nbformat

from helpers.courses import lab_course
from helpers.foreign import ANSWERS, Case, filled, student_of
from helpers.repo import LAB

TRAINS = 25.0  # rough seconds of one autograde that trains the model (two fits of 40 epochs)
QUICK = 7.0  # one that stops before training (no model): kernel, TensorFlow import, tests


def twin_student(answers: str) -> str:
    """The student id of the clean twin of an answer set."""
    return f"twin_{answers}"


def _cost(answers: str, trains: bool) -> float:
    return TRAINS if trains and "my_model" in ANSWERS[answers] else QUICK


@dataclass
class CorpusBatch:
    """What the batch left: per student, scores and manual-grading flags read from the gradebooks."""

    where: dict[str, Path]  # student -> course folder
    returncodes: list[int]
    output: str  # stdout and stderr of every nbgrader run
    scores: dict[str, dict[str, float | None]] = field(default_factory=dict)  # test grade_id -> score
    manual: dict[str, dict[str, bool]] = field(default_factory=dict)  # grade_id -> needs_manual_grade
    comments: dict[str, dict[str, str | None]] = field(default_factory=dict)  # solution -> auto_comment
    seconds: float = 0.0

    def autograded(self, student: str) -> nbformat.NotebookNode:
        """The notebook nbgrader graded for ``student``."""
        path = self.where[student] / "autograded" / student / LAB / f"{LAB}.ipynb"
        return nbformat.read(path, as_version=4)


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs alembic
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=3000)


def _read_gradebook(batch: CorpusBatch, course: Path, students: list[str]) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            nb = gb.find_submission_notebook(LAB, LAB, student)
            batch.scores[student] = {g.name: g.score for g in nb.grades}
            batch.manual[student] = {g.name: bool(g.needs_manual_grade) for g in nb.grades}
            batch.comments[student] = {c.name: c.auto_comment for c in nb.comments}


def grade_corpus(root: Path, cases: Sequence[Case], config: str | None = None) -> CorpusBatch:
    """Grade ``cases`` and their twins under ``root`` with the course's nbgrader_config.py (or
    ``config``, the text of another one), in two course folders at once."""
    start = time.monotonic()
    first = lab_course(root / "course1")
    if config is not None:
        (first / "nbgrader_config.py").write_text(config, encoding="utf-8")
    proc = _nbgrader(first, "generate_assignment", LAB, "--force")
    if proc.returncode != 0:
        raise RuntimeError(f"generate_assignment failed:\n{proc.stdout}{proc.stderr}")
    second = root / "course2"
    shutil.copytree(first, second)
    courses = [first, second]
    work: list[tuple[str, float, bytes]] = [
        (student_of(c), _cost(c.answers, c.status != "unreadable" and "my_model" not in c.missing), c.build())
        for c in cases]
    for answers in sorted({c.answers for c in cases}):
        work.append((twin_student(answers), _cost(answers, True),
                     nbformat.writes(filled(ANSWERS[answers])).encode()))
    load = [0.0, 0.0]
    where: dict[str, Path] = {}
    for student, cost, data in sorted(work, key=lambda w: -w[1]):
        half = load.index(min(load))
        load[half] += cost
        where[student] = courses[half]
        folder = courses[half] / "submitted" / student / LAB
        folder.mkdir(parents=True)
        (folder / f"{LAB}.ipynb").write_bytes(data)
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda course: _nbgrader(course, "autograde", LAB, "--force"), courses))
    batch = CorpusBatch(where=where, returncodes=[p.returncode for p in procs],
                        output="\n".join(p.stdout + p.stderr for p in procs))
    for course in courses:
        students = [s for s, c in where.items() if c == course]
        try:
            _read_gradebook(batch, course, students)
        except Exception as exc:  # a batch that stopped part way: what it graded is still read
            batch.output += f"\n[gradebook read failed: {type(exc).__name__}: {exc}]"
            for student in students:
                try:
                    _read_gradebook(batch, course, [student])
                except Exception:
                    pass
    batch.seconds = time.monotonic() - start
    return batch
