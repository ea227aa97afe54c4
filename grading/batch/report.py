"""The instructor's report of a batch, next to its summary: ``autograded/ASSIGNMENT_report.md``.

It holds the pass rate of every test cell (full marks on that cell), the score
distribution as a histogram (``ASSIGNMENT_scores.png``, drawn with matplotlib's Agg
backend), the most common failure messages of the test cells (read from the autograded
notebooks) and the slowest submissions.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbgrader.utils import is_grade, is_solution

from grading.batch.results import STATUS_MISSING, STATUS_SKIPPED, SubmissionResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP = 10  # rows of the failure-message and slowest-submission tables
MESSAGE_CHARS = 1000  # a failure message longer than this (a student's huge exception) is cut


def failure_messages(autograded: Path, students: list[str], assignment: str) -> Counter:
    """How often each ``test cell: error`` message appears in the autograded notebooks.

    A message is kept whole (the teaching text of a test), on one line; past MESSAGE_CHARS
    characters it is cut and says how much was left out.
    """
    found: Counter = Counter()
    for student in students:
        for path in sorted((autograded / student / assignment).glob("*.ipynb")):
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # an unreadable notebook has no messages to count
                continue
            for cell in nb.cells:
                if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
                    continue
                gid = cell.metadata["nbgrader"].get("grade_id", "?")
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error":
                        message = _one_line(str(out.get("evalue", "")))
                        found[f"{gid}: {out.get('ename', 'Error')}: {message}".rstrip(": ")] += 1
    return found


def _one_line(message: str) -> str:
    """The whole message as one table cell (its lines joined by spaces), cut visibly if huge."""
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
    if len(text) <= MESSAGE_CHARS:
        return text
    return f"{text[:MESSAGE_CHARS]}... (cut: {len(text) - MESSAGE_CHARS} characters)"


MAX_BARS = 100  # one bar per point up to this many points; wider (integer) bars beyond


def _histogram(scores: list[float], max_score: float, png: Path) -> Figure:
    """Draw the score histogram into ``png`` and return its figure (the tests read its bars).

    One bar per integer score 0..max, centred on it (edges at k - 0.5), so 20/20 is not merged
    with 19. A partial-credit score counts in the bar of its nearest integer, a half rounded down
    (19.5 with 19: no bar shows more points than were earned). Above MAX_BARS points each bar
    spans a whole number of points (k*w .. k*w + w - 1). The counts axis has integer ticks.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on a grading server
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    top = math.ceil(max([max_score, *scores, 1.0]))
    width = max(1, math.ceil((top + 1) / MAX_BARS))
    counts = [0] * (top // width + 1)
    for score in scores:
        nearest = min(max(math.ceil(score - 0.5), 0), top)  # halves down; clamped to 0..top
        counts[nearest // width] += 1
    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    ax.bar(
        [i * width + (width - 1) / 2 for i in range(len(counts))],
        counts,
        width=width,
        color="tab:blue",
        edgecolor="white",
    )
    ax.set_xlim(-0.5, len(counts) * width - 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("submissions")
    ax.set_title(f"Score distribution ({len(scores)} submissions)")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    return fig


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return lines


def write_report(
    results: list[SubmissionResult], autograded: Path, assignment: str, cell_max: dict[str, float]
) -> Path:
    """Write the report and histogram for ``results``; return the report's path."""
    autograded.mkdir(parents=True, exist_ok=True)
    graded = [r for r in results if r.status not in (STATUS_MISSING,)]
    scores = [r.score for r in graded]
    max_score = max([r.max_score for r in graded] + [sum(cell_max.values()), 0.0])
    png = autograded / f"{assignment}_scores.png"
    _histogram(scores, max_score, png)
    lines = [
        f"# {assignment}: autograde report",
        "",
        f"{len(graded)} submission(s) with a score; mean "
        f"{(sum(scores) / len(scores)) if scores else 0:.2f} / {max_score:g}.",
        "",
        "## Pass rate per test cell (full marks)",
        "",
    ]
    with_grades = [r for r in graded if r.status != STATUS_SKIPPED]
    rows = []
    for gid, points in sorted(cell_max.items()):
        passed = sum(1 for r in with_grades if (r.grades.get(gid) or 0.0) >= points)
        rate = f"{100 * passed / len(with_grades):.0f} %" if with_grades else "-"
        rows.append((gid, f"{points:g}", f"{passed}/{len(with_grades)}", rate))
    lines += _table(("test cell", "points", "passed", "pass rate"), rows)
    if len(with_grades) < len(graded):
        lines += [
            "",
            f"({len(graded) - len(with_grades)} submission(s) graded by an earlier run "
            "are in the histogram but not in the pass rates.)",
        ]
    lines += [
        "",
        "## Score distribution",
        "",
        f"![score histogram]({png.name})",
        "",
        "## Most common failure messages",
        "",
    ]
    failures = failure_messages(autograded, [r.student for r in with_grades], assignment)
    lines += (
        _table(("submissions", "message"), [(n, m) for m, n in failures.most_common(TOP)])
        if failures
        else ["No test cell failed."]
    )
    lines += ["", "## Slowest submissions", ""]
    slow = sorted(with_grades, key=lambda r: -r.seconds)[:TOP]
    lines += _table(
        ("student", "seconds", "status", "worker"),
        [(r.student, f"{r.seconds:.1f}", r.status, r.worker or "-") for r in slow],
    )
    path = autograded / f"{assignment}_report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
