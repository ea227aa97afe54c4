"""Feedback pages as a zip the LMS hands out per student: ``python -m grading.extensions.lms_feedback ASSIGNMENT``.

After ``nbgrader generate_feedback``: each student's ``feedback/<id>/<assignment>/*.html`` goes into
``downloaded/<assignment>/feedback_<lms>.zip`` under the name the LMS files it by (the prefix of
that student's own download, :mod:`grading.extensions.lms_names`). Canvas: Grades > the
assignment's menu > Re-Upload Submissions (each page becomes a comment on that student's
submission). Moodle: View all submissions > Grading action "Upload multiple feedback files in a
zip" (Feedback files must be enabled for the assignment).
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from grading.extensions.lms_names import load_records, upload_name


def pack(
    course: Path, assignment: str, downloaded: str = "downloaded", feedback: str = "feedback"
) -> tuple[list[Path], list[str]]:
    """Write one zip per LMS; return (zips written, problems worth a line each)."""
    folder = course / downloaded / assignment
    records = load_records(folder)
    problems: list[str] = []
    entries: dict[str, list[tuple[Path, str]]] = {}
    for page in sorted((course / feedback).glob(f"*/{assignment}/*.html")):
        student = page.parent.parent.name
        record = records.get(student)
        if record is None:
            problems.append(f"{student}: feedback but no LMS download name (not collected by zip_collect?): skipped")
            continue
        entries.setdefault(record.lms, []).append((page, upload_name(record, page.name)))
    with_pages = {p.parent.parent.name for pages in entries.values() for p, _ in pages}
    problems += [
        f"{sid}: no feedback page (run nbgrader generate_feedback)" for sid in sorted(records) if sid not in with_pages
    ]
    written = []
    for lms, pages in sorted(entries.items()):
        target = folder / f"feedback_{lms}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for page, name in pages:
                zf.write(page, name)
        written.append(target)
    return written, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grading.extensions.lms_feedback", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("assignment")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="the course folder (default: here)")
    parser.add_argument("--downloaded", default="downloaded", help="zip_collect's download folder")
    parser.add_argument("--feedback", default="feedback", help="nbgrader's feedback folder")
    args = parser.parse_args(argv)
    written, problems = pack(args.course, args.assignment, args.downloaded, args.feedback)
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    for path in written:
        with zipfile.ZipFile(path) as zf:
            print(f"{path}: {len(zf.namelist())} feedback page(s) to upload")
    if not written:
        print("error: no feedback page of a collected student found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
