"""Red-team regression tests for deploy/roster.py (branch rtroster): what root writes, chmods
or runs in places the instructor controls. Each test fails on the code it was written against
(roster.py of d78c284). No root needed: the instructor is faked as the current user, their
home and the exchange are in tmp_path.

The two TOCTOU races found (exchange folders: is_symlink() then chmod(); course folder:
exists() ... chown_tree's os.walk of a path the instructor may swap) are not tested here
(timing); see the report."""
from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest

from hub.test_roster import roster  # the module loaded as test_roster.py does


def fake_instructor(monkeypatch: pytest.MonkeyPatch, home: Path) -> str:
    me = pwd.getpwuid(os.getuid())
    entry = pwd.struct_passwd((me.pw_name, "x", me.pw_uid, me.pw_gid, "I", str(home), "/bin/sh"))
    monkeypatch.setattr(roster.pwd, "getpwnam", lambda name: entry)
    return me.pw_name


@pytest.fixture
def cfg(tmp_path: Path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    return roster.Settings(home=tmp_path / "env", exchange=exchange, db_url=None)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    return home


def test_a_course_folder_link_does_not_chmod_its_target(tmp_path, home, cfg, monkeypatch) -> None:
    # on a re-run: the instructor replaced ~/multiclass-digits by a link to /etc/shadow, /tmp, ...
    decoy = tmp_path / "decoy"
    decoy.write_text("root's")
    decoy.chmod(0o644)
    (home / "multiclass-digits").symlink_to(decoy)
    user = fake_instructor(monkeypatch, home)
    try:
        roster.setup_instructor(user, cfg)
    except roster.RosterError:
        pass
    assert stat.S_IMODE(decoy.stat().st_mode) == 0o644  # roster.py: os.chmod(course, 0o700)


def test_a_jupyter_folder_link_does_not_redirect_the_settings_file(tmp_path, home, cfg, monkeypatch) -> None:
    # ~/.jupyter -> a folder of root's (e.g. the course environment's etc/jupyter, on every
    # account's config path): O_NOFOLLOW guards only the last component
    target = tmp_path / "roots_folder"
    target.mkdir()
    decoy = target / "nbgrader_config.json"
    decoy.write_text('{"root": "original"}')
    (home / ".jupyter").symlink_to(target)
    (home / "multiclass-digits").mkdir()
    user = fake_instructor(monkeypatch, home)
    try:
        roster.setup_instructor(user, cfg)
    except (roster.RosterError, OSError):
        pass
    assert decoy.read_text() == '{"root": "original"}'


def test_the_instructors_import_does_not_get_roots_terminal(tmp_path, home, cfg, monkeypatch) -> None:
    # nbgrader runs as the instructor with the course folder as cwd (their nbgrader_config.py,
    # sys.path[0]): with root's stdin and controlling terminal it can TIOCSTI root's shell
    (home / "multiclass-digits").mkdir()
    user = fake_instructor(monkeypatch, home)
    monkeypatch.setattr(roster, "course_instructor", lambda: user)
    monkeypatch.setattr(roster.os, "chown", lambda *a, **k: None)  # chown to root needs root
    seen = {}

    def fake_run(cmd, **kwargs):
        seen["cmd"], seen["kwargs"] = cmd, kwargs
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(roster.subprocess, "run", fake_run)
    roster.add_to_gradebook([roster.Member("s1", "Sam One", "student", "")], cfg)
    kw = seen["kwargs"]
    no_tty = "--pty" in seen["cmd"] or (kw.get("start_new_session") and kw.get("stdin") is not None)
    assert no_tty, f"runuser without --pty, start_new_session or stdin: {kw}"


@pytest.mark.parametrize("sep", ["\u2028", "\x85", "\x0b", "\x0c", "\x1e"])
def test_a_unicode_line_break_in_a_name_is_not_a_new_row(tmp_path, sep) -> None:
    # csv.writer does not quote these, str.splitlines() splits on them: a name chosen by a
    # student becomes a second roster row (here: the account 'victim')
    path = tmp_path / "roster.csv"
    path.write_text(f"username,name\ns1,Sam{sep}victim\n", encoding="utf-8")
    try:
        members = roster.read_roster(path)
    except roster.RosterError:
        return
    assert [m.username for m in members] == ["s1"]


def test_a_nul_in_a_name_is_refused_before_anything_changes(tmp_path) -> None:
    # else useradd/usermod raise ValueError (embedded null byte) half-way through the roster
    path = tmp_path / "roster.csv"
    path.write_text('username,name\ns1,"Sam\x00One"\n', encoding="utf-8")
    with pytest.raises(roster.RosterError):
        roster.read_roster(path)
