"""The foreign-notebook corpus graded on nbgrader's plain path: real ``nbgrader autograde``.

nbgrader grades one notebook after another, so the batch is split into two course folders
graded at the same time (both cores busy), each with its own gradebook. The first runs every
cell of the cases named in ``whole`` (the VS Code case: its repaired tail must train the model);
the second leaves the cells after the last test unrun (``JudgedExecute.skip_after_last_grade``),
which no score reads; the rest are spread so that both take about as long. With each case go
the clean twins of the answers used, graded in the same batch.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.courses import lab_course, skip_tail_in
from helpers.foreign import ANSWERS, Case, filled, student_of
from helpers.repo import LAB

TRAINS = 25.0  # rough seconds of one autograde that trains the model (two fits of 40 epochs)
QUICK = 7.0  # one that stops before training (no model): kernel, TensorFlow import, tests


def twin_student(answers: str) -> str:
    """The student id of the clean twin of an answer set."""
    return f"twin_{answers}"


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


def grade_corpus(root: Path, cases: Sequence[Case], config: str | None = None,
                 whole: Collection[str] = ("vscode",)) -> CorpusBatch:
    """Grade ``cases`` and their twins under ``root`` with the course's nbgrader_config.py (or
    ``config``, the text of another one), in two course folders at once; every cell runs for the
    cases named in ``whole``, the others stop after the last test."""
    start = time.monotonic()
    first = lab_course(root / "course1")
    if config is not None:
        (first / "nbgrader_config.py").write_text(config, encoding="utf-8")
    proc = _nbgrader(first, "generate_assignment", LAB, "--force")
    if proc.returncode != 0:
        raise RuntimeError(f"generate_assignment failed:\n{proc.stdout}{proc.stderr}")
    second = root / "course2"
    shutil.copytree(first, second)
    skip_tail_in(second)
    courses = [first, second]
    load = [0.0, 0.0]
    where: dict[str, Path] = {}
    work: list[tuple[str, bytes, bool]] = []  # student, notebook, whether every cell run would train
    for c in cases:
        trains = c.status != "unreadable" and "my_model" not in c.missing and "my_model" in ANSWERS[c.answers]
        if c.name in whole:  # in the first course, every cell run
            load[0] += TRAINS if trains else QUICK
            where[student_of(c)] = first
        work.append((student_of(c), c.build(), trains))
    for answers in sorted({c.answers for c in cases}):
        work.append((twin_student(answers), nbformat.writes(filled(ANSWERS[answers])).encode(),
                     "my_model" in ANSWERS[answers]))
    for student, data, trains in work:
        if student not in where:  # one that would train goes where the training is skipped
            half = 1 if trains else load.index(min(load))
            load[half] += QUICK
            where[student] = courses[half]
        folder = where[student] / "submitted" / student / LAB
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
