"""The one error a batch reports to its user."""

from __future__ import annotations


class GradingError(RuntimeError):
    """A batch cannot start (bad course directory, unknown assignment, bad option or database
    URL); ``python -m grading`` prints it as one line and exits with status 2."""
