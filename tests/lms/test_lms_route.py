"""The LMS route (docs/lms.md) with real commands: a Canvas and a Moodle download collected by
``nbgrader zip_collect`` (student ids from the LMS's file names), graded by ``nbgrader autograde``
(Canvas) and ``python -m grading`` (Moodle), grades exported as each LMS imports them, feedback
pages zipped under the names each LMS files them by (the rules of their import code, below)."""
from __future__ import annotations

import csv
import datetime
import json
import zipfile
from pathlib import Path

import pytest

from grading.extensions.lms_export import CANVAS_HEADER, MOODLE_HEADER, MOODLE_TIME
from helpers.repo import LAB

pytestmark = pytest.mark.slow


def test_every_command_succeeds(lms_course):
    for step, proc in lms_course.steps.items():
        assert proc.returncode == 0, f"{step}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def _submitted(course: Path) -> dict[str, list[str]]:
    root = course / "submitted"
    return {d.name: sorted(p.name for p in (d / LAB).iterdir()) for d in sorted(root.iterdir())}


def test_zip_collect_takes_the_student_id_from_the_lms_file_name(lms_course):
    assert _submitted(lms_course.canvas) == {"101": [f"{LAB}.ipynb"], "102": [f"{LAB}.ipynb"]}
    assert _submitted(lms_course.moodle) == {s: [f"{LAB}.ipynb"] for s in ("55", "56", "57")}
    log = lms_course.steps["canvas zip_collect"].stderr
    assert "Not a Canvas or Moodle submission name, skipped" in log and "notes.txt" not in _submitted(
        lms_course.canvas).get("103", [])
    records = json.loads((lms_course.moodle / "downloaded" / LAB / "lms_students.json").read_text())
    assert records["56"]["name"] == "Grace Hopper" and records["56"]["folder"] is True
    assert records["57"]["prefix"] == "Alan Turing_57_assignsubmission_file_"
    canvas = json.loads((lms_course.canvas / "downloaded" / LAB / "lms_students.json").read_text())
    assert canvas["102"]["late"] is True and canvas["102"]["filename"] == f"{LAB}-1.ipynb"


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_csv_is_what_canvas_imports(lms_course):
    rows = _rows(lms_course.canvas / "canvas.csv")
    assert rows[0] == CANVAS_HEADER + [LAB] and rows[1] == ["Points Possible", "", "", "", "", "20"]
    # 102 deleted a graded cell: flagged for manual grading, so no grade goes out yet
    assert rows[2:] == [["lovelaceada", "101", "", "", "", "10"], ["turingalan", "102", "", "", "", ""]]
    assert "need manual grading; their grades are left blank: 102" in lms_course.steps["canvas export"].stderr
    rows = _rows(lms_course.canvas / "canvas_all.csv")
    assert rows[1][-1] == "100" and [r[-1] for r in rows[2:]] == ["50", "50"]


def test_moodle_worksheet_is_what_moodle_imports(lms_course):
    rows = _rows(lms_course.moodle / f"moodle_{LAB}.csv")
    assert rows[0] == MOODLE_HEADER
    got = {r[0]: (r[1], r[4], r[5]) for r in rows[1:]}
    assert got == {"Participant 55": ("Ada Lovelace", "0", "20.00"), "Participant 56": ("Grace Hopper", "10", "20.00"),
                   "Participant 57": ("Alan Turing", "10", "20.00")}
    for row in rows[1:]:  # Moodle skips a row whose "Last modified (grade)" it cannot read
        datetime.datetime.strptime(row[8], MOODLE_TIME)
    scaled = {r[0]: r[4] for r in _rows(lms_course.moodle / "moodle_100.csv")[1:]}  # Moodle matches by id
    assert scaled == {"Participant 55": "0", "Participant 56": "50", "Participant 57": "50"}


def _canvas_reupload_ids(name: str) -> tuple[str, str] | None:
    """Canvas's Re-Upload Submissions: the first two all-digit parts are user id and attachment id."""
    numbers = [part for part in Path(name).name.split("_") if part.isdigit()]
    return (numbers[0], numbers[1]) if len(numbers) >= 2 else None


def _moodle_feedback_owner(name: str) -> str | None:
    """Moodle's feedback-zip import: the first path part that splits (at 4 underscores) into a name,
    a numeric participant id and a plugin type and name gives the participant."""
    for part in name.split("/"):
        info = part.split("_", 4)
        if len(info) >= 4 and info[1].isdigit() and (info[2], info[3]) == ("assignsubmission", "file"):
            return info[1]
    return None


def test_feedback_zips_name_each_page_for_the_students_lms_upload(lms_course):
    with zipfile.ZipFile(lms_course.canvas / "downloaded" / LAB / "feedback_canvas.zip") as zf:
        names = sorted(zf.namelist())
        assert names == [f"lovelaceada_101_5001_{LAB}.html", f"turingalan_LATE_102_5002_{LAB}.html"]
        assert [_canvas_reupload_ids(n) for n in names] == [("101", "5001"), ("102", "5002")]
        assert "Score" in zf.read(names[0]).decode() and LAB in zf.read(names[0]).decode()
    with zipfile.ZipFile(lms_course.moodle / "downloaded" / LAB / "feedback_moodle.zip") as zf:
        names = sorted(zf.namelist())
        assert names == [f"Ada Lovelace_55_assignsubmission_file_/{LAB}.html", f"Alan Turing_57_assignsubmission_file_{LAB}.html",
                         f"Grace Hopper_56_assignsubmission_file_/{LAB}.html"]
        assert [_moodle_feedback_owner(n) for n in names] == ["55", "57", "56"]
