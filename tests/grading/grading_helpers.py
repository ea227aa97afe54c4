"""Compatibility shim: the old name of :mod:`helpers.courses`, for tests/grading/test_cluster.py
and tests/grading/test_cluster_real.py only (another engineer is changing those files; they
move to ``from helpers.courses import ...`` then, and this file goes). New code imports
:mod:`helpers.courses` and :mod:`helpers.repo`."""
from __future__ import annotations

from helpers.courses import (
    TOY_ADD, gradebook_scores, lab_course, live_kernels, make_course, submit, toy_source,
    toy_submission,
)
from helpers.repo import LAB, ROOT

__all__ = ["LAB", "ROOT", "TOY_ADD", "gradebook_scores", "lab_course", "live_kernels",
           "make_course", "submit", "toy_source", "toy_submission"]
