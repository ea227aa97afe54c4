"""Canvas and Moodle downloads of the graded lab, as the LMS packs them, and the LMS route run on them.

Canvas's "Download Submissions" zip is flat: ``{lastnamefirstname}[_LATE]_{user id}_{attachment
id}_{file name}``. Moodle's "Download all submissions" puts each student's files in a folder
``{Full Name}_{participant id}_assignsubmission_file_`` (flat names with that prefix when
"Download submissions in folders" is off; both are here). See grading.extensions.lms_names.

:func:`run_lms_route` runs, with real commands: ``nbgrader zip_collect``; ``nbgrader autograde``
(Canvas course) or ``python -m grading`` (Moodle course); ``nbgrader generate_feedback``;
``python -m grading.extensions.lms_feedback``; ``nbgrader export`` with the LMS exporter.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.courses import lab_course
from helpers.foreign import ANSWERS, CASES, colab_bytes, filled, rng_for
from helpers.repo import LAB

EXPORTER = "grading.extensions.lms_export.LmsExportPlugin"


def _nb(answers: str) -> bytes:
    return nbformat.writes(filled(ANSWERS[answers])).encode()


def canvas_download() -> dict[str, bytes]:
    """{name in the zip: bytes}: three students and two files that are no submission."""
    colab = json.loads(json.dumps(filled(ANSWERS["softmax_only"])))
    return {
        # saved by Colab (no nbgrader metadata): the plain path's repair finds the graded cells
        "lovelaceada_101_5001_multiclass_digits.ipynb": colab_bytes(colab, rng_for("canvas")),
        # late, and resubmitted: Canvas added "-1"; deleted a graded cell in VS Code
        "turingalan_LATE_102_5002_multiclass_digits-1.ipynb": CASES["graded_gone"].build(),
        "hoppergrace_103_5003_notes.txt": b"my notes",
        "multiclass_digits.ipynb": _nb("reference"),  # not a Canvas name: skipped
    }


def moodle_download() -> dict[str, bytes]:
    """{path in the zip: bytes}: folders per student, and one flat file."""
    return {
        "Ada Lovelace_55_assignsubmission_file_/multiclass_digits.ipynb": _nb("blank"),
        "Grace Hopper_56_assignsubmission_file_/Copy of multiclass_digits.ipynb": _nb("softmax_only"),
        "Alan Turing_57_assignsubmission_file_multiclass_digits (1).ipynb": _nb("softmax_only"),
    }


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@dataclass
class LmsRun:
    """The two course folders and every command's result, by step name."""

    canvas: Path
    moodle: Path
    steps: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs alembic
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=3000)


def _both(run: LmsRun, name: str, canvas: list[str], moodle: list[str]) -> None:
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda a: _run(*a), [(canvas, run.canvas), (moodle, run.moodle)]))
    run.steps[f"canvas {name}"], run.steps[f"moodle {name}"] = done


def run_lms_route(root: Path) -> LmsRun:
    """The LMS route end to end on a Canvas course and a Moodle course (see the module docstring)."""
    run = LmsRun(canvas=lab_course(root / "canvas"), moodle=lab_course(root / "moodle"))
    gen = ["-m", "nbgrader", "generate_assignment", LAB, "--force"]
    _both(run, "generate", gen, gen)
    for course, name, files in ((run.canvas, "submissions.zip", canvas_download()),
                                (run.moodle, "ML-Lab-3-4321.zip", moodle_download())):
        archive = course / "downloaded" / LAB / "archive"
        archive.mkdir(parents=True)
        (archive / name).write_bytes(zipped(files))
    collect = ["-m", "nbgrader", "zip_collect", LAB, "--force"]
    _both(run, "zip_collect", collect, collect)
    # the cells after the last test (training, the held-out set) left unrun on both paths: the
    # LMS route checks names, scores and files, not what the lab's tail prints
    _both(run, "grade", ["-m", "nbgrader", "autograde", LAB, "--JudgedExecute.skip_after_last_grade=True"],
          ["-m", "grading", LAB, "--isolation", "none", "--workers", "1", "--skip-tail"])
    feedback = ["-m", "nbgrader", "generate_feedback", LAB, "--force"]
    _both(run, "feedback", feedback, feedback)
    pack = ["-m", "grading.extensions.lms_feedback", LAB]
    _both(run, "pack", pack, pack)
    export = ["-m", "nbgrader", "export", f"--exporter={EXPORTER}"]
    _both(run, "export", [*export, "--LmsExportPlugin.lms=canvas", "--to=canvas.csv"],
          [*export, "--LmsExportPlugin.lms=moodle", "--to=moodle_{assignment}.csv"])
    _both(run, "export all", [*export, "--to=canvas_all.csv", "--LmsExportPlugin.include_needs_manual_grade=True",
                              f"--LmsExportPlugin.points={LAB}=100"],
          [*export, "--LmsExportPlugin.lms=moodle", "--to=moodle_100.csv", f"--LmsExportPlugin.points={LAB}=100"])
    return run
