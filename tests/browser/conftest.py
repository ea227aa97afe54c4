"""Fixtures that run a private JupyterLab server and a headless Chromium for browser tests.

Everything lives in temporary directories (server root, Jupyter config/data/runtime,
IPython dir), so the user's own Jupyter state is never read or written. The server
and its kernels, and the browser, are shut down in ``finally`` blocks, also when a
test fails or times out.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "artifacts" / "browser"
SERVER_START_TIMEOUT = 180.0  # seconds; the machine may be busy
VIEWPORT = {"width": 1400, "height": 1000}

# JupyterLab user settings for the test profile: no news/update toasts over the page.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class JupyterServer:
    """One ``jupyter lab`` process on 127.0.0.1 with a random token and private dirs."""

    def __init__(self, root: Path, state: Path, name: str) -> None:
        self.root = root
        self.state = state
        self.name = name
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.log_path = state / f"{name}-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._kids: dict[int, psutil.Process] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Browser URL for ``path`` (e.g. ``lab/tree/x.ipynb``), carrying the token."""
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
        for var, sub in [
            ("JUPYTER_CONFIG_DIR", "jupyter-config"),
            ("JUPYTER_DATA_DIR", "jupyter-data"),
            ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
            ("IPYTHONDIR", "ipython"),
        ]:
            path = self.state / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env["JUPYTERLAB_SETTINGS_DIR"] = str(self.state / "jupyter-config" / "lab" / "user-settings")
        env["JUPYTERLAB_WORKSPACES_DIR"] = str(self.state / "jupyter-config" / "lab" / "workspaces")
        env.pop("JUPYTER_TOKEN", None)
        env.pop("MPLBACKEND", None)  # tests/conftest.py sets Agg for itself; kernels choose their own
        return env

    def _write_settings(self, env: dict[str, str]) -> None:
        server_config = {
            "LabApp": {
                "news_url": None,  # no network: never fetch the news feed
                "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
            }
        }
        (Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json").write_text(json.dumps(server_config))
        settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
        for rel, values in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def start(self) -> None:
        env = self.env()
        self._write_settings(env)
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers/CI often run as root
            cmd.append("--allow-root")
        log = open(self.log_path, "wb")
        try:
            # own session/process group, so teardown can signal the whole group
            self.proc = subprocess.Popen(
                cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("api/status", timeout=5)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                time.sleep(0.5)
        raise TimeoutError(f"jupyter lab did not answer within {SERVER_START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def api(self, path: str, method: str = "GET", timeout: float = 10.0) -> Any:
        """Call the server's REST API with the token; return the decoded JSON (or None)."""
        req = urllib.request.Request(
            f"{self.base}/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def kernels(self) -> list[dict[str, Any]]:
        """The server's running kernels (``/api/kernels``)."""
        kernels = self.api("api/kernels")
        self._remember_children()
        return kernels

    def _remember_children(self) -> None:
        # Kernels run in their own process groups: remember them so teardown can reap them.
        if self.proc is None:
            return
        try:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                self._kids.setdefault(child.pid, child)
        except psutil.Error:
            pass

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Shut kernels and server down; escalate to SIGKILL; reap every child process."""
        if self.proc is None:
            return
        self._remember_children()
        if self.proc.poll() is None:
            try:  # polite: ask the server to stop its kernels
                for kernel in self.api("api/kernels", timeout=5):
                    self.api(f"api/kernels/{kernel['id']}", method="DELETE", timeout=20)
            except Exception:  # noqa: BLE001 - teardown continues whatever happens
                pass
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=20)
        for child in self._kids.values():
            try:
                if child.is_running():
                    child.kill()
            except psutil.Error:
                pass
        self.proc = None


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for screenshots (gitignored); printed so a human can look at them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\n[browser] screenshots go to {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash tools/install_browser.sh` (installs Debian's chromium)")
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


@contextlib.contextmanager
def running_jupyter(root: Path, state: Path, name: str) -> Iterator[JupyterServer]:
    """Start ``jupyter lab`` on ``root`` (private dirs under ``state``); always stop it."""
    server = JupyterServer(root, state, name)
    try:
        server.start()
        yield server
    finally:
        server.stop()


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


def copy_course(dest: Path, parts: tuple[str, ...]) -> Path:
    """Copy the listed top-level parts of the repository (files or folders) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in parts:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, dest / part)
    return dest


# ---------------------------------------------------------------- driving JupyterLab in the page

# JavaScript run in the page. Pixel statistics of one canvas: how much is "ink" (not
# white, not transparent) and how many distinct colours there are.
CANVAS_STATS_JS = """(canvas) => {
    const {width, height} = canvas;
    if (!width || !height) return {width, height, ink: 0, colors: 0};
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    let ink = 0;
    const colors = new Set();
    for (let i = 0; i < data.length; i += 4) {
        const rgb = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        if (data[i + 3] > 0 && rgb !== 0xffffff) ink++;
        if (colors.size < 256) colors.add(rgb * 256 + data[i + 3]);
    }
    return {width, height, ink: ink / (width * height), colors: colors.size};
}"""

# Heights in pixels of the solid-colour bars of a bar chart drawn on a canvas: for each
# run of adjacent columns containing the colour, the largest count of that colour in one
# column of the run.
BAR_HEIGHTS_JS = """([canvas, rgb, tol]) => {
    const {width, height} = canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    const counts = [];
    for (let x = 0; x < width; x++) {
        let n = 0;
        for (let y = 0; y < height; y++) {
            const i = 4 * (y * width + x);
            if (Math.abs(data[i] - rgb[0]) <= tol && Math.abs(data[i + 1] - rgb[1]) <= tol
                && Math.abs(data[i + 2] - rgb[2]) <= tol && data[i + 3] > 200) n++;
        }
        counts.push(n);
    }
    const bars = [];
    let run = null;
    counts.forEach((n, x) => {
        if (n > 0) { if (!run) run = {start: x, height: 0}; run.height = Math.max(run.height, n); }
        else if (run) { run.end = x; bars.push(run); run = null; }
    });
    if (run) { run.end = width; bars.push(run); }
    return bars.filter(b => b.end - b.start >= 3);  // ignore stray antialiased columns
}"""

# The main (z-index 0) canvas of every ipympl figure; the second canvas is its overlay.
FIGURE_CANVAS = ".jupyter-matplotlib-canvas-div canvas:first-of-type"
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


class LabPage:
    """A JupyterLab page showing one notebook, with the few actions a student takes."""

    def __init__(self, page: Any, server: JupyterServer, artifacts: Path) -> None:
        self.page = page
        self.server = server
        self.artifacts = artifacts
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda err: self.console_errors.append(f"pageerror: {err}"))

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(msg.text)

    # -- opening and running

    def open_notebook(self, relpath: str, timeout: float = 180.0) -> None:
        """Open ``relpath`` (relative to the server root) in a fresh workspace; wait for its kernel."""
        self.page.goto(self.server.url(f"lab/tree/{relpath}") + "&reset", timeout=timeout * 1000)
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)

    def wait_kernel_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kernels = self.server.kernels()
            if kernels and all(k["execution_state"] == "idle" for k in kernels):
                return
            time.sleep(0.5)
        raise TimeoutError(f"no idle kernel after {timeout:.0f}s: {self.server.kernels()}")

    def menu(self, *labels: str) -> None:
        """Click through the menu bar, e.g. ``menu("Run", "Run All Cells")``."""
        self.page.click(f'.lm-MenuBar-itemLabel:text-is("{labels[0]}")')
        for label in labels[1:]:
            self.page.click(f'.lm-Menu:visible .lm-Menu-itemLabel:text-is("{label}")')

    def prompts(self) -> list[str]:
        """The input prompts of the code cells, e.g. ``['[1]:', '[*]:', '[ ]:']``."""
        return self.page.eval_on_selector_all(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt",
            "els => els.map(e => e.textContent.trim())",
        )

    def wait_run_finished(self, timeout: float) -> list[str]:
        """Wait until no cell is queued or running and the kernel is idle (3 polls in a row)."""
        deadline = time.monotonic() + timeout
        calm = 0
        prompts: list[str] = []
        while time.monotonic() < deadline:
            prompts = self.prompts()
            busy = any("*" in p for p in prompts)
            started = any(any(c.isdigit() for c in p) for p in prompts)
            idle = all(k["execution_state"] == "idle" for k in self.server.kernels())
            calm = calm + 1 if (started and idle and not busy) else 0
            if calm >= 3:
                return prompts
            time.sleep(1.0)
        self.screenshot("timeout")
        raise TimeoutError(
            f"run did not finish within {timeout:.0f}s; prompts {prompts}\n{self.server.log_tail(20)}"
        )

    # -- reading the notebook

    def cells(self) -> Any:
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    def output_text(self, cell: Any | None = None) -> str:
        """textContent of the output areas (all cells, or one cell), whether on screen or not."""
        scope = cell if cell is not None else self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        return "\n".join(scope.locator(".jp-OutputArea").evaluate_all("els => els.map(e => e.textContent)"))

    # -- pictures

    def screenshot(self, name: str, target: Any | None = None) -> Path:
        """Save a PNG of ``target`` (a locator) or of the whole window; return its path."""
        path = self.artifacts / f"{name}.png"
        if target is None:
            self.page.screenshot(path=str(path))
        else:
            target.screenshot(path=str(path))
        return path

    def screenshot_notebook(self, name: str, max_height: int = 16000) -> Path:
        """Screenshot the whole notebook: scroll it to the top, grow the window to the
        notebook's height (at most ``max_height`` px), take the picture, restore the window."""
        scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
        size = self.page.viewport_size
        extra = self.page.eval_on_selector(scroller, "e => e.scrollHeight - e.clientHeight")
        try:
            self.page.set_viewport_size({"width": size["width"], "height": min(size["height"] + extra, max_height)})
            self.page.eval_on_selector(scroller, "e => { e.scrollTop = 0; }")
            self.page.wait_for_timeout(2000)  # let lazily painted (content-visibility) cells paint
            return self.screenshot(name)
        finally:
            self.page.set_viewport_size(size)
