"""Create (or remove) the course's Unix accounts from a roster CSV, as root (docs/hub.md).

    python3 deploy/roster.py roster.csv            # create or update the accounts
    python3 deploy/roster.py --remove roster.csv   # delete them and their home folders

The CSV has a header row with ``username`` and ``name`` columns, and optionally ``role``
(``student``, the default, or ``instructor``: one per course) and ``password`` (empty: a
generated one, printed once on standard output as ``username,password``). Every row is checked
before anything changes: one bad row and nothing is done.

Each account gets a home folder only it can read, and the course's Unix group of its role
(which is what lets it log in to the hub, and with which role). The instructor also gets the
course folder ``~/multiclass-digits`` (this repository's ``source/`` and ``nbgrader_config.py``,
the nbgrader course root), their nbgrader settings (course root, gradebook URL) and the
course's folder in nbgrader's exchange, made by root with nbgrader's own modes before any
student could create it.
"""
from __future__ import annotations

import argparse
import csv
import grp
import io
import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fdtree  # noqa: E402
from settings import (  # noqa: E402  (deploy/ is not a package: run as a script)
    INSTRUCTORS_GROUP,
    REPO,
    ROLES,
    STUDENTS_GROUP,
    Settings,
    course_folder,
    nbgrader_settings_file,
    settings,
)

USERNAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # Debian's useradd rule, without '$'; no '+' (nbgrader's separator)
PASSWORD_BYTES = 12
# nbgrader's own modes for the course's exchange folders (release_assignment.py)
EXCHANGE_MODES = {"": 0o755, "outbound": 0o755, "inbound": 0o2733, "feedback": 0o711}
# refused in names and passwords: control characters (NUL, \n, \r, \v, \f, \x1c-\x1f, \x85, ...)
# and the line and paragraph separators U+2028, U+2029
BREAKS = {"Cc", "Zl", "Zp"}
IMPORT_TIMEOUT = 300  # seconds for nbgrader db student import


class RosterError(ValueError):
    """A roster that cannot be applied; nothing was changed."""


@dataclass(frozen=True)
class Member:
    username: str
    name: str
    role: str
    password: str  # "" = generate one


