"""nbgrader settings of the instructor's JupyterLab on the course hub (docs/hub.md).

The Formgrader's Autograde button (and ``nbgrader autograde`` in the instructor's terminal)
would run every student's code as the instructor, able to read the gradebook, ``source/``
and every submission. On the hub it is off: autograde stops before it looks at a submission,
with a message naming the sandboxed path, ``deploy/grade.py`` (``python -m grading`` run by
root). This file is on the instructor's server only (JUPYTER_CONFIG_PATH, set by the hub
for the instructors' group).

The refusal is Autograde's exporter (:class:`AutogradeOffOnHub`): nbgrader makes it in
``Autograde.start``, before ``init_destination`` (which, with the button's ``force``, deletes
the autograded notebooks the sandbox wrote) and before ``init_assignment`` (which adds the
student and an empty submission record to the gradebook), so a refused Autograde changes
nothing. It is set where the course folder's own nbgrader_config.py cannot override it: that
file is loaded after this one and sets ``c.Autograde.exporter_class`` (and its sanitizing
list) at the top level, but traitlets gives a setting nested under the parent that made the
Autograde precedence over a top-level one. The Formgrader's Autograde (button and API) is made
by the NbGraderAPI, ``nbgrader autograde`` by its app (an NbGrader).

Collect, too, is nbgrader's with one change (OwnerCheckedCollect, below): a submission is
collected only from a folder its student owns.
"""
import os
import pwd

from nbconvert.exporters import NotebookExporter
from nbgrader.exchange.default.collect import ExchangeCollect

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

AUTOGRADE_OFF = (
    "Autograde is turned off on this hub: it would run the students' code as you, with your "
    "rights to the gradebook and source/. Grade with the sandboxed grader instead: as root on "
    "the server, `python3 deploy/grade.py multiclass_digits` in the course repository "
    "(docs/hub.md, 'Grading')."
)


class AutogradeOffOnHub(NotebookExporter):
    """Autograde's exporter on the hub: refuses to be made, so Autograde stops before it
    touches the submission, the autograded folder or the gradebook."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(AUTOGRADE_OFF)


# the Formgrader (parent: NbGraderAPI), `nbgrader autograde` (parent: its app), anything else
for section in (c.NbGraderAPI.Autograde, c.NbGrader.Autograde, c.Autograde):
    section.exporter_class = AutogradeOffOnHub


class OwnerCheckedCollect(ExchangeCollect):
    """nbgrader's collect, except that a submission whose folder is not owned by the student it
    is named for is left out: nbgrader's own ``check_owner`` only logs a warning and collects it,
    so any student could hand in a later "submission" in another's name. The named student's own
    latest submission is collected instead."""

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        try:
            record["owner"] = pwd.getpwuid(os.lstat(path).st_uid).pw_name
        except (KeyError, OSError):
            record["owner"] = None
        return record

    def _sort_by_timestamp(self, records):
        # the student's own submissions first (latest first), then any forged ones
        return sorted(records, key=lambda r: (r.get("owner") == r["username"], r["timestamp"]), reverse=True)

    def copy_files(self):
        for rec in self.src_records:
            if rec.get("owner") != rec["username"]:
                self.log.warning("Not collected: %s is named for %s but owned by %s",
                                 rec["filename"], rec["username"], rec.get("owner"))
        self.src_records = [r for r in self.src_records if r.get("owner") == r["username"]]
        super().copy_files()


c.ExchangeFactory.collect = OwnerCheckedCollect
