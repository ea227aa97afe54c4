"""The course's nbgrader extensions, one per module as nbgrader keeps its preprocessors.

``nbgrader_config.py`` names them; ``python -m grading`` adds GuardedExecute for its private
autograde. What only they share is here too: the parsing of hidden-test blocks and the marks
of a cell. The plain path's repair (``repair``, ``repairing``), the LMS route (``lms_collect``,
``lms_export``) and the feedback page's parts (``figureimages``, ``renderformulas``, which import
matplotlib, and ``feedbackpage`` with its template in ``templates/``) are imported by name from
their modules.
"""

from grading.extensions.guardedexecute import GuardedExecute
from grading.extensions.hidehiddentests import HideHiddenTests
from grading.extensions.judgedexecute import JudgedExecute
from grading.extensions.limitnotebookbytes import LimitNotebookBytes
from grading.extensions.limitoutputbytes import LimitOutputBytes
from grading.extensions.striprunstate import StripRunState

__all__ = [
    "GuardedExecute",
    "HideHiddenTests",
    "JudgedExecute",
    "LimitNotebookBytes",
    "LimitOutputBytes",
    "StripRunState",
]
