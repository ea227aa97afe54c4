"""The grading service's rules (grading.service.policy): the course settings read and checked,
the limit and the deadline judged by the server's clock."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grading.errors import GradingError
from grading.service.policy import Policy, from_env, parse_limit

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [("10/h", (10, 3600.0)), ("3/30min", (3, 1800.0)),
                                                ("5/600", (5, 600.0)), (" 2 / 1d ", (2, 86400.0))])
def test_limits_are_read(text: str, expected: tuple[int, float]) -> None:
    assert parse_limit(text) == expected


@pytest.mark.parametrize("text", ["10", "ten/h", "10/h/2", "10/week", "/h"])
def test_a_bad_limit_names_the_setting(text: str) -> None:
    with pytest.raises(GradingError, match="COURSE_SUBMIT_LIMIT"):
        parse_limit(text)


def test_defaults_and_settings() -> None:
    assert from_env({}) == Policy(counting="latest", limit=10, window=3600.0, deadline=None, max_bytes=8 << 20)
    got = from_env({"COURSE_SUBMIT_COUNTING": "Best", "COURSE_SUBMIT_LIMIT": "2/min",
                    "COURSE_SUBMIT_DEADLINE": "2026-12-20T23:59:00+01:00", "COURSE_SUBMIT_MAX_MB": "0.5"})
    assert (got.counting, got.limit, got.window, got.max_bytes) == ("best", 2, 60.0, 1 << 19)
    assert got.deadline == datetime(2026, 12, 20, 22, 59, tzinfo=UTC)


@pytest.mark.parametrize(("env", "words"), [
    ({"COURSE_SUBMIT_COUNTING": "first"}, "latest, best"),
    ({"COURSE_SUBMIT_DEADLINE": "2026-12-20T23:59:00"}, "time zone"),
    ({"COURSE_SUBMIT_DEADLINE": "next friday"}, "ISO 8601"),
    ({"COURSE_SUBMIT_LIMIT": "0/h"}, "at least one"),
    ({"COURSE_SUBMIT_MAX_MB": "lots"}, "MiB"),
])
def test_bad_settings_are_refused_with_their_name(env: dict[str, str], words: str) -> None:
    with pytest.raises(GradingError, match=words):
        from_env(env)


def test_the_limit_counts_a_sliding_window_and_says_when_next() -> None:
    policy = Policy(limit=2, window=3600)
    first, second = NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)
    assert policy.admit(NOW, [first], None) is None
    refusal = policy.admit(NOW, [second, first], None)
    assert refusal is not None and refusal.status == 429
    assert refusal.retry_after == first + timedelta(hours=1)  # when the older one leaves the window
    assert "12:10:00 UTC" in refusal.message and "allows 2" in refusal.message
    assert policy.admit(NOW, [second, NOW - timedelta(minutes=61)], None) is None  # out of the window


def test_after_the_deadline_nothing_is_taken() -> None:
    policy = Policy()
    refusal = policy.admit(NOW, [], NOW - timedelta(seconds=1))
    assert refusal is not None and refusal.status == 403 and "deadline was 2026-12-04 11:59" in refusal.message
    assert policy.admit(NOW, [], NOW + timedelta(seconds=1)) is None


def test_latest_or_best() -> None:
    latest, best = Policy(counting="latest"), Policy(counting="best")
    assert latest.counts(5.0, 20.0) and latest.counts(5.0, None)
    assert not best.counts(5.0, 20.0)
    assert best.counts(20.0, 20.0) and best.counts(5.0, None) and best.counts(15.0, 10.0)
