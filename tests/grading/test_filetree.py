"""grading.filetree: a folder as ``{relative path: bytes}`` and back, never outside its root."""
from __future__ import annotations

import pytest

from grading.errors import GradingError
from grading.filetree import read_tree, write_tree


def test_a_tree_written_reads_back_the_same(tmp_path):
    files = {"a.ipynb": b"{}", "data/x.csv": b"1,2\n", "data/deeper/y.bin": bytes(range(256))}
    write_tree(tmp_path / "t", files)
    assert read_tree(tmp_path / "t") == files
    (tmp_path / "t" / "empty").mkdir()  # folders are not files
    assert read_tree(tmp_path / "t") == files


def test_a_path_that_leaves_the_root_is_refused(tmp_path):
    with pytest.raises(GradingError, match="outside"):
        write_tree(tmp_path / "a", {"../escape.txt": b"x"})
    assert not (tmp_path / "escape.txt").exists()
