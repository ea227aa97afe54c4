"""What nbgrader's marks say of a notebook cell: its grade id, whether it is a test cell."""

from __future__ import annotations

from typing import Any

from nbgrader.utils import is_grade, is_solution


def grade_id(cell: Any) -> str | None:
    """The nbgrader ``grade_id`` of a cell, or None for a cell nbgrader does not know."""
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") or None


def is_test(cell: Any) -> bool:
    """An autograded test cell: graded, and not an answer."""
    return bool(is_grade(cell) and not is_solution(cell))
