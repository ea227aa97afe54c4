"""grading.batch.results: the summary table."""
from __future__ import annotations

import csv

from grading.batch.results import SubmissionResult, write_summary


def test_write_summary_csv_and_markdown(tmp_path):
    results = [SubmissionResult("bob", "timeout", 0, 20, 901.0, ["killed after 900 s"]),
               SubmissionResult("alice", "ok", 17.5, 20, 42.25, ["a|b"], worker="w1@127.0.0.1:4000")]
    md = write_summary(results, tmp_path / "s.csv", tmp_path / "s.md")
    with open(tmp_path / "s.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["student"] for r in rows] == ["alice", "bob"]
    assert rows[0]["score"] == "17.5" and rows[0]["max"] == "20" and rows[1]["status"] == "timeout"
    assert rows[0]["worker"] == "w1@127.0.0.1:4000" and rows[1]["worker"] == ""
    assert md.splitlines()[2] == "| alice | 17.5 | 20 | ok | 42.2 | a\\|b | w1@127.0.0.1:4000 |"
    assert (tmp_path / "s.md").read_text() == md
