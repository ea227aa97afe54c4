"""The student server's side of the course grader (grading.service.student_server), in a real
jupyter_server: two servers of this checkout's code, one as on the course hub (COURSE_GRADER_URL
and JUPYTERHUB_API_TOKEN pointing at a small recording HTTP endpoint that stands in for the
grading service here) and one without them (a student's own laptop)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helpers.repo import ROOT

SERVICE_PREFIX = "/services/grader/"
HUB_TOKEN = "hub-token-" + secrets.token_hex(8)
SUBMISSION = {"id": "0123abcd", "student": "s1", "notebook": "lab.ipynb", "status": "queued", "position": 0}
VANISHING_ID = "dead0000beef"  # the stand-in closes the connection without an answer
FEEDBACK_HTML = b"<!doctype html><title>Feedback</title><p>10 / 20</p><script>alert(1)</script>"
CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
MIB = 1024 * 1024


@dataclass
class Received:
    """One request as the stand-in service received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """The recording HTTP endpoint in place of the grading service."""

    url: str
    received: list[Received] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def service() -> Iterator[StandIn]:
    """A threaded HTTP server that records each request and answers as the service's contract says."""
    stand_in = StandIn("")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            stand_in.received.append(Received(self.command, self.path, dict(self.headers), body))
            rest = self.path.removeprefix(SERVICE_PREFIX)
            if VANISHING_ID in rest:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if rest.endswith("/feedback"):
                status, kind, out = 200, "text/html; charset=utf-8", FEEDBACK_HTML
            elif self.command == "POST":
                status, kind, out = 202, "application/json", json.dumps(SUBMISSION).encode()
            elif rest == "api/submissions":
                listing = {"submissions": [SUBMISSION], "counting": "best", "deadline": None, "next_allowed": None}
                status, kind, out = 200, "application/json", json.dumps(listing).encode()
            else:
                status, kind, out = 429, "application/json", b'{"error": "Too soon.", "retry_after": null}'
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{httpd.server_address[1]}{SERVICE_PREFIX}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Server:
    """One jupyter_server process with the extension, on a free port with its own token."""

    proc: subprocess.Popen[bytes]
    port: int
    token: str
    log: Path

    def fetch(self, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        """``path`` under course-grader/ (POST when there is a body): status, headers, body."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/course-grader/{path}",
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


def _start(root: Path, state: Path, extra_env: dict[str, str]) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "COURSE_GRADER", "JUPYTER_"))}
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        (state / var).mkdir(parents=True)
        env[var] = str(state / var)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra_env)
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.jpserver_extensions={'grading.service.student_server': True}", "--ServerApp.open_browser=False"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = state / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Server(proc, port, token, log)


def _wait(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"jupyter server exited:\n{server.log.read_text()}")
        try:
            status, _, _ = server.fetch("submissions")
            if status != 404:  # the extension's handlers are there
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"jupyter server did not answer:\n{server.log.read_text()}")


def _notebook(cells: int = 1) -> bytes:
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": f"x = {i}", "outputs": [], "execution_count": None}
                    for i in range(cells)], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1).encode()


@pytest.fixture(scope="module")
def servers(service: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server, Path]]:
    """(on the hub, off the hub, the hub server's root folder), started side by side."""
    base = tmp_path_factory.mktemp("student")
    root = base / "home"
    (root / "week 1").mkdir(parents=True)
    (root / "lab.ipynb").write_bytes(_notebook(3) + b"\n")  # the bytes as saved, trailing newline too
    (root / "week 1" / "lab #2.ipynb").write_bytes(_notebook(1))
    (root / "notes.txt").write_text("not a notebook\n")
    (root / "big.ipynb").write_bytes(b" " * (8 * MIB + 1))
    (base / "outside.ipynb").write_bytes(_notebook(1))
    hub_env = {"COURSE_GRADER_URL": service.url, "JUPYTERHUB_API_TOKEN": HUB_TOKEN}
    started = [_start(root, base / "hub-state", hub_env), _start(root, base / "laptop-state", {})]
    try:
        for server in started:
            _wait(server)
        yield started[0], started[1], root
    finally:
        for server in started:
            server.proc.terminate()
        for server in started:
            try:
                server.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.proc.kill()
                server.proc.wait()


def _json(body: bytes) -> dict[str, Any]:
    return json.loads(body)


def test_submit_forwards_the_saved_bytes_with_the_hub_token(servers, service):
    hub, _, root = servers
    service.received.clear()
    status, headers, body = hub.fetch("submit", {"path": "lab.ipynb"})
    assert (status, _json(body)) == (202, SUBMISSION)
    assert headers["Content-Type"].startswith("application/json")
    [got] = service.received
    assert (got.method, got.path) == ("POST", f"{SERVICE_PREFIX}api/submissions?notebook=lab.ipynb")
    assert got.body == (root / "lab.ipynb").read_bytes()
    assert got.headers["Authorization"] == f"token {HUB_TOKEN}"
    assert got.headers["Content-Type"] == "application/x-ipynb+json"


def test_submit_names_a_notebook_in_a_folder_by_its_basename(servers, service):
    hub, _, root = servers
    service.received.clear()
    status, _, _ = hub.fetch("submit", {"path": "/week 1/lab #2.ipynb"})
    assert status == 202
    [got] = service.received
    assert got.path == f"{SERVICE_PREFIX}api/submissions?notebook=lab%20%232.ipynb"
    assert got.body == (root / "week 1" / "lab #2.ipynb").read_bytes()


@pytest.mark.parametrize(
    ("request_body", "status", "words"),
    [
        ({"path": "../outside.ipynb"}, 400, "outside the folder"),
        ({"path": "week 1/../../outside.ipynb"}, 400, "outside the folder"),
        ({"path": "notes.txt"}, 400, "not a notebook"),
        ({"path": "missing.ipynb"}, 404, "was not found"),
        ({"path": "week 1.ipynb/"}, 404, "was not found"),
        ({"path": "big.ipynb"}, 413, "8 MiB"),
        ({}, 400, "needs the notebook's path"),
        ({"path": ["lab.ipynb"]}, 400, "needs the notebook's path"),
    ],
)
def test_submit_refuses_with_a_sentence_and_forwards_nothing(servers, service, request_body, status, words):
    hub, _, _ = servers
    service.received.clear()
    got_status, _, body = hub.fetch("submit", request_body)
    assert got_status == status
    assert words in _json(body)["error"]
    assert service.received == []


def test_submit_refuses_a_body_that_is_not_json(servers, service):
    hub, _, _ = servers
    status, _, body = hub.fetch("submit", raw=b"lab.ipynb")
    assert status == 400 and "needs the notebook's path" in _json(body)["error"]


def test_listing_and_one_submission_pass_through_unchanged(servers, service):
    hub, _, _ = servers
    service.received.clear()
    status, _, body = hub.fetch("submissions")
    assert status == 200 and _json(body)["counting"] == "best"
    status, _, body = hub.fetch("submissions/0123abcd")
    assert (status, _json(body)) == (429, {"error": "Too soon.", "retry_after": None})  # status kept too
    assert [r.path for r in service.received] == [f"{SERVICE_PREFIX}api/submissions",
                                                  f"{SERVICE_PREFIX}api/submissions/0123abcd"]
    assert all(r.headers["Authorization"] == f"token {HUB_TOKEN}" for r in service.received)


@pytest.mark.parametrize("path", ["submissions/0123ABCD", "submissions/0123abc", "submissions/..%2Fapi",
                                  "submissions/0123abcd/feedback/x", "other", "submissions/" + "a" * 65])
def test_a_malformed_id_is_not_found_and_not_forwarded(servers, service, path):
    hub, _, _ = servers
    service.received.clear()
    status, _, _ = hub.fetch(path)
    assert status == 404
    assert service.received == []


def test_feedback_page_is_served_sandboxed(servers, service):
    hub, _, _ = servers
    status, headers, body = hub.fetch("submissions/0123abcd/feedback")
    assert (status, body) == (200, FEEDBACK_HTML)
    assert headers["Content-Type"].startswith("text/html")
    assert headers["Content-Security-Policy"] == CSP


def test_without_the_hub_every_request_is_503(servers, service):
    _, laptop, _ = servers
    service.received.clear()
    for path, body in [("submit", {"path": "lab.ipynb"}), ("submissions", None), ("submissions/0123abcd", None),
                       ("submissions/0123abcd/feedback", None)]:
        status, _, answer = laptop.fetch(path, body)
        assert (status, _json(answer)["error"]) == (503, "Submit for grading works on the course's JupyterHub only")
    assert service.received == []


def test_a_service_that_does_not_answer_is_a_503_sentence(servers, service):
    hub, _, _ = servers
    status, _, body = hub.fetch(f"submissions/{VANISHING_ID}")
    assert status == 503
    assert _json(body)["error"].startswith("The grading service cannot be reached")
    assert "Traceback" not in hub.log.read_text()
