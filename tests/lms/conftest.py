"""Fixtures of the LMS-route tests: a Canvas and a Moodle download of the graded lab, collected,
graded and exported with real nbgrader commands, once per module (helpers.lms_downloads)."""
from __future__ import annotations

import pytest

from helpers.lms_downloads import LmsRun, run_lms_route


@pytest.fixture(scope="module")
def lms_course(tmp_path_factory: pytest.TempPathFactory) -> LmsRun:
    """Canvas's download graded by `nbgrader autograde`, Moodle's by `python -m grading`."""
    return run_lms_route(tmp_path_factory.mktemp("lms"))
