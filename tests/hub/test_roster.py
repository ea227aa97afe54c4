"""deploy/roster.py's reading of a roster CSV: every bad row is named and nothing is applied
(no root needed: only the parsing and checks run here; tests/hub/test_hub.py creates and
removes real accounts with it)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from helpers.repo import ROOT


def _load_roster():
    sys.path.insert(0, str(ROOT / "deploy"))
    spec = importlib.util.spec_from_file_location("course_roster", ROOT / "deploy" / "roster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


roster = _load_roster()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_roster(tmp_path: Path) -> None:
    members = roster.read_roster(write(tmp_path, "username,name,role,password\n"
                                                 "ada,Ada L,instructor,\nbob,Bob B,,s3cret\ncyd,Cyd C,Student,\n"))
    assert [(m.username, m.role, m.password) for m in members] == [
        ("ada", "instructor", ""), ("bob", "student", "s3cret"), ("cyd", "student", "")]


def test_two_columns_are_enough(tmp_path: Path) -> None:
    members = roster.read_roster(write(tmp_path, "username,name\nbob,Bob B\n"))
    assert [(m.username, m.role) for m in members] == [("bob", "student")]


@pytest.mark.parametrize("text, expected", [
    ("user,name\nbob,Bob\n", "missing ['username']"),
    ("username,name,email\nbob,Bob,b@x\n", "unknown ['email']"),
    ("username,name\nBob,Bob\n", "line 2: username 'Bob'"),
    ("username,name\nbob+x,Bob\n", "line 2: username 'bob+x'"),
    ("username,name\nroot_is_a_very_long_name_of_33chars,X\n", "line 2: username"),
    ("username,name\nbob,Bob\nbob,Bobby\n", "line 3: bob is listed twice"),
    ("username,name,role\nbob,Bob,teacher\n", "line 2: role 'teacher'"),
    ("username,name,role\nada,Ada,instructor\nbea,Bea,instructor\n", "more than one instructor"),
    ("username,name,password\nbob,Bob,a:b\n", "line 2: the password may not hold ':'"),
    ("username,name\nbob,\"Doe, Bob\"\n", "line 2: the name may not hold"),
    ("username,name\nbob,Bob,extra\n", "line 2: more fields than the header has"),
    ("username,name\n", "no accounts listed"),
])
def test_bad_rosters_name_the_line_and_change_nothing(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(roster.RosterError) as err:
        roster.read_roster(write(tmp_path, text))
    assert expected in str(err.value)
    assert "nothing changed" in str(err.value) or "header" in str(err.value)


def test_every_bad_line_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(roster.RosterError) as err:
        roster.read_roster(write(tmp_path, "username,name,role\nBob,B,\nok,O,\ncyd,C,admin\n"))
    assert "line 2" in str(err.value) and "line 4" in str(err.value) and "line 3" not in str(err.value)


def test_an_existing_account_outside_the_course_is_refused() -> None:
    # root exists on every machine and is in neither course group
    with pytest.raises(roster.RosterError, match="root is an existing account that is not in the course"):
        roster.check_accounts([roster.Member("root", "Root", "student", "")])
