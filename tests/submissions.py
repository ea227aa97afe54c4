"""Compatibility shim: the old name of :mod:`helpers.submissions`, for
tests/grading/test_cluster.py and tests/grading/test_cluster_real.py only (another engineer is
changing those files; they move to ``from helpers.submissions import ...`` then, and this file
goes). New code imports :mod:`helpers.submissions`."""
from __future__ import annotations

from helpers.submissions import EXPECTED_SCORES, filled_release

__all__ = ["EXPECTED_SCORES", "filled_release"]
