"""nbgrader settings of the instructor's JupyterLab on the course hub (docs/hub.md).

The Formgrader's Autograde button (and ``nbgrader autograde`` in the instructor's terminal)
would run every student's code as the instructor, able to read the gradebook, ``source/``
and every submission. On the hub it is off: autograde stops before the first kernel starts,
with a message naming the sandboxed path, ``deploy/grade.py`` (``python -m grading`` run by
root). This file is on the instructor's server only (JUPYTER_CONFIG_PATH, set by the hub
for the instructors' group); the course folder's own nbgrader_config.py never sets
``Autograde.sanitize_preprocessors``, so nothing there turns the button back on.
"""
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
