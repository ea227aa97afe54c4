"""``nbgrader export`` as the CSV that Canvas's or Moodle's grade import reads.

``nbgrader export --exporter=grading.extensions.lms_export.LmsExportPlugin --LmsExportPlugin.lms=canvas``
(nbgrader_config.py sets the exporter). Canvas: one file, the columns of Canvas's own gradebook
export (``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment titled
as in Canvas, ``Name (assignment id)``; a title Canvas does not know makes a new column) and a
``Points Possible`` row; the ID is the Canvas user id zip_collect took from the file name. Moodle:
one grading worksheet per assignment (``Identifier`` = ``Participant N``, ``Grade``, ``Last
modified (grade)``: the three columns Moodle's import requires, and the others of its own
worksheet). Scores can be scaled to the LMS's maximum (``points``). A submission that needs manual
grading (the Formgrader's list, e.g. a notebook the repair could not read) gets no grade until
it is graded, unless ``include_needs_manual_grade``; a student without a submission gets none.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Dict, Enum, Unicode

from grading.extensions.lms_names import load_records

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEADER = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
]
MOODLE_TIME = "%A, %d %B %Y, %I:%M %p"  # as Moodle writes it (and strtotime reads it back)


class LmsExportPlugin(ExportPlugin):
    """Grades as Canvas's gradebook import or Moodle's grading worksheet reads them."""

    lms = Enum(["canvas", "moodle"], default_value="canvas", help="The LMS that imports the file").tag(config=True)
    columns = Dict({}, help="Canvas: assignment -> gradebook column title, e.g. 'Lab 3 (48213)'").tag(config=True)
    points = Dict({}, help="assignment -> the LMS's maximum score (default: nbgrader's)").tag(config=True)
    include_needs_manual_grade = Bool(
        False, help="Also export submissions not yet graded by hand (else their grade is left blank)"
    ).tag(config=True)
    downloaded = Unicode("downloaded", help="zip_collect's download folder (ZipCollectApp.downloaded_directory)").tag(
        config=True
    )

    def _score(self, gb: Gradebook, assignment, student: str, held: list[str]) -> str:
        try:
            sub = gb.find_submission(assignment.name, student)
        except MissingEntry:
            return ""
        if sub.needs_manual_grade and not self.include_needs_manual_grade:
            held.append(f"{student} ({assignment.name})")
            return ""
        score = max(0.0, sub.score - (sub.late_submission_penalty or 0.0))
        top = float(self.points.get(assignment.name, assignment.max_score) or 0)
        if assignment.max_score:
            score *= top / assignment.max_score
        return f"{score:.2f}".rstrip("0").rstrip(".")

    def _chosen(self, gb: Gradebook) -> tuple[list, list]:
        assignments = [a for a in gb.assignments if not self.assignment or a.name in map(str, self.assignment)]
        students = [s for s in gb.students if not self.student or s.id in map(str, self.student)]
        return assignments, students

    def _names(self, gb: Gradebook, assignments) -> dict[str, str]:
        names = {s.id: " ".join(filter(None, [s.first_name, s.last_name])) for s in gb.students}
        coursedir = getattr(self.parent, "coursedir", None)  # the ExportApp's
        root = Path(coursedir.root) if coursedir is not None else Path.cwd()
        for a in assignments:
            for sid, record in load_records(root / self.downloaded / a.name).items():
                names[sid] = names.get(sid) or record.name
        return names

    def export(self, gradebook: Gradebook) -> None:
        assignments, students = self._chosen(gradebook)
        names = self._names(gradebook, assignments)
        held: list[str] = []
        if self.lms == "canvas":
            self._canvas(gradebook, assignments, students, names, held)
        else:
            self._moodle(gradebook, assignments, students, names, held)
        if held:
            self.log.warning(
                "%d submission(s) need manual grading; their grades are left blank: %s", len(held), ", ".join(held)
            )

    def _canvas(self, gb, assignments, students, names, held) -> None:
        dest = self.to or "canvas_grades.csv"
        self.log.info("Exporting grades for Canvas to %s", dest)
        with open(dest, "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(CANVAS_HEADER + [self.columns.get(a.name, a.name) for a in assignments])
            out.writerow(
                ["Points Possible", "", "", "", ""]
                + [f"{float(self.points.get(a.name, a.max_score)):g}" for a in assignments]
            )
            for s in students:
                if not s.id.isdigit():
                    self.log.warning("student %s: not a Canvas user id, Canvas will not match the row", s.id)
                out.writerow(
                    [names.get(s.id, ""), s.id, "", "", ""] + [self._score(gb, a, s.id, held) for a in assignments]
                )

    def _moodle(self, gb, assignments, students, names, held) -> None:
        target = self.to or "moodle_grades_{assignment}.csv"
        if len(assignments) > 1 and "{assignment}" not in target:
            raise ValueError(
                "Moodle takes one grading worksheet per assignment: put {assignment} in --to, "
                "or export one assignment (--assignment)"
            )
        now = time.strftime(MOODLE_TIME)
        for a in assignments:
            dest = target.format(assignment=a.name)
            self.log.info("Exporting grades of %s for Moodle to %s", a.name, dest)
            top = f"{float(self.points.get(a.name, a.max_score)):.2f}"
            with open(dest, "w", newline="", encoding="utf-8") as f:
                out = csv.writer(f)
                out.writerow(MOODLE_HEADER)
                for s in students:
                    grade = self._score(gb, a, s.id, held)
                    try:
                        sub = gb.find_submission(a.name, s.id)
                    except MissingEntry:
                        sub = None
                    stamp = sub.timestamp.strftime(MOODLE_TIME) if sub is not None and sub.timestamp else "-"
                    out.writerow(
                        [
                            f"Participant {s.id}",
                            names.get(s.id, ""),
                            s.email or "",
                            "Submitted for grading" if sub is not None else "No submission",
                            grade,
                            top,
                            "Yes",
                            stamp,
                            now if grade else "-",
                            "",
                        ]
                    )