def read_roster(path: Path) -> list[Member]:
    """Parse and check the whole roster; raise RosterError naming every bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from exc
    rows = csv.DictReader(io.StringIO(text, newline=""))  # csv's own line breaks only (not U+2028, \x85, ...)
    columns = [c.strip() for c in rows.fieldnames or []]
    missing = {"username", "name"} - set(columns)
    unknown = set(columns) - {"username", "name", "role", "password"}
    if missing or unknown:
        raise RosterError(f"{path}: the header must have username and name (role and password "
                          f"are optional); missing {sorted(missing)}, unknown {sorted(unknown)}")
    rows.fieldnames = columns
    members: list[Member] = []
    errors: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if None in row:
            errors.append(f"line {line}: more fields than the header has")
            continue
        username = (row.get("username") or "").strip()
        name = (row.get("name") or "").strip()
        role = (row.get("role") or "").strip().lower() or "student"
        password = row.get("password") or ""
        if not USERNAME.fullmatch(username):
            errors.append(f"line {line}: username {username!r} must be 1-32 of a-z, 0-9, _ and -, "
                          "starting with a letter")
        elif username in seen:
            errors.append(f"line {line}: {username} is listed twice")
        seen.add(username)
        if any(ch in name for ch in ":,") or any(unicodedata.category(ch) in BREAKS for ch in name):
            errors.append(f"line {line}: the name may not hold ':', ',', control characters or line breaks")
        if role not in ROLES:
            errors.append(f"line {line}: role {role!r} is neither student nor instructor")
        if ":" in password or any(unicodedata.category(ch) in BREAKS for ch in password):
            errors.append(f"line {line}: the password may not hold ':', control characters or line breaks")
        members.append(Member(username, name, role, password))
    if not members and not errors:
        errors.append("no accounts listed")
    if sum(m.role == "instructor" for m in members) > 1:
        errors.append("more than one instructor: the course has one (nbgrader's one class, one grader)")
    if errors:
        raise RosterError(f"{path}: nothing changed:\n  " + "\n  ".join(errors))
    return members


def course_groups_of(username: str) -> set[str]:
    """The course groups an existing account is in (empty if it is in none)."""
    entry = pwd.getpwnam(username)
    gids = set(os.getgrouplist(username, entry.pw_gid))
    found = set()
    for group in ROLES.values():
        try:
            if grp.getgrnam(group).gr_gid in gids:
                found.add(group)
        except KeyError:
            pass
    return found


def account_exists(username: str) -> bool:
    try:
        pwd.getpwnam(username)
        return True
    except KeyError:
        return False


def check_accounts(members: list[Member]) -> None:
    """Refuse accounts that exist outside the course, or whose role would change."""
    errors = []
    for m in members:
        if not account_exists(m.username):
            continue
        groups = course_groups_of(m.username)
        if not groups:
            errors.append(f"{m.username} is an existing account that is not in the course")
        elif groups != {ROLES[m.role]}:
            errors.append(f"{m.username} is already in {sorted(groups)}, not {ROLES[m.role]}")
    if errors:
        raise RosterError("nothing changed:\n  " + "\n  ".join(errors))


def run(*cmd: str, stdin: str | None = None) -> None:
    env = {**os.environ, "PATH": f"/usr/sbin:/sbin:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RosterError(f"{' '.join(cmd[:2])} failed ({proc.returncode}): {proc.stderr.strip()}")


def ensure_groups() -> None:
    for group in (STUDENTS_GROUP, INSTRUCTORS_GROUP):
        try:
            grp.getgrnam(group)
        except KeyError:
            run("groupadd", group)


def setup_instructor(username: str, cfg: Settings) -> None:
    """The course folder, the instructor's nbgrader settings and the exchange's course folder.
    The instructor controls their home and the exchange's course folder: root writes there only
    through folders it opened without following links (deploy/fdtree.py), and refuses a link."""
    entry = pwd.getpwnam(username)
    uid, gid = entry.pw_uid, entry.pw_gid
    home = Path(entry.pw_dir)
    course = course_folder(home)
    try:
        home_fd = fdtree.open_dir(home)
        try:
            if os.fstat(home_fd).st_uid != uid:
                raise RosterError(f"{home} is not {username}'s home folder")
            setup_course_folder(home_fd, home, course.name, uid, gid)
            settings_file = nbgrader_settings_file(home)
            jupyter = fdtree.owned_dir(home_fd, settings_file.parent.name, home, uid, gid, 0o700)
        finally:
            os.close(home_fd)
        values: dict[str, dict[str, str]] = {"CourseDirectory": {"root": str(course)}}
        if cfg.db_url:
            values["CourseDirectory"]["db_url"] = cfg.db_url
        try:
            fdtree.write_file(jupyter, settings_file.name, json.dumps(values, indent=2).encode(), uid, gid, 0o600)
        finally:
            os.close(jupyter)
        setup_exchange(cfg, username, uid, gid)
    except fdtree.UnsafePath as exc:
        raise RosterError(f"{exc}; nothing written there") from None
    except OSError as exc:
        raise RosterError(f"setting up {username}'s course folders: {exc}") from exc


def setup_course_folder(home_fd: int, home: Path, name: str, uid: int, gid: int) -> None:
    """``~/multiclass-digits`` (this repository's ``source/`` and ``nbgrader_config.py``) the
    first time, made by root 0700 and given to the instructor once filled; then only 0700."""
    try:
        os.mkdir(name, 0o700, dir_fd=home_fd)
    except FileExistsError:
        os.close(fdtree.owned_dir(home_fd, name, home, uid, gid, 0o700, create=False))
        return
    fd = fdtree.open_dir(home, name, dir_fd=home_fd)
    try:
        if os.fstat(fd).st_uid not in (0, uid):
            raise RosterError(f"{home / name} is not {home.name}'s or root's")
        fdtree.copy_tree(REPO / "source", fd, "source", uid, gid)
        fdtree.copy_file(REPO / "nbgrader_config.py", fd, "nbgrader_config.py", uid, gid)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def setup_exchange(cfg: Settings, username: str, uid: int, gid: int) -> None:
    """The course's folders in nbgrader's exchange, the instructor's, with nbgrader's modes."""
    try:
        root_fd = fdtree.open_dir(cfg.exchange)
    except fdtree.UnsafePath:
        root_fd = -1
    try:
        if root_fd < 0 or stat.S_IMODE(os.fstat(root_fd).st_mode) != 0o1777:
            raise RosterError(f"no exchange root {cfg.exchange} (mode 1777): run tools/install_hub.sh first")
        top = cfg.exchange_course
        fd = fdtree.owned_dir(root_fd, top.name, cfg.exchange, uid, gid, EXCHANGE_MODES[""])
        try:
            for sub, mode in EXCHANGE_MODES.items():
                if sub:
                    os.close(fdtree.owned_dir(fd, sub, top, uid, gid, mode))
        finally:
            os.close(fd)
    finally:
        if root_fd >= 0:
            os.close(root_fd)


def create(members: list[Member], cfg: Settings) -> list[tuple[str, str]]:
    """Create or update the accounts; return the generated passwords (shown once)."""
    check_accounts(members)
    ensure_groups()
    generated: list[tuple[str, str]] = []
    passwords: list[str] = []
    for m in members:
        group = ROLES[m.role]
        if account_exists(m.username):
            run("usermod", "-c", m.name, m.username)
        else:
            run("useradd", "--create-home", "--shell", "/bin/bash", "--comment", m.name,
                "--groups", group, m.username)
            if not m.password:
                password = secrets.token_urlsafe(PASSWORD_BYTES)
                generated.append((m.username, password))
                passwords.append(f"{m.username}:{password}")
        if m.password:
            passwords.append(f"{m.username}:{m.password}")
        os.chmod(pwd.getpwnam(m.username).pw_dir, 0o700)
    if passwords:
        run("chpasswd", stdin="\n".join(passwords) + "\n")
    for m in members:
        if m.role == "instructor":
            setup_instructor(m.username, cfg)
    students = [m for m in members if m.role == "student"]
    if students:
        add_to_gradebook(students, cfg)
    return generated


def course_instructor() -> str | None:
    """The course's instructor account (the one member of the instructors' group), if any."""
    try:
        members = grp.getgrnam(INSTRUCTORS_GROUP).gr_mem
    except KeyError:
        return None
    return members[0] if members else None


def add_to_gradebook(students: list[Member], cfg: Settings) -> None:
    """The students in the instructor's gradebook with their roster names (the Formgrader lists
    them by name, ``nbgrader export`` writes it): ``nbgrader db student import``, run as the
    instructor in the course folder (the gradebook stays the instructor's file)."""
    instructor = course_instructor()
    if instructor is None:
        print("roster: no instructor yet: the students go into the gradebook when a roster "
              "with the instructor is run", file=sys.stderr)
        return
    entry = pwd.getpwnam(instructor)
    course = course_folder(Path(entry.pw_dir))
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["id", "first_name", "last_name"])
    for m in students:
        first, _, last = m.name.rpartition(" ")  # "Ada King Lovelace": "Ada King", "Lovelace"
        writer.writerow([m.username, first, last])
    env = {"PATH": f"{cfg.python.parent}:/usr/bin:/bin", "HOME": entry.pw_dir, "USER": instructor,
           "LANG": "C.UTF-8"}  # nbgrader runs alembic from the course environment
    # the table in a folder of root's that only the instructor's group may read: root writes no
    # file where the instructor could have put a link
    folder = Path(tempfile.mkdtemp(prefix="course-roster-"))
    try:
        table = folder / "students.csv"
        table.write_text(rows.getvalue(), encoding="utf-8")
        for path, mode in ((table, 0o640), (folder, 0o750)):
            os.chown(path, 0, entry.pw_gid)
            os.chmod(path, mode)
        # the instructor's code runs here (their nbgrader_config.py): no terminal of root's (a
        # new session, stdin /dev/null, output to pipes), -I keeps the course folder off
        # sys.path (nbgrader still reads the config file of its working folder)
        cmd = ["/usr/sbin/runuser", "-u", instructor, "--", str(cfg.python), "-I", "-m", "nbgrader",
               "db", "student", "import", str(table)]
        try:
            proc = subprocess.run(cmd, cwd=course, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, start_new_session=True, timeout=IMPORT_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RosterError(f"nbgrader db student import, run as {instructor}, did not finish in "
                              f"{IMPORT_TIMEOUT} s: the accounts are made; run the roster again") from None
    finally:
        shutil.rmtree(folder)
    if proc.returncode != 0:
        raise RosterError(f"nbgrader db student import failed ({proc.returncode}): "
                          + (proc.stderr.strip().splitlines() or ["no output"])[-1])


def remove(members: list[Member], cfg: Settings) -> list[str]:
    """Delete the listed course accounts and their homes (and the instructor's exchange
    folder); accounts that are not in the course are refused. Return who was removed."""
    check_accounts([m for m in members if account_exists(m.username)])
    removed = []
    for m in members:
        if not account_exists(m.username):
            continue
        uid = pwd.getpwnam(m.username).pw_uid
        top = cfg.exchange_course
        if m.role == "instructor" and top.is_dir() and not top.is_symlink() and top.lstat().st_uid == uid:
            shutil.rmtree(top)
        run("userdel", "--remove", m.username)
        removed.append(m.username)
    for group in ROLES.values():
        try:
            if not grp.getgrnam(group).gr_mem:
                run("groupdel", group)
        except KeyError:
            pass
    return removed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 deploy/roster.py", description=__doc__.split("\n\n")[0])
    p.add_argument("roster", type=Path, help="CSV: username,name[,role][,password]")
    p.add_argument("--remove", action="store_true", help="delete the listed accounts and their homes")
    args = p.parse_args(argv)
    try:
        cfg = settings()
        members = read_roster(args.roster)
        if os.geteuid() != 0:
            raise RosterError("run as root: it creates Unix accounts")
        if args.remove:
            gone = remove(members, cfg)
            print(f"removed {len(gone)} account(s): {' '.join(gone) or '-'}", file=sys.stderr)
            return 0
        generated = create(members, cfg)
    except (RosterError, ValueError) as exc:
        print(f"roster: {exc}", file=sys.stderr)
        return 2
    print(f"roster: {len(members)} account(s) ready", file=sys.stderr)
    if generated:
        print("username,password")
        for username, password in generated:
            print(f"{username},{password}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
