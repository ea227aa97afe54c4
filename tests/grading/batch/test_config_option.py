"""--config / Options.config_file: the batch's nbgrader config comes from that file, not the
course folder's (deploy/grade.py passes root's copy, so the instructor's nbgrader_config.py never
runs as root). Seen failing before the option existed."""

from __future__ import annotations

from pathlib import Path

from grading import cli
from grading.batch.coordinator import Options, prepare_batch
from grading.batch.gradebook import sqlite_url


def test_prepare_batch_uses_the_config_file_not_the_course_folders(toy_course: Path, tmp_path: Path) -> None:
    marker = tmp_path / "course-config-ran"
    (toy_course / "nbgrader_config.py").write_text(
        f"c = get_config()\nopen({str(marker)!r}, 'w').close()\n", encoding="utf-8"
    )
    config = tmp_path / "roots" / "nbgrader_config.py"
    config.parent.mkdir()
    config.write_text("c = get_config()\nc.CourseDirectory.course_id = 'roots-copy'\n# root's copy\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    opts = Options(course_dir=toy_course, config_file=config)
    bundle = prepare_batch("toy", opts, sqlite_url(tmp_path / "gradebook.db"), work)
    assert bundle.config_text.startswith(config.read_text(encoding="utf-8"))
    assert bundle.course_id == "roots-copy"
    assert not marker.exists(), "the course folder's nbgrader_config.py ran"


def test_the_config_flag_reaches_the_options(monkeypatch) -> None:
    seen: list[Options] = []
    monkeypatch.setattr(cli, "autograde_all", lambda assignment, opts: seen.append(opts) or [])
    assert cli.main(["toy", "--config", "/opt/x/nbgrader_config.py"]) == 0
    assert seen[0].config_file == "/opt/x/nbgrader_config.py"
