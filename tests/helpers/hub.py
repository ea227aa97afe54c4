"""The course's real JupyterHub for the hub tests: accounts made by deploy/roster.py, the hub
started by tools/start_hub.sh on free loopback ports with its state in a fresh folder under
/srv, and a student's three ways in (the HTTP API with their own token, a kernel, a terminal).

Every process the hub starts (proxy, servers, kernels) is remembered by pid while it runs;
:meth:`Hub.stop` stops the hub by its pid, then kills whatever of those is left, by pid.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

from helpers.repo import ROOT

COURSE_HOME = Path(os.environ.get("COURSE_HOME", "/opt/multiclass-digits"))
EXCHANGE = Path("/srv/nbgrader/exchange")
COURSE_ID = "multiclass-digits"
ASSIGNMENT = "multiclass_digits"
HUB_START_TIMEOUT = 300.0
# s1 and s2 go through nbgrader's cycle (test_hub.py); the others submit for grading (test_submit.py)
STUDENTS = ("s1", "s2", "s3", "s4", "s5", "s6")
# the grading service's rules and settings on the test hub (small, so that the tests reach them)
GRADER_ENV = {"COURSE_SUBMIT_LIMIT": "2/h", "COURSE_SUBMIT_MAX_MB": "1", "COURSE_GRADER_WORKERS": "2",
              "COURSE_SUBMIT_TIMEOUT": "400", "COURSE_SUBMIT_CELL_TIMEOUT": "200",
              # one attempt: a submission whose worker dies is an error at once (test_submit.py)
              "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Account:
    username: str
    password: str
    role: str

    @property
    def home(self) -> Path:
        return Path("/home") / self.username


@dataclass
class Roster:
    """Three accounts with a random tag, made by the roster command and removed by it."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:5])
    accounts: dict[str, Account] = field(default_factory=dict)
    path: Path | None = None

    def names(self) -> dict[str, str]:
        return {"instructor": f"ht{self.tag}-instr", **{k: f"ht{self.tag}-{k}" for k in STUDENTS}}

    def create(self, folder: Path) -> None:
        n = self.names()
        self.path = folder / "roster.csv"
        # the instructor's password is generated (printed once); the students' are given
        given = {k: f"{k}-" + uuid.uuid4().hex[:10] for k in STUDENTS}
        self.path.write_text(
            "username,name,role,password\n"
            f"{n['instructor']},Ada Instructor,instructor,\n"
            f"{n['s1']},Stu One,student,{given['s1']}\n"
            f"{n['s2']},Stu Two,,{given['s2']}\n"
            + "".join(f"{n[k]},Stu {k.upper()},student,{given[k]}\n" for k in STUDENTS[2:]))
        out = run_deploy("roster.py", str(self.path))
        printed = dict(line.split(",", 1) for line in out.splitlines()[1:] if "," in line)
        if set(printed) != {n["instructor"]}:
            raise AssertionError(f"roster printed passwords for {sorted(printed)}, expected the instructor's only")
        self.accounts = {
            "instructor": Account(n["instructor"], printed[n["instructor"]], "instructor"),
            **{k: Account(n[k], given[k], "student") for k in STUDENTS},
        }

    def remove(self) -> None:
        if self.path is not None:
            run_deploy("roster.py", "--remove", str(self.path))


