"""Red team rt2 of the scan: entries that change type between the listing and the open."""
from __future__ import annotations

import ctypes
import os

import pytest
from test_scan import GRADED, SOLUTION, _change_during_scan, _course

from grading.batch.scan import submitted_task


def _whiteout(path) -> None:
    """An unprivileged user's character device (0:0, an overlay whiteout): renameat2 RENAME_WHITEOUT."""
    libc = ctypes.CDLL(None, use_errno=True)
    moved = str(path) + ".moved"
    if libc.renameat2(-100, str(path).encode(), -100, moved.encode(), 4) != 0:
        pytest.skip(os.strerror(ctypes.get_errno()))
    os.unlink(moved)


@pytest.mark.parametrize("name", ["toy.ipynb", "timestamp.txt"])
def test_rt2_a_file_swapped_for_a_device_after_the_listing(tmp_path, monkeypatch, name):
    course, folder = _course(tmp_path)
    (folder / "timestamp.txt").write_text("2026-11-29 01:00:00")
    _change_during_scan(monkeypatch, after_listing=lambda: _whiteout(folder / name))
    task = submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)
    assert task.unreadable == "" and name not in task.files and task.special == ((name, "device"),)


@pytest.mark.xfail(strict=True, reason="red team rt2: a hard link is read as the student's notebook "
                   "(only where fs.protected_hardlinks=0 lets a student link a file they cannot read)")
def test_rt2_a_file_swapped_for_a_hard_link_to_the_solution(tmp_path, monkeypatch):
    course, folder = _course(tmp_path)

    def swap():
        (folder / "toy.ipynb").unlink()
        os.link(course / "source" / "toy" / "toy.ipynb", folder / "toy.ipynb")

    _change_during_scan(monkeypatch, after_listing=swap)
    task = submitted_task(course, "toy", "s", max_bytes=1 << 20, graded=GRADED)
    assert SOLUTION not in task.files.values(), "the coordinator read the solution through a hard link"
