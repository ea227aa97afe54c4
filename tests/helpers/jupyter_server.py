"""A private JupyterLab server for the browser tests: ``jupyter lab`` on 127.0.0.1 with a
random token, every Jupyter and IPython folder in a temporary directory (the user's own
Jupyter state is never read or written), stopped with its kernels in ``finally`` blocks."""
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

from helpers.repo import ROOT

SERVER_START_TIMEOUT = 180.0  # seconds; the machine may be busy

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


#: a launcher: the command that starts JupyterLab for this server (its port and token), and
#: the folder to start it in; e.g. ``make lab`` or a student kit's ``lab.py``
Launcher = Callable[["JupyterServer"], tuple[list[str], Path]]


class JupyterServer:
    """One ``jupyter lab`` process on 127.0.0.1 with a random token and private dirs.

    By default the server is started here (``python -m jupyterlab``); a ``launcher`` starts
    it the way a student does instead, with the same private dirs, port and token."""

    def __init__(self, root: Path, state: Path, name: str, launcher: Launcher | None = None) -> None:
        self.root = root
        self.state = state
        self.name = name
        self.launcher = launcher
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

    def lab_args(self) -> list[str]:
        """The ``jupyter lab`` options of this server: loopback, its port and token, no browser."""
        return ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}"]

    def start(self) -> None:
        env = self.env()
        self._write_settings(env)
        if self.launcher is None:
            cmd = [sys.executable, "-m", "jupyterlab", *self.lab_args(), f"--ServerApp.root_dir={self.root}"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers/CI often run as root
                cmd.append("--allow-root")
            cwd = self.root
        else:
            cmd, cwd = self.launcher(self)
        log = open(self.log_path, "wb")
        try:
            # own session/process group, so teardown can signal the whole group
            self.proc = subprocess.Popen(
                cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
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

    def kernels(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The server's running kernels (``/api/kernels``).

        jupyter_server answers 500 to this while a kernel is being started (its model has no
        ``last_activity`` yet: TraitError in ``kernel_model``; seen with both cores busy), so a
        500 is asked again until ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                kernels = self.api("api/kernels")
                break
            except urllib.error.HTTPError as exc:
                if exc.code != 500 or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
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


@contextlib.contextmanager
def running_jupyter(root: Path, state: Path, name: str,
                    launcher: Launcher | None = None) -> Iterator[JupyterServer]:
    """Start ``jupyter lab`` on ``root`` (private dirs under ``state``); always stop it."""
    server = JupyterServer(root, state, name, launcher)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def copy_course(dest: Path, parts: tuple[str, ...]) -> Path:
    """Copy the listed top-level parts of the repository (files or folders) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in parts:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, dest / part)
    return dest
