"""Fixtures of the hub tests: the course's real JupyterHub with real Unix accounts (an instructor,
six students), and a headless Chromium to drive it.

``course_hub`` (one for the package: test_hub.py and test_submit.py share it) makes the accounts
with deploy/roster.py, starts the hub with tools/start_hub.sh and, at the end, stops it by pid,
kills by pid whatever it started that is left, removes the accounts with the roster command and
checks that nothing is left in /srv,
/home or the user database. Needs root and tools/install_hub.sh (``make test`` runs it).
"""
from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.chromium import CHROMIUM, CHROMIUM_ARGS, MISSING
from helpers.hub import COURSE_HOME, Hub, Roster
from helpers.repo import ROOT

ARTIFACTS = ROOT / "artifacts" / "hub"


# Seeing the security checks fail: COURSE_HUB_WEAKEN=homes,state,... weakens the set-up on
# purpose (never set in CI); each named weakness must make a test of test_hub.py fail.
WEAKEN_ENV = "COURSE_HUB_WEAKEN"
WEAKNESSES = ("homes", "state", "collect", "autograde", "formgrader")
STUDENT_SERVER_CONFIG = COURSE_HOME / "roles" / "student" / "jupyter_server_config.json"
INSTRUCTOR_NBGRADER_CONFIG = COURSE_HOME / "roles" / "instructor" / "nbgrader_config.py"
# lines of the instructor's role config that a weakness takes out
REFUSAL = "    section.exporter_class = AutogradeOffOnHub\n"
OWNER_CHECK = "c.ExchangeFactory.collect = OwnerCheckedCollect\n"
# the role folders' files a weakness rewrites, restored when the hub stops
ROLE_FILES = (STUDENT_SERVER_CONFIG, INSTRUCTOR_NBGRADER_CONFIG)


def take_out(path: Path, line: str, instead: str) -> None:
    """Replace a line of an installed role config (restored when the hub stops)."""
    text = path.read_text()
    assert line in text, f"{path} no longer has {line.strip()!r}, which the weakness takes out"
    path.write_text(text.replace(line, instead))


def weaken(names: str, hub: Hub, roster: Roster) -> None:
    """Apply the named weaknesses (see WEAKNESSES) to a running course hub."""
    chosen = [n for n in names.split(",") if n]
    unknown = set(chosen) - set(WEAKNESSES)
    if unknown:
        pytest.fail(f"{WEAKEN_ENV}: unknown {sorted(unknown)}; known: {', '.join(WEAKNESSES)}")
    instructor, s1, s2 = (roster.accounts[k] for k in ("instructor", "s1", "s2"))
    course = instructor.home / "multiclass-digits"
    if "homes" in chosen:  # homes and the course folder readable by everybody
        for path in (instructor.home, course, s1.home):
            os.chmod(path, 0o755)
    if "state" in chosen:  # the hub's state readable by everybody
        os.chmod(hub.state, 0o755)
        for path in hub.state.iterdir():
            os.chmod(path, 0o644)
    if "collect" in chosen:  # nbgrader's own collect (its check_owner only warns): no OwnerCheckedCollect
        take_out(INSTRUCTOR_NBGRADER_CONFIG, OWNER_CHECK, "pass\n")
    if "autograde" in chosen:  # the instructor's role config without its refusal
        take_out(INSTRUCTOR_NBGRADER_CONFIG, REFUSAL, "    pass\n")
    if "formgrader" in chosen:  # the students' role folder loads the Formgrader (restored at the end)
        STUDENT_SERVER_CONFIG.write_text(
            '{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": true}}}')
    if chosen:
        print(f"\n[hub] WEAKENED on purpose: {', '.join(chosen)}")


@dataclass
class CourseHub:
    hub: Hub
    roster: Roster
    folder: Path


def _snapshot() -> tuple[set[str], set[str], set[str]]:
    return (set(os.listdir("/srv")), set(os.listdir("/home")), {p.pw_name for p in pwd.getpwall()})


@pytest.fixture(scope="package")
def course_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CourseHub]:
    if os.geteuid() != 0:
        pytest.fail("the hub tests need root (PAM logins, Unix accounts): run them as root")
    if not (COURSE_HOME / "env" / "bin" / "jupyterhub").exists():
        pytest.fail(f"no course environment in {COURSE_HOME}: run `bash tools/install_hub.sh` (make test does)")
    before = _snapshot()
    folder = tmp_path_factory.mktemp("hub")
    roster = Roster()
    hub = Hub(folder)
    killed: list[int] = []
    role_files = {path: path.read_bytes() for path in ROLE_FILES}
    try:
        roster.create(folder)
        hub.start()
        weaken(os.environ.get(WEAKEN_ENV, ""), hub, roster)
        yield CourseHub(hub, roster, folder)
    finally:
        try:
            killed = hub.stop()
        finally:
            for path, content in role_files.items():
                path.write_bytes(content)
            roster.remove()
    print(f"\n[hub] stopped; killed by pid after the hub's own shutdown: {killed or 'none'}")
    srv, home, users = _snapshot()
    assert (srv, home) == before[:2], f"left in /srv: {srv - before[0]}, in /home: {home - before[1]}"
    assert users == before[2], f"accounts left: {users - before[2]}"


@pytest.fixture(scope="module")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\n[hub] screenshots go to {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the module (Playwright); every account gets its own context."""
    if not CHROMIUM.exists():
        pytest.fail(MISSING)
    import asyncio

    from playwright.sync_api import sync_playwright

    # an earlier in-process test of this pytest worker can leave an event loop marked as running
    # in this thread (none runs here, in a fixture's plain code): Playwright's sync API refuses it
    if asyncio._get_running_loop() is not None:
        asyncio._set_running_loop(None)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                     timeout=120_000)
        try:
            yield browser
        finally:
            browser.close()
