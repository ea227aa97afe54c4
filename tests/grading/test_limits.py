"""grading.limits: sizes as people write them; limits checked when made; the CPU time."""
from __future__ import annotations

import pytest

from grading.errors import GradingError
from grading.limits import Limits, format_size, parse_size


def test_sizes():
    assert parse_size("4G") == 4 << 30 and parse_size("512m") == 512 << 20
    assert parse_size("1GiB") == 1 << 30 and parse_size("64K") == 64 << 10
    assert parse_size("1048576") == 1 << 20 and parse_size(7) == 7
    assert format_size(4 << 30) == "4G" and format_size(100 << 20) == "100M" and format_size(1000) == "1000"
    for bad in ("lots", "-1G", "0"):
        with pytest.raises(GradingError, match="bad size"):
            parse_size(bad)


def test_cpu_seconds_follow_the_timeout_unless_given():
    assert Limits().cpu_seconds is None
    assert Limits().for_timeout(300).cpu_seconds == 1200
    assert Limits().for_timeout(900.5).cpu_seconds == 3602
    assert Limits().for_timeout(10).cpu_seconds == 240  # never under four minutes
    assert Limits(cpu_seconds=99).for_timeout(300).cpu_seconds == 99
    assert Limits(pids=7).for_timeout(300) == Limits(pids=7, cpu_seconds=1200)


@pytest.mark.parametrize(("fields", "message"), [
    ({"pids": 0}, "--pids must be at least 1"),
    ({"pids": True}, "--pids must be at least 1"),
    ({"threads": 0}, "--kernel-threads must be at least 1"),
    ({"threads": 1.5}, "--kernel-threads must be at least 1"),
    ({"memory": 0}, "--memory must be a positive whole number of bytes"),
    ({"memory": "4G"}, "--memory must be a positive whole number of bytes"),
    ({"file_size": -1}, "--file-size must be a positive whole number of bytes"),
    ({"cpu_seconds": 0}, "cpu_seconds must be at least 1"),
    ({"notebook_bytes": 0}, "notebook_bytes must be a positive whole number of bytes"),
    ({"cell_chars": -5}, "cell_chars must be a positive whole number of characters"),
])
def test_bad_limits_are_one_clear_error(fields, message):
    with pytest.raises(GradingError) as err:
        Limits(**fields)
    assert str(err.value) == message
