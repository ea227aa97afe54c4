"""nbgrader settings of the instructor's JupyterLab on the course hub (docs/hub.md).

The Formgrader's Autograde button (and ``nbgrader autograde`` in the instructor's terminal)
would run every student's code as the instructor, able to read the gradebook, ``source/``
and every submission. On the hub it is off: autograde stops before the first kernel starts,
with a message naming the sandboxed path, ``deploy/grade.py`` (``python -m grading`` run by
root). This file is on the instructor's server only (JUPYTER_CONFIG_PATH, set by the hub
for the instructors' group); the course folder's own nbgrader_config.py never sets
``Autograde.sanitize_preprocessors``, so nothing there turns the button back on.

Collect, too, is nbgrader's with one change (OwnerCheckedCollect, below): a submission is
collected only from a folder its student owns.
"""
import os
import pwd

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.preprocessors import NbGraderPreprocessor

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

AUTOGRADE_OFF = (
    "Autograde is turned off on this hub: it would run the students' code as you, with your "
    "rights to the gradebook and source/. Grade with the sandboxed grader instead: as root on "
    "the server, `python3 deploy/grade.py multiclass_digits` in the course repository "
    "(docs/hub.md, 'Grading')."
)


class AutogradeOffOnHub(NbGraderPreprocessor):
    """Refuse to autograde: runs before any kernel, so no submitted code executes."""

    def preprocess(self, nb, resources):
        raise RuntimeError(AUTOGRADE_OFF)


c.Autograde.sanitize_preprocessors = [AutogradeOffOnHub]


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
