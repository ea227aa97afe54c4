"""grading.batch.options: one Options object, its defaults and its checks, for Python callers
of autograde_all as for the command line (tests/grading/test_cli.py)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from grading.batch.coordinator import Options, autograde_all
from grading.errors import GradingError
from grading.limits import Limits


def test_kernel_limits_follow_the_timeout_unless_given():
    assert Options().kernel_limits == Limits(cpu_seconds=3600)  # the default 900 s
    assert Options(timeout=300).kernel_limits.cpu_seconds == 1200
    assert replace(Options(), timeout=300).kernel_limits.cpu_seconds == 1200  # as autograde_all's fields
    limits = Limits(pids=64, cpu_seconds=99)
    assert Options(timeout=300, limits=limits).kernel_limits == limits


@pytest.mark.parametrize(("fields", "message"), [
    ({"timeout": 0}, "--timeout must be a positive number of seconds"),
    ({"timeout": -1.5}, "--timeout must be a positive number of seconds"),
    ({"timeout": float("inf")}, "--timeout must be a positive number of seconds"),
    ({"timeout": "900"}, "--timeout must be a positive number of seconds"),
    ({"cell_timeout": 0}, "--cell-timeout must be at least 1 second"),
    ({"cell_timeout": 0.5}, "--cell-timeout must be at least 1 second"),
    ({"workers": 0}, "--workers must be at least 1"),
    ({"workers": 2.5}, "--workers must be at least 1"),
    ({"isolation": "paranoid"},
     "unknown isolation level 'paranoid': use one of sandboxed, namespaces, none"),
    ({"limits": {"pids": 64}}, "limits must be a grading.limits.Limits, not dict"),
    ({"restore_course_files": 0}, "restore_course_files must be True or False, not 0"),
    ({"skip_tail": "yes"}, "skip_tail must be True or False, not 'yes'"),
])
def test_each_bad_option_is_one_clear_error(tmp_path, fields, message):
    with pytest.raises(GradingError) as err:
        Options(**fields)
    assert str(err.value) == message
    with pytest.raises(GradingError) as err:  # before anything else, even an empty course
        autograde_all("toy", course_dir=tmp_path, progress=None, **fields)
    assert str(err.value) == message
    with pytest.raises(GradingError) as err:
        autograde_all("toy", Options(course_dir=tmp_path), progress=None, **fields)
    assert str(err.value) == message
