"""grading.limits: sizes as people write them."""
from __future__ import annotations

import pytest

from grading.errors import GradingError
from grading.limits import format_size, parse_size


def test_sizes():
    assert parse_size("4G") == 4 << 30 and parse_size("512m") == 512 << 20
    assert parse_size("1GiB") == 1 << 30 and parse_size("64K") == 64 << 10
    assert parse_size("1048576") == 1 << 20 and parse_size(7) == 7
    assert format_size(4 << 30) == "4G" and format_size(100 << 20) == "100M" and format_size(1000) == "1000"
    for bad in ("lots", "-1G", "0"):
        with pytest.raises(GradingError, match="bad size"):
            parse_size(bad)
