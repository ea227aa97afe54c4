"""``nbgrader zip_collect`` of a Canvas or Moodle download: the student id from the file name.

Configure ``c.ZipCollectApp.collector_plugin = LmsCollector`` (nbgrader_config.py does). Each file
of the download is named the LMS's way (:mod:`grading.extensions.lms_names`); the student is
graded under the LMS's id, and the file is collected as the release notebook it is, also when
Colab ("Copy of ..."), a browser (" (1)") or a Canvas resubmission ("-1") renamed it. What the
name says of the student is kept for the grade export and the feedback upload. A file whose name
is neither Canvas's nor Moodle's is skipped with a warning naming it, as nbgrader skips any
file its collector does not match.
"""

from __future__ import annotations

import os
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.utils import find_all_notebooks

from grading.extensions.lms_names import notebook_name, parse, save_record


class LmsCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector for the names Canvas and Moodle give submissions."""

    def _app(self):
        return self.parent  # the ZipCollectApp that made this plugin

    def _download_folder(self) -> Path:
        app = self._app()
        return Path(app.coursedir.root) / app.downloaded_directory / app.coursedir.assignment_id

    def _released(self) -> list[str]:
        coursedir = self._app().coursedir
        return find_all_notebooks(coursedir.format_path(coursedir.release_directory, ".", coursedir.assignment_id))

    def collect(self, submitted_file: str) -> dict | None:
        if os.path.splitext(submitted_file)[1] not in self.valid_ext:
            return None
        record = parse(submitted_file)
        if record is None:
            self.log.warning("Not a Canvas or Moodle submission name, skipped: %s", submitted_file)
            return None
        name = notebook_name(record.filename, self._released())
        if name is None:
            self.log.warning(
                "%s (student %s) is no notebook of this assignment, skipped", record.filename, record.student_id
            )
            return None
        exact = Path(submitted_file).with_name(record.prefix * (not record.folder) + name)
        if name != record.filename and exact.is_file():
            self.log.warning(
                "%s of student %s skipped: the same student's %s is collected",
                record.filename,
                record.student_id,
                exact.name,
            )
            return None
        save_record(self._download_folder(), record)
        if name != record.filename:
            self.log.info("%s of student %s collected as %s", record.filename, record.student_id, name)
        return {"student_id": record.student_id, "file_id": name}
