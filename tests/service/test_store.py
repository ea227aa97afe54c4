"""The grading service's records (grading.service.store): nothing lost across a restart, one
result per submission, one submission per student at a time, the counted one."""
from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from grading.service.policy import Policy
from grading.service.store import ERROR, GRADED, GRADING, QUEUED, Store

T0 = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)


def _take(store: Store, student: str, minutes: float, body: bytes = b"{}"):
    return store.add(student, "lab.ipynb", body, T0 + timedelta(minutes=minutes), lambda earlier: None)


def test_a_restart_finds_the_queue_and_requeues_what_was_being_graded(tmp_path: Path) -> None:
    path = tmp_path / "state" / "s.sqlite"
    store = Store(path)
    a, b = _take(store, "ann", 0, b"A"), _take(store, "bob", 1, b"B")
    assert store.next_queued(set()).id == a.id  # oldest first, now being graded
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = Store(path)  # the service started again
    assert again.requeue_interrupted() == 1
    assert [s.status for s in (again.get(a.id), again.get(b.id))] == [QUEUED, QUEUED]
    sub = again.next_queued(set())
    assert (sub.id, sub.attempts, again.body(sub.id)) == (a.id, 2, b"A")


def test_one_result_per_submission(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    a = _take(store, "ann", 0)
    store.next_queued(set())
    store.finish(a.id, GRADED, 10.0, 20.0, {"message": "first"}, b"<html>", T0)
    store.finish(a.id, ERROR, None, None, {"message": "second"}, None, T0)  # not being graded: ignored
    got = store.get(a.id)
    assert (got.status, got.score, got.result["message"], got.has_feedback) == (GRADED, 10.0, "first", True)
    assert store.feedback(a.id) == b"<html>"


def test_one_submission_per_student_at_a_time_oldest_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    a1, a2, b1 = _take(store, "ann", 0), _take(store, "ann", 1), _take(store, "bob", 2)
    assert store.next_queued(set()).id == a1.id
    assert store.next_queued(set()).id == b1.id  # ann's second waits for her first
    assert store.next_queued(set()) is None
    assert store.ahead_of(store.get(a2.id)) == 1  # a1 (bob's, being graded, came later)
    store.finish(a1.id, GRADED, 1.0, 2.0, {}, None, T0)
    assert store.next_queued({"bob"}).id == a2.id
    assert store.get(a2.id).status == GRADING


def test_the_limit_is_checked_in_the_same_transaction(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    policy = Policy(limit=1, window=3600)
    now = T0
    assert _take(store, "ann", 0).student == "ann"
    refused = store.add("ann", "lab.ipynb", b"{}", now, lambda earlier: policy.admit(now, earlier, None))
    assert getattr(refused, "status", None) == 429
    assert len(store.of_student("ann")) == 1


def test_the_counted_submission_is_one_per_student(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    a1, a2, b1 = _take(store, "ann", 0), _take(store, "ann", 1), _take(store, "bob", 2)
    store.set_counted("ann", a1.id)
    store.set_counted("bob", b1.id)
    store.set_counted("ann", a2.id)
    assert [(s.id, s.counted) for s in store.of_student("ann")] == [(a2.id, True), (a1.id, False)]
    assert store.get(b1.id).counted
