"""Driving the course hub in Chromium as a person would: the login form, JupyterLab's
Nbgrader menu and Assignment List, the notebook editor, the Formgrader's buttons."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from helpers.hub import ASSIGNMENT, Account, Hub

NOTEBOOK_CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"


class HubPage:
    """One account's browser context on the hub."""

    def __init__(self, browser: Any, hub: Hub, account: Account, artifacts: Path) -> None:
        self.hub = hub
        self.account = account
        self.artifacts = artifacts
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
        self.context.set_default_timeout(300_000)  # the machine may be shared and very busy
        self.page = self.context.new_page()
        self.shots: list[Path] = []

    def close(self) -> None:
        self.context.close()

    def url(self, path: str) -> str:
        return f"{self.hub.base}/user/{self.account.username}/{path.lstrip('/')}"

    def shot(self, name: str, target: Any | None = None) -> Path:
        path = self.artifacts / f"{name}.png"
        if target is not None:  # a notebook cell paints only once on screen (content-visibility)
            target.scroll_into_view_if_needed()
            self.page.wait_for_timeout(1000)
        (target or self.page).screenshot(path=str(path))
        self.shots.append(path)
        return path

    # ---- JupyterHub and JupyterLab

    def login(self) -> float:
        """Log in through the hub's form; wait for JupyterLab; return the seconds it took."""
        started = time.monotonic()
        self.page.goto(f"{self.hub.base}/hub/login")
        self.page.fill("#username_input", self.account.username)
        self.page.fill("#password_input", self.account.password)
        self.page.click("#login_submit")
        self.page.wait_for_selector(".jp-LabShell", timeout=600_000)
        self.page.wait_for_selector(".lm-MenuBar-itemLabel", timeout=300_000)
        self.hub.remember()
        return time.monotonic() - started

    def menu_labels(self) -> list[str]:
        return self.page.eval_on_selector_all(".lm-MenuBar-itemLabel", "els => els.map(e => e.textContent)")

    def menu(self, *labels: str, tries: int = 6) -> None:
        """Click through the menu bar; a menu that opens without the entry yet (JupyterLab still
        adding its extensions' entries on a busy machine) is closed and opened again."""
        for attempt in range(tries):
            self.page.keyboard.press("Escape")
            self.page.click(f'.lm-MenuBar-itemLabel:text-is("{labels[0]}")')
            entry = self.page.locator(f'.lm-Menu:visible .lm-Menu-itemLabel:text-is("{labels[1]}")')
            try:
                entry.first.wait_for(timeout=10_000)
                break
            except Exception:  # noqa: BLE001 - Playwright's TimeoutError: try again
                if attempt == tries - 1:
                    raise
        for label in labels[1:]:
            self.page.click(f'.lm-Menu:visible .lm-Menu-itemLabel:text-is("{label}")')

    def submenu_items(self, label: str) -> list[str]:
        """The entries of a menu of the menu bar (the menu is closed again)."""
        self.page.keyboard.press("Escape")
        self.page.click(f'.lm-MenuBar-itemLabel:text-is("{label}")')
        items = self.page.eval_on_selector_all(".lm-Menu:visible .lm-Menu-itemLabel",
                                               "els => els.map(e => e.textContent)")
        self.page.keyboard.press("Escape")
        return items

    # ---- the Assignment List (students)

    def assignment_list(self) -> Any:
        self.menu("Nbgrader", "Assignment List")
        panel = self.page.locator("#nbgrader-assignment-list")
        panel.wait_for()
        return panel

    def fetch(self) -> None:
        panel = self.assignment_list()
        button = panel.locator("#released_assignments_list button:has-text('Fetch')")
        button.click()
        panel.locator("#fetched_assignments_list .assignment-notebooks-link").wait_for()

    def open_fetched_notebook(self) -> None:
        panel = self.page.locator("#nbgrader-assignment-list")
        panel.locator("#fetched_assignments_list .assignment-notebooks-link").first.click()
        panel.locator(f"#fetched_assignments_list a:text-is('{ASSIGNMENT}')").last.click()
        self.page.wait_for_selector(f"{NOTEBOOK_CELLS}", timeout=300_000)
        self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=300_000)

    def submit(self) -> None:
        panel = self.assignment_list()
        panel.locator("#fetched_assignments_list button:has-text('Submit')").click()
        panel.locator("#submitted_assignments_list .item_status, "
                      "#submitted_assignments_list .list_item").first.wait_for()

    def fetch_feedback(self) -> None:
        panel = self.assignment_list()
        panel.locator("#submitted_assignments_list button:has-text('Fetch Feedback')").first.click()
        panel.locator("#submitted_assignments_list a:has-text('view feedback')").first.wait_for()

    # ---- the notebook

    def cells(self) -> Any:
        return self.page.locator(NOTEBOOK_CELLS)

    def type_answer(self, index: int, code: str, replacing: str = "not_answered_yet()") -> None:
        """Replace the line of cell ``index`` that shows ``replacing`` (the stub) by typing ``code``."""
        cell = self.cells().nth(index)
        cell.scroll_into_view_if_needed()
        line = cell.locator(".cm-line", has_text=replacing)
        line.click()
        self.page.keyboard.press("End")
        self.page.keyboard.press("Shift+Home")  # CodeMirror: to the end of the indentation
        self.page.keyboard.type(code)
        self.page.keyboard.press("Escape")

    def prompts(self) -> list[str]:
        return self.page.eval_on_selector_all(
            f"{NOTEBOOK_CELLS}.jp-CodeCell .jp-InputPrompt", "els => els.map(e => e.textContent.trim())")

    def run_all_above(self, index: int, timeout: float = 900) -> None:
        """Select cell ``index`` and run every cell above it from the Run menu; wait until done
        (JupyterLab stops at a cell that raises: the cells after it are not run)."""
        cell = self.cells().nth(index)
        cell.scroll_into_view_if_needed()
        cell.click(position={"x": 5, "y": 5})
        self.menu("Run", "Run All Above Selected Cell")
        self.wait_until_run(timeout)

    def run_cells(self, first: int, last: int, timeout: float = 900) -> None:
        """Run cells ``first`` to ``last`` one after the other with Shift+Enter, as a student
        goes on after a failed test; wait until done."""
        cell = self.cells().nth(first)
        cell.scroll_into_view_if_needed()
        cell.click(position={"x": 5, "y": 5})
        for _ in range(first, last + 1):
            self.page.keyboard.press("Shift+Enter")
        self.wait_until_run(timeout)

    def wait_until_run(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(1.0)
            prompts = self.prompts()
            ran = [p for p in prompts if any(ch.isdigit() for ch in p)]
            if ran and not any("*" in p for p in prompts):
                idle = self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
                if idle:
                    return
        raise TimeoutError(f"cells did not finish within {timeout:.0f}s: {self.prompts()}")

    def output(self, index: int) -> str:
        return "\n".join(self.cells().nth(index).locator(".jp-OutputArea").all_text_contents())

    def save(self) -> None:
        self.page.keyboard.press("Control+s")
        self.page.wait_for_timeout(1500)

    def click_validate(self) -> None:
        self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").first.click()

    def validation_result(self, timeout: float = 900) -> str:
        dialog = self.page.locator(".jp-Dialog:has-text('Validation Results')")
        dialog.wait_for(timeout=timeout * 1000)
        return dialog.inner_text()

    def open_notebook(self, path: str) -> None:
        """Open the notebook at ``path`` (in the account's home) in JupyterLab."""
        self.page.goto(self.url(f"lab/tree/{path}"))
        self.page.wait_for_selector(NOTEBOOK_CELLS, timeout=300_000)
        self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=300_000)

    def submit_for_grading(self, timeout: float = 600) -> Any:
        """Click the notebook's Submit for grading button; wait for its dialog's result (graded,
        error, or a refusal); return the dialog's body."""
        self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CourseGrader-submit").first.click()
        body = self.page.locator(".jp-CourseGrader-result")
        done = ".jp-CourseGrader-result[data-state='graded'], .jp-CourseGrader-result[data-state='error'], " \
               ".jp-CourseGrader-result[data-state='failed']"
        self.page.wait_for_selector(done, timeout=timeout * 1000)
        return body

    def close_dialog(self) -> None:
        self.page.locator(".jp-Dialog .jp-Dialog-button").last.click()

    # ---- the Formgrader (instructor)

    def formgrader_row(self, path: str = "formgrader") -> Any:
        self.page.goto(self.url(path))
        row = self.page.locator(f"tr:has-text('{ASSIGNMENT}')").first
        row.wait_for()
        return row

    def formgrader_action(self, row: Any, css: str, timeout: float = 600) -> str:
        """Click a Formgrader button of a row; return the text of the dialog it opens (closed)."""
        row.locator(f"{css} a").first.click()
        modal = self.page.locator(".modal:visible").first
        modal.wait_for(timeout=timeout * 1000)
        self.page.wait_for_timeout(300)
        text = modal.inner_text()
        return text

    def close_modal(self) -> None:
        self.page.locator(".modal:visible .modal-footer button").last.click()
        self.page.wait_for_timeout(800)
