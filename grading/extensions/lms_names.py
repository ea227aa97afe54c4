"""The file names Canvas and Moodle give submissions, and the names they take feedback back by.

Canvas's "Download Submissions" names each file ``{lastnamefirstname}[_LATE]_{user id}_{attachment
id}_{file name}`` (a resubmitted file's name gets ``-1``, ``-2``); its "Re-Upload Submissions" reads
the first two numbers of a name as the user id and the id of a file of that user's submission, so
a feedback file keeps the download's prefix. Moodle's "Download all submissions" puts each
student's files in a folder ``{Full Name}_{participant id}_assignsubmission_file_`` (or, flat, gives
each file that prefix); its feedback-zip import splits a path part at its first four underscores
and takes the second field as the participant id, the third and fourth as the plugin, so the
download's folder names work for feedback too. The id nbgrader grades under is the LMS's: Canvas's
user id (the "ID" column of its gradebook CSV), Moodle's participant id ("Participant N" in its
grading worksheet).

What ``nbgrader zip_collect`` learned of each student is kept in ``lms_students.json`` in the
assignment's download folder, for the grade export and the feedback upload.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

RECORDS = "lms_students.json"
_CANVAS = re.compile(r"^(?P<name>[^_/]*?)_(?P<late>LATE_)?(?P<uid>\d+)_(?P<att>\d+)_(?P<file>.+)$")
_MOODLE_DIR = re.compile(r"^(?P<name>[^_]+)_(?P<pid>\d+)_assignsubmission_file_?$")
_MOODLE_FILE = re.compile(r"^(?P<name>[^_]+)_(?P<pid>\d+)_assignsubmission_file_(?P<file>.+)$")
_COPY = re.compile(r"^(?:Copy of )?(?P<stem>.*?)(?: \(\d+\)|-\d+)?$")  # Colab, browsers, Canvas


@dataclass(frozen=True)
class LmsFile:
    """One submitted file as the LMS named it."""

    lms: str  # "canvas" or "moodle"
    student_id: str
    name: str  # the student's name as the LMS wrote it into the file name
    prefix: str  # the LMS's part of the name (Moodle: the folder, when files come in folders)
    filename: str  # the file's own name, as uploaded (and renamed by the LMS)
    late: bool = False
    folder: bool = False  # Moodle: one folder per student


def parse(path: str) -> LmsFile | None:
    """The LMS naming of a submitted file's path (its last two parts), or None."""
    parts = Path(path).parts
    base = parts[-1]
    if len(parts) > 1 and (m := _MOODLE_DIR.match(parts[-2])):
        return LmsFile("moodle", m["pid"], m["name"], parts[-2], base, folder=True)
    if m := _MOODLE_FILE.match(base):
        return LmsFile("moodle", m["pid"], m["name"], base[: len(base) - len(m["file"])], m["file"])
    if m := _CANVAS.match(base):
        return LmsFile(
            "canvas", m["uid"], m["name"], base[: len(base) - len(m["file"])], m["file"], late=bool(m["late"])
        )
    return None


def notebook_name(uploaded: str, released: list[str]) -> str | None:
    """The release notebook an uploaded file is: the same name once a "Copy of" (Colab), a " (1)"
    (browsers) or a "-1" (Canvas resubmission) is dropped; else, if the assignment has only one
    notebook, that one; else None."""
    stem, ext = os.path.splitext(uploaded)
    if ext != ".ipynb":
        return None
    match = _COPY.match(stem)
    name = f"{match['stem'] if match else stem}.ipynb"
    if name in released:
        return name
    return released[0] if len(released) == 1 else None


def upload_name(record: LmsFile, page: str) -> str:
    """Where a feedback page goes in the zip the LMS takes back (see the module docstring)."""
    if record.lms == "moodle" and record.folder:
        return f"{record.prefix}/{page}"
    return record.prefix + page


def records_path(downloaded: Path) -> Path:
    """The records of an assignment's download folder (``downloaded/<assignment>/``)."""
    return downloaded / RECORDS


def load_records(downloaded: Path) -> dict[str, LmsFile]:
    """{student id: LmsFile} kept by zip_collect (empty if there are none)."""
    path = records_path(downloaded)
    if not path.is_file():
        return {}
    return {sid: LmsFile(**data) for sid, data in json.loads(path.read_text(encoding="utf-8")).items()}


def save_record(downloaded: Path, record: LmsFile) -> None:
    """Add or replace one student's record."""
    records = load_records(downloaded)
    records[record.student_id] = record
    downloaded.mkdir(parents=True, exist_ok=True)
    tmp = records_path(downloaded).with_suffix(".tmp")
    tmp.write_text(json.dumps({k: asdict(v) for k, v in sorted(records.items())}, indent=1), encoding="utf-8")
    tmp.replace(records_path(downloaded))
