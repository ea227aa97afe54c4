"""The LMS file names (grading.extensions.lms_names): Canvas's and Moodle's download names read
back, and renamed uploads taken as the release notebook. Fast: no nbgrader command runs."""
from __future__ import annotations

import pytest

from grading.extensions.lms_names import LmsFile, notebook_name, parse, upload_name
from helpers.repo import LAB


@pytest.mark.parametrize("path, lms, sid, late", [
    ("x/smithjohn_LATE_12345_678901_hw1.ipynb", "canvas", "12345", True),
    ("x/smithjohn_12345_678901_hw_1_final.ipynb", "canvas", "12345", False),
    ("x/Jo Ann Smith_8_assignsubmission_file_/hw1.ipynb", "moodle", "8", False),
    ("x/Jo Ann Smith_8_assignsubmission_file/hw1.ipynb", "moodle", "8", False),  # Moodle 4.1+
    ("x/Jo Ann Smith_8_assignsubmission_file_hw1.ipynb", "moodle", "8", False),
])
def test_lms_names(path, lms, sid, late):
    record = parse(path)
    assert (record.lms, record.student_id, record.late) == (lms, sid, late)
    assert parse("x/hw1.ipynb") is None and parse("x/smith_john_hw1.ipynb") is None


def test_renamed_uploads_are_the_release_notebook():
    released = [f"{LAB}.ipynb"]
    for name in (f"{LAB}.ipynb", f"Copy of {LAB}.ipynb", f"{LAB} (2).ipynb", f"{LAB}-3.ipynb", "lab.ipynb"):
        assert notebook_name(name, released) == f"{LAB}.ipynb"
    assert notebook_name("notes.txt", released) is None
    assert notebook_name("other.ipynb", ["a.ipynb", "b.ipynb"]) is None


def test_upload_names_keep_the_download_prefix():
    canvas = parse("x/lovelaceada_LATE_101_5001_multiclass_digits-1.ipynb")
    assert upload_name(canvas, "multiclass_digits.html") == "lovelaceada_LATE_101_5001_multiclass_digits.html"
    folder = parse("x/Ada Lovelace_55_assignsubmission_file_/Copy of multiclass_digits.ipynb")
    assert upload_name(folder, "multiclass_digits.html") == "Ada Lovelace_55_assignsubmission_file_/multiclass_digits.html"
    flat = LmsFile("moodle", "57", "Alan Turing", "Alan Turing_57_assignsubmission_file_", "a.ipynb")
    assert upload_name(flat, "a.html") == "Alan Turing_57_assignsubmission_file_a.html"
