"""``nbgrader autograde`` grading every submission as its answers deserve (utils.repair).

Three extensions, configured in ``nbgrader_config.py``:

- :class:`RepairingExporter` (``c.Autograde.exporter_class``) hands a submission's bytes to the
  repair untouched instead of letting nbformat read them: nbformat raises on invalid JSON or
  binary junk (the student got no result).
- :class:`RepairSubmission`, first of ``c.Autograde.sanitize_preprocessors`` (before nbgrader's
  DeduplicateIds, whose blanked duplicates made CheckCellMetadata stop the whole batch with
  "old version of the nbgrader metadata format", and before OverwriteCells): the notebook
  graded is the release with only the student's graded-cell code put in
  (:func:`utils.repair.repair_submission`); one line per repaired submission goes to
  nbgrader's log, and the repair's status travels in the notebook's metadata.
- :class:`FlagUnrepaired`, after SaveAutoGrades in ``c.Autograde.autograde_preprocessors``:
  where a graded cell was not found, its exercise's grades are marked ``needs_manual_grade``
  (the Formgrader lists the submission) and the graded cell's comment says what was missing.

``utils.repair`` is imported only when a release notebook is there to repair against, so a
course without one (``python -m grading``'s private workspaces) pays nothing for it.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

RECORD = "course_repair"  # key of the repair's record in the graded notebook's metadata
SUBMITTED = "course_repair_submitted"  # resources key: the submission's parsed JSON
FLAGGED = ("incomplete", "unreadable")
MAX_NOTEBOOK_BYTES = 20 << 20  # as utils.repair.MAX_NOTEBOOK_BYTES (not imported: see above)


def _read(filename: str, max_bytes: int) -> object:
    """The submitted file's parsed JSON, or an Unparsable saying why not (never raises)."""
    from utils.repair import Unparsable, parse_submission

    if os.path.islink(filename):
        return Unparsable("a symbolic link: not followed")
    try:
        with open(filename, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        return Unparsable(f"unreadable ({exc.strerror or type(exc).__name__})")
    return parse_submission(raw, max_bytes)


class RepairSubmission(NbGraderPreprocessor):
    """Replace the submission with the release holding only the student's graded-cell code."""

    release_path = Unicode(
        "",
        help="The release notebook to repair against ({assignment} and {notebook} are filled "
        "in); default: the course's release folder, as nbgrader generate_assignment writes it",
    ).tag(config=True)

    def release_file(self, resources: dict) -> str:
        """Where the release notebook of this submission should be."""
        info = resources["nbgrader"]
        if self.release_path:
            return self.release_path.format(assignment=info["assignment"], notebook=info["notebook"])
        coursedir = getattr(getattr(self.parent, "parent", None), "coursedir", None) or CourseDirectory(parent=self)
        folder = coursedir.format_path(coursedir.release_directory, ".", info["assignment"])
        return os.path.join(folder, f"{info['notebook']}.ipynb")

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        who = f"{info['student']}/{info['assignment']}/{info['notebook']}"
        release = self.release_file(resources)
        submitted = resources.pop(SUBMITTED, None)
        if not os.path.isfile(release):
            if submitted is not None:  # only read leniently when a release exists (see the exporter)
                raise RuntimeError(f"{release} vanished while {who} was graded")
            self.log.warning(
                "%s: not repaired: no release notebook %s (run nbgrader generate_assignment)", who, release
            )
            return nb, resources
        from utils.repair import STATUS_OK, repair_submission

        result = repair_submission(nbformat.read(release, as_version=4), nb if submitted is None else submitted)
        if result.status in FLAGGED:
            self.log.warning("%s: flagged for manual grading: %s", who, result.note)
        elif result.status != STATUS_OK:
            self.log.warning("%s: repaired: %s", who, result.note)
        result.notebook.metadata[RECORD] = {
            "status": result.status,
            "note": result.note,
            "missing": list(result.missing),
        }
        return result.notebook, resources


class RepairingExporter(NotebookExporter):
    """nbgrader's notebook exporter; where an enabled RepairSubmission will repair the notebook
    (and its release exists), the file is parsed leniently and nbformat never reads it."""

    max_bytes = Integer(MAX_NOTEBOOK_BYTES, help="Largest submitted notebook read, in bytes").tag(config=True)

    def _repairer(self) -> RepairSubmission | None:
        return next((p for p in self._preprocessors if isinstance(p, RepairSubmission) and p.enabled), None)

    def from_filename(self, filename: str, resources: dict | None = None, **kw: Any):
        repairer = self._repairer()
        if (
            repairer is None
            or not resources
            or "nbgrader" not in resources
            or not os.path.isfile(repairer.release_file(resources))
        ):
            return super().from_filename(filename, resources, **kw)
        if "metadata" not in resources or resources["metadata"] == "":
            resources["metadata"] = ResourcesDict()
        path, basename = os.path.split(filename)
        resources["metadata"]["name"] = os.path.splitext(basename)[0]
        resources["metadata"]["path"] = path
        try:
            modified = datetime.datetime.fromtimestamp(os.path.getmtime(filename), tz=datetime.UTC)
            resources["metadata"]["modified_date"] = modified.strftime("%B %-d, %Y")
        except OSError:
            pass
        resources[SUBMITTED] = _read(filename, self.max_bytes)
        return self.from_notebook_node(nbformat.v4.new_notebook(), resources=resources, **kw)


def exercise_grades(nb: NotebookNode, solution_ids: set[str]) -> list[str]:
    """grade_ids of the graded cells that test the given solution cells: each test cell belongs to
    the solution cell above it (a graded solution cell tests itself)."""
    out, current = [], None
    for cell in nb.cells:
        marks = cell.metadata.get("nbgrader", {})
        if marks.get("solution"):
            current = marks.get("grade_id")
        if marks.get("grade") and current in solution_ids:
            out.append(marks["grade_id"])
    return out


class FlagUnrepaired(NbGraderPreprocessor):
    """Mark the grades of exercises whose graded cell was not found for manual grading."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        record = nb.metadata.get(RECORD) or {}
        if record.get("status") not in FLAGGED:
            return nb, resources
        info = resources["nbgrader"]
        missing = set(record.get("missing") or [])
        keys = (info["notebook"], info["assignment"], info["student"])
        with Gradebook(info["db_url"]) as gb:
            for name in exercise_grades(nb, missing) or [
                g.name for g in gb.find_notebook(info["notebook"], info["assignment"]).grade_cells
            ]:
                gb.find_grade(name, *keys).needs_manual_grade = True
            for gid in missing:
                try:
                    gb.find_comment(gid, *keys).auto_comment = f"Not graded automatically: {record['note']}"
                except MissingEntry:
                    pass
            gb.db.commit()
        return nb, resources