def run_deploy(script: str, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> str:
    """Run ``python3 deploy/SCRIPT ARGS`` as root (Debian's python3.11); return stdout."""
    proc = subprocess.run([sys.executable if not Path("/usr/bin/python3.11").exists() else "/usr/bin/python3.11",
                           str(ROOT / "deploy" / script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    if proc.returncode != 0:
        raise AssertionError(f"deploy/{script} {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def run_as(user: str, *cmd: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command as a course account, with the course environment first on PATH."""
    env = {"PATH": f"{COURSE_HOME / 'env' / 'bin'}:/usr/bin:/bin", "HOME": f"/home/{user}", "LANG": "C.UTF-8"}
    return subprocess.run(["/usr/sbin/runuser", "-u", user, "--", *cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


class Hub:
    """tools/start_hub.sh on free ports, its state in a new folder under /srv."""

    def __init__(self, log_dir: Path, settings: dict[str, str] | None = None) -> None:
        self.settings = {**GRADER_ENV, **(settings or {})}
        self.port = free_port()
        self.api_port = free_port()
        self.proxy_api_port = free_port()
        self.grader_port = free_port()
        self.state = Path(tempfile.mkdtemp(prefix="jupyterhub-test-", dir="/srv"))
        self.log_path = log_dir / "hub.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.seen: dict[int, psutil.Process] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                "COURSE_HUB_PORT": str(self.port), "COURSE_HUB_API_PORT": str(self.api_port),
                "COURSE_PROXY_API_PORT": str(self.proxy_api_port), "COURSE_HUB_STATE": str(self.state),
                "COURSE_HOME": str(COURSE_HOME), "COURSE_GRADER_PORT": str(self.grader_port), **self.settings,
                # the roster (run with the tests' environment) and the grading service agree
                "COURSE_EXCHANGE": os.environ.get("COURSE_EXCHANGE", str(EXCHANGE))}

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["bash", str(ROOT / "tools" / "start_hub.sh")], env=self.env(),
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + HUB_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.base}/hub/api/", timeout=5).status_code == 200:
                    self.remember()
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the hub did not answer within {HUB_START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def remember(self) -> None:
        """Note the pids of everything the hub started so far (proxy, servers, kernels)."""
        if self.proc is None:
            return
        try:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.Error:
            pass

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no hub log)"

    def stop(self) -> list[int]:
        """SIGTERM the hub (it stops the servers and the proxy), then SIGKILL what is left of the
        processes it started, by pid; return the pids that had to be killed."""
        killed: list[int] = []
        if self.proc is not None:
            self.remember()
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=30)
            gone, alive = psutil.wait_procs(list(self.seen.values()), timeout=20)
            for proc in alive:
                try:
                    proc.kill()
                    killed.append(proc.pid)
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(alive, timeout=20)
            self.proc = None
        shutil.rmtree(self.state, ignore_errors=True)
        return killed


class HubUser:
    """One account's browser-less session with the hub: login form, own API token."""

    def __init__(self, hub: Hub, account: Account) -> None:
        self.hub = hub
        self.account = account
        self.session = requests.Session()
        self.token = ""

    def login(self) -> None:
        s = self.session
        page = s.get(f"{self.hub.base}/hub/login", timeout=30)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        data = {"username": self.account.username, "password": self.account.password}
        if xsrf:
            data["_xsrf"] = xsrf.group(1)
        r = s.post(f"{self.hub.base}/hub/login?next=", data=data, allow_redirects=False, timeout=60)
        if r.status_code != 302:
            raise AssertionError(f"login of {self.account.username}: {r.status_code} {r.text[:300]}")
        r = s.post(f"{self.hub.base}/hub/api/users/{self.account.username}/tokens",
                   json={"note": "hub test", "expires_in": 3600},
                   headers={"X-XSRFToken": s.cookies.get("_xsrf", "")}, timeout=30)
        r.raise_for_status()
        self.token = r.json()["token"]

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        """Call ``path`` (under the hub's address) with this account's token."""
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(method, f"{self.hub.base}/{path.lstrip('/')}", headers=headers,
                                allow_redirects=False, timeout=kw.pop("timeout", 60), **kw)

    def server_url(self, path: str = "") -> str:
        return f"user/{self.account.username}/{path.lstrip('/')}"

    def ensure_server(self, timeout: float = 600) -> None:
        """Start this account's server through the hub API if it is not running; wait for it."""
        self.api("POST", f"hub/api/users/{self.account.username}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"hub/api/users/{self.account.username}").json()
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                self.hub.remember()
                return
            time.sleep(1)
        raise TimeoutError(f"{self.account.username}'s server did not start:\n{self.hub.log_tail()}")

    # ---- a kernel and a terminal of this account's own server, driven over websockets

    def _ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.hub.port}/{self.server_url(path)}"

    def run_in_kernel(self, code: str, timeout: float = 120) -> str:
        """Start a kernel in the account's server, run ``code``, return its stdout+stderr
        (and error text); the kernel is shut down afterwards."""
        r = self.api("POST", self.server_url("api/kernels"), json={"name": "python3"})
        r.raise_for_status()
        kernel_id = r.json()["id"]
        self.hub.remember()
        try:
            return _in_thread(_kernel_exec(self._ws_url(f"api/kernels/{kernel_id}/channels"),
                                           self.token, code, timeout))
        finally:
            self.api("DELETE", self.server_url(f"api/kernels/{kernel_id}"))

    def run_in_terminal(self, command: str, timeout: float = 120) -> str:
        """Open a terminal in the account's server, run a shell command, return what it printed."""
        r = self.api("POST", self.server_url("api/terminals"))
        r.raise_for_status()
        name = r.json()["name"]
        self.hub.remember()
        try:
            return _in_thread(_terminal_exec(self._ws_url(f"terminals/websocket/{name}"),
                                             self.token, command, timeout))
        finally:
            self.api("DELETE", self.server_url(f"api/terminals/{name}"))


def _in_thread(coro: Any) -> Any:
    """Run a coroutine to its end in a thread of its own (Playwright's sync API keeps an event
    loop running in the test's thread)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _kernel_exec(url: str, token: str, code: str, timeout: float) -> str:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    msg_id = uuid.uuid4().hex
    conn.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                   "msg_type": "execute_request", "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }))
    out: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            raw = await asyncio.wait_for(conn.read_message(), timeout=max(1.0, deadline - time.monotonic()))
            if raw is None:
                break
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                out.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
        raise TimeoutError(f"kernel did not finish within {timeout:.0f}s; output so far: {''.join(out)!r}")
    finally:
        conn.close()


async def _terminal_exec(url: str, token: str, command: str, timeout: float) -> str:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    marker = uuid.uuid4().hex
    # the end marker is printed from two halves, so the echoed command line never matches it
    conn.write_message(json.dumps(["stdin", f"{command}; echo {marker[:16]}''{marker[16:]}\r"]))
    out: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            raw = await asyncio.wait_for(conn.read_message(), timeout=max(1.0, deadline - time.monotonic()))
            if raw is None:
                break
            kind, *rest = json.loads(raw)
            if kind == "stdout":
                out.append(rest[0])
                text = "".join(out)
                if marker in text:
                    return text.split(marker)[0]
        raise TimeoutError(f"terminal did not finish within {timeout:.0f}s; output so far: {''.join(out)!r}")
    finally:
        conn.close()
