"""What one submission's autograde produced, and the batch's summary table (CSV and Markdown)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

STATUS_OK = "ok"
STATUS_TIMEOUT = "timeout"
STATUS_ERROR = "error"
STATUS_MISSING = "no notebook"
STATUS_SKIPPED = "already graded"  # a rerun without --regrade: the gradebook has a result
STATUS_FLAGGED = "needs manual grading"  # graded, but a graded cell was not found (see its note)


def clean_note(note: str) -> str:
    """A note as one line of valid UTF-8: notes quote text the student chose (cell ids, file
    names) that may hold line breaks (forged summary rows) or lone surrogates (which no
    UTF-8 file can store: writing them would stop the batch for everyone)."""
    one_line = " ".join(note.splitlines())
    return one_line.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class SubmissionResult:
    """The outcome of autograding one student's submission."""

    student: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    grades: dict[str, float | None] = field(default_factory=dict)
    worker: str = ""  # the Dask worker that graded it
    manual: list[str] = field(default_factory=list)  # grade ids to grade by hand (graded cell not found)

    def row(self) -> dict[str, str]:
        """The summary-table row of this result."""
        return {
            "student": self.student,
            "score": f"{self.score:g}",
            "max": f"{self.max_score:g}",
            "status": self.status,
            "seconds": f"{self.seconds:.1f}",
            "notes": "; ".join(self.notes),
            "worker": self.worker,
        }


SUMMARY_FIELDS = ("student", "score", "max", "status", "seconds", "notes", "worker")


def write_summary(results: list[SubmissionResult], csv_path: Path, md_path: Path) -> str:
    """Write the summary table as CSV and Markdown; return the Markdown text."""
    rows = [r.row() for r in sorted(results, key=lambda r: r.student)]
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(SUMMARY_FIELDS) + " |", "|" + "---|" * len(SUMMARY_FIELDS)]
    for row in rows:
        cells = [row[f].replace("|", "\\|") for f in SUMMARY_FIELDS]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    md_path.write_text(text, encoding="utf-8")
    return text
