"""The student's JupyterLab as a student starts it, in a real Chromium: ``make lab`` in this
repository, and ``python lab.py`` in the student kit.

Both must show the Validate button and none of the instructor's nbgrader tools (no Nbgrader
menu: Formgrader, Create Assignment, Course List, Assignment List), serve none of their
endpoints, log no exchange or course error, and write no gradebook. The settings are
JupyterLab's and jupyter_server's own (student/jupyter/: disabled lab plugins and server
extensions). Screenshots: ``artifacts/browser/student_lab_*.png``.
"""
from __future__ import annotations

import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from helpers.jupyter_server import JupyterServer, Launcher, running_jupyter
from helpers.lab_page import LabPage
from helpers.repo import LAB, ROOT, import_tool

pytestmark = pytest.mark.browser

NOTEBOOK = f"{LAB}.ipynb"
VALIDATE_TIMEOUT_MS = 300_000  # Validate runs the whole (blank) notebook: TensorFlow's import
# the instructor's endpoints (formgrader, assignment list, course list) and the student's one
INSTRUCTOR_ENDPOINTS = ("formgrader", "assignments", "courses", "formgraders")
VALIDATE_ENDPOINT = f"nbgrader_version?version={__import__('nbgrader').__version__}"
# what the issue saw: the exchange and course errors of the instructor's extensions
LOG_ERRORS = re.compile(r"exchange|Error fetching|courses|gradebook|No nbgrader_config", re.I)
VENV = Path(sys.executable).parent.parent
# Warnings of the Jupyter stack itself that every local JupyterLab logs (docs/students.md
# explains them to students), and this test's own requests for the instructor's endpoints.
KNOWN_WARNINGS = re.compile(
    r"404 GET /(formgrader|assignments|courses|formgraders) "  # this test's probes
    r"|Notebook \S+\.ipynb is not trusted"  # a notebook this JupyterLab has not signed yet
    r"|websocket_ping_timeout \(\d+\) cannot be longer"  # jupyter_server vs tornado defaults
    r"|Kernel is running over TCP without encryption")  # ipykernel 7; the kernel listens on loopback


def status(server: JupyterServer, path: str) -> int:
    request = urllib.request.Request(f"{server.base}/{path}",
                                     headers={"Authorization": f"token {server.token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def make_lab(work: Path) -> Launcher:
    """``make lab`` with WORK in a temporary folder (this test's venv, already installed)."""
    def launch(server: JupyterServer) -> tuple[list[str], Path]:
        return (["make", "-C", str(ROOT), "--no-print-directory", "-o", f"{VENV}/.student", "lab",
                 f"VENV={VENV}", f"WORK={work}", f"LAB_ARGS={' '.join(server.lab_args())}"], ROOT)
    return launch


def kit_lab(kit: Path) -> Launcher:
    """The kit's own ``python lab.py``, with --here: this test's Python instead of a new .venv."""
    def launch(server: JupyterServer) -> tuple[list[str], Path]:
        return [sys.executable, str(kit / "lab.py"), "--here", "--", *server.lab_args()], kit
    return launch


# Validate runs the whole notebook (about a minute with both cores busy): clicked in the kit's
# lab only; make lab's uses the same server extension and the same student/nbgrader_config.py.
@pytest.mark.parametrize("how", ["make_lab", "kit"])
def test_student_lab_has_validate_and_no_instructor_tools(how: str, page: Any, artifacts_dir: Path,
                                                          tmp_path: Path) -> None:
    if how == "kit":
        work = tmp_path / "kit"
        import_tool("student_kit").build(work, None)
        launcher = kit_lab(work)
    else:
        work = tmp_path / "my-work"
        launcher = make_lab(work)
    repo_gradebook = (ROOT / "gradebook.db").exists()

    t0 = time.monotonic()
    with running_jupyter(work, tmp_path / "state", how, launcher) as server:
        started = time.monotonic() - t0
        assert (work / NOTEBOOK).is_file(), sorted(p.name for p in work.iterdir())
        served = {path: status(server, path) for path in INSTRUCTOR_ENDPOINTS}
        assert set(served.values()) == {404}, served
        assert status(server, VALIDATE_ENDPOINT) == 200

        lab = LabPage(page, server, artifacts_dir)
        lab.open_notebook(NOTEBOOK)
        menus = page.eval_on_selector_all(".lm-MenuBar-itemLabel", "els => els.map(e => e.textContent)")
        assert "Run" in menus and "Nbgrader" not in menus, menus
        validate = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button")
        validate.wait_for(state="visible")
        assert validate.inner_text().strip() == "Validate"
        shot = lab.screenshot(f"student_lab_{how}")
        # the command palette has no instructor command either
        page.keyboard.press("Control+Shift+C")
        palette = page.locator(".lm-CommandPalette-input")
        palette.fill("nbgrader")
        page.wait_for_timeout(500)
        found = page.eval_on_selector_all(".lm-CommandPalette-itemLabel", "els => els.map(e => e.textContent)")
        assert not [label for label in found if re.search(r"formgrader|assignment|course", label, re.I)], found
        page.keyboard.press("Escape")

        print(f"\n[browser] {how}: menus {menus}, server up in {started:.0f} s ({shot})")
        if how == "kit":  # Validate works: the blank notebook fails its tests, in nbgrader's dialog
            validate.click()
            dialog = page.locator(".jp-Dialog #validation-message")
            dialog.wait_for(timeout=VALIDATE_TIMEOUT_MS)
            message = dialog.inner_text()
            dialog_shot = lab.screenshot(f"student_lab_{how}_validate", page.locator(".jp-Dialog-content"))
            print(f"[browser] Validate said {message[:60]!r} after {time.monotonic() - t0:.0f} s ({dialog_shot})")
            assert "failed" in message and "not answered yet" in message, message
        errors = [e for e in lab.console_errors if LOG_ERRORS.search(e)]
        assert not errors, errors

    log = [line for line in server.log_path.read_text(errors="replace").splitlines()
           if not KNOWN_WARNINGS.search(line)]
    assert not [line for line in log if LOG_ERRORS.search(line)]
    warnings = [line for line in log if re.match(r"\[(W|E|C) |.*\b(WARNING|ERROR)\b", line)
                and "received signal 15" not in line]
    assert not warnings, warnings
    assert not list(work.rglob("gradebook.db*")), sorted(work.rglob("gradebook.db*"))
    assert (ROOT / "gradebook.db").exists() == repo_gradebook
