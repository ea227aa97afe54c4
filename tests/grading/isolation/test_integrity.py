"""grading.isolation.integrity: the installed course packages are restored (or reported) after each submission."""
from __future__ import annotations

from grading.isolation.integrity import PackageSnapshot


def test_package_snapshot_restores_and_reports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    (pkg / "data" / "d.npy").write_bytes(b"\x00\x01")
    snap = PackageSnapshot(
        {"pkg": pkg}, {"pkg": {"__init__.py": b"X = 1\n", "data/d.npy": b"\x00\x01"}})
    assert snap.restore_changes() == []
    (pkg / "data" / "d.npy").write_bytes(b"junk")
    (pkg / "evil.py").write_text("import os\n")
    assert snap.restore_changes(write=False) == ["pkg/data/d.npy", "pkg/evil.py (added)"]
    assert (pkg / "data" / "d.npy").read_bytes() == b"junk"  # report only
    assert snap.restore_changes() == ["pkg/data/d.npy", "pkg/evil.py (added)"]
    assert (pkg / "data" / "d.npy").read_bytes() == b"\x00\x01"
    assert not (pkg / "evil.py").exists()
    copy_dir = tmp_path / "copy"
    snap.write_copy(copy_dir)
    assert (copy_dir / "pkg" / "data" / "d.npy").read_bytes() == b"\x00\x01"
