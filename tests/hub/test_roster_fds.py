"""deploy/roster.py's writes in the instructor's folders (their home, the exchange's course
folder) go through folders it opened without following links: no path-based chmod/chown there,
and a folder swapped for a link while root fills it does not send anything outside. No root
needed: the instructor is the current user, their home and the exchange are in tmp_path (as in
test_roster_links.py). Each test failed on the path-based code of d78c284."""

from __future__ import annotations

import json
import os
import pwd
import stat
from pathlib import Path

import pytest

from hub.test_roster import roster  # the module loaded as test_roster.py does


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    me = pwd.getpwuid(os.getuid())
    entry = pwd.struct_passwd((me.pw_name, "x", me.pw_uid, me.pw_gid, "I", str(home), "/bin/sh"))
    monkeypatch.setattr(roster.pwd, "getpwnam", lambda name: entry)
    cfg = roster.Settings(home=tmp_path / "env", exchange=exchange, db_url=None)
    decoy = tmp_path / "decoy"  # root's folder elsewhere
    decoy.mkdir(mode=0o755)
    return me.pw_name, home, cfg, decoy


def swap_for_link_on_mkdir(monkeypatch: pytest.MonkeyPatch, when: str, folder: Path, decoy: Path) -> None:
    """Just before root makes the folder named ``when``, the instructor renames ``folder`` and
    puts a link to ``decoy`` in its place (the race of a real instructor, made deterministic)."""
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == when and not folder.is_symlink():
            folder.rename(folder.with_name(folder.name + ".moved"))
            folder.symlink_to(decoy)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)


def test_no_path_based_chmod_or_chown_in_the_instructors_folders(setup, monkeypatch) -> None:
    user, home, cfg, _ = setup
    calls = []
    for name in ("chmod", "chown", "lchown"):
        real = getattr(os, name)

        def record(path, *args, _real=real, _name=name, **kwargs):
            calls.append((_name, path))
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(os, name, record)
    roster.setup_instructor(user, cfg)
    roster.setup_instructor(user, cfg)  # the re-run
    paths = [(n, p) for n, p in calls if not isinstance(p, int)]
    assert paths == [], f"path-based calls in folders the instructor controls: {paths[:5]}"
    # and what it made
    course = home / "multiclass-digits"
    assert stat.S_IMODE(course.lstat().st_mode) == 0o700
    assert (course / "nbgrader_config.py").read_bytes() == (roster.REPO / "nbgrader_config.py").read_bytes()
    assert (course / "source" / "multiclass_digits").is_dir()
    settings_file = home / ".jupyter" / "nbgrader_config.json"
    assert json.loads(settings_file.read_text()) == {"CourseDirectory": {"root": str(course)}}
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    top = cfg.exchange_course
    modes = {sub: stat.S_IMODE((top / sub).lstat().st_mode) for sub in roster.EXCHANGE_MODES}
    assert modes == roster.EXCHANGE_MODES
    assert {(top / sub).lstat().st_uid for sub in roster.EXCHANGE_MODES} == {os.getuid()}


def test_a_course_folder_swapped_for_a_link_mid_copy_sends_nothing_outside(setup, monkeypatch) -> None:
    user, home, cfg, decoy = setup
    swap_for_link_on_mkdir(monkeypatch, "source", home / "multiclass-digits", decoy)
    try:
        roster.setup_instructor(user, cfg)
    except roster.RosterError:
        pass
    assert list(decoy.iterdir()) == []
    assert stat.S_IMODE(decoy.stat().st_mode) == 0o755 and decoy.stat().st_uid == os.getuid()


def test_an_exchange_folder_swapped_for_a_link_sends_nothing_outside(setup, monkeypatch) -> None:
    user, home, cfg, decoy = setup
    swap_for_link_on_mkdir(monkeypatch, "inbound", cfg.exchange_course, decoy)
    try:
        roster.setup_instructor(user, cfg)
    except roster.RosterError:
        pass
    assert list(decoy.iterdir()) == []
    assert stat.S_IMODE(decoy.stat().st_mode) == 0o755


def test_an_exchange_course_link_is_refused_clearly(setup) -> None:
    user, home, cfg, decoy = setup
    cfg.exchange_course.symlink_to(decoy)
    with pytest.raises(roster.RosterError, match="link"):
        roster.setup_instructor(user, cfg)
    assert list(decoy.iterdir()) == [] and stat.S_IMODE(decoy.stat().st_mode) == 0o755
