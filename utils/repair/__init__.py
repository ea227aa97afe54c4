"""Every notebook graded as its answers deserve, whatever saved it: the shared repair.

    from utils.repair import parse_submission, repair_submission
    result = repair_submission(release_nb, parse_submission(path.read_bytes()))
    result.notebook, result.status, result.note, result.missing

Used by nbgrader's plain path (``grading.extensions.repair``), by ``python -m grading`` and by
the students' ``python -m utils.refresh``.
"""

from utils.repair.core import (
    METADATA_LOST,
    STATUS_INCOMPLETE,
    STATUS_OK,
    STATUS_REPAIRED,
    STATUS_UNREADABLE,
    Repair,
    repair_submission,
)
from utils.repair.reading import MAX_CELL_CHARS, MAX_CELLS, MAX_NOTEBOOK_BYTES, Unparsable, parse_submission

__all__ = [
    "MAX_CELLS",
    "MAX_CELL_CHARS",
    "MAX_NOTEBOOK_BYTES",
    "METADATA_LOST",
    "STATUS_INCOMPLETE",
    "STATUS_OK",
    "STATUS_REPAIRED",
    "STATUS_UNREADABLE",
    "Repair",
    "Unparsable",
    "parse_submission",
    "repair_submission",
]
