"""Fixtures of the browser tests: a headless Chromium (Playwright), a fresh page per test, and
``open_lab`` to open a notebook of a running JupyterLab (helpers.jupyter_server) in it.

The server, its kernels and the browser are shut down in ``finally`` blocks, also when a
test fails or times out. Driving the page: helpers.lab_page (its JavaScript: helpers/js/).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.chromium import CHROMIUM, CHROMIUM_ARGS, MISSING
from helpers.jupyter_server import JupyterServer
from helpers.lab_page import LabPage
from helpers.repo import ROOT

ARTIFACTS = ROOT / "artifacts" / "browser"
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for screenshots (gitignored); printed so a human can look at them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\n[browser] screenshots go to {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium (or $COURSE_CHROMIUM); the test fails saying how to install it."""
    if not CHROMIUM.exists():
        pytest.fail(MISSING)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """One headless Chromium for the session, driven by Playwright (sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS, timeout=120_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (own cookies/storage) for each test."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(60_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture()
def open_lab(page: Any, artifacts_dir: Path) -> Iterator[Any]:
    """Factory: ``open_lab(server, relpath)`` opens a notebook in the page; kernels stop at teardown."""
    used: list[JupyterServer] = []

    def _open(server: JupyterServer, relpath: str) -> LabPage:
        used.append(server)
        lab = LabPage(page, server, artifacts_dir)
        lab.open_notebook(relpath)
        return lab

    try:
        yield _open
    finally:
        for server in used:  # free the kernel's memory before the next test
            try:
                for kernel in server.api("api/kernels", timeout=5):
                    server.api(f"api/kernels/{kernel['id']}", method="DELETE", timeout=30)
            except Exception:  # noqa: BLE001 - the server fixture reaps whatever is left
                pass
