"""The student's side of the course grader: a Jupyter server extension in the student's own server.

The "Submit for grading" button (deploy/labextension) saves the notebook and asks this
extension, under ``{base_url}course-grader/``, to hand the saved file to the course's grading
service (``grading.service``, a JupyterHub service) with the student's own JupyterHub token:

- ``POST course-grader/submit`` ``{"path": "<notebook path>"}``: the saved notebook's bytes,
  read through the server's contents manager, go to ``POST {service}api/submissions``;
- ``GET course-grader/submissions[/<id>[/feedback]]``: the service's list, one submission, or
  its feedback page (served with a sandboxing Content-Security-Policy: the page shows the
  student's own output, which must not run script on the hub's origin).

The service's status and JSON answer are passed through unchanged. The service is found from
the server's environment: ``COURSE_GRADER_URL`` (set by the course hub for students) and
``JUPYTERHUB_API_TOKEN`` (set by JupyterHub for every server); without them every request is
answered 503. Enabled for students only (deploy/roles/student/jupyter_server_config.json).
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
from typing import Any
from urllib.parse import quote

from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse

PREFIX = "course-grader"
MAX_NOTEBOOK_BYTES = 8 * 1024 * 1024  # the largest notebook handed in
ID = r"[0-9a-f]{8,64}"
CONNECT_TIMEOUT = 10.0  # seconds
REQUEST_TIMEOUT = 60.0  # seconds: an 8 MiB upload on a slow link
FEEDBACK_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
NOT_ON_HUB = "Submit for grading works on the course's JupyterHub only"
UNREACHABLE = "The grading service cannot be reached just now: try again in a minute (your notebook is saved)."
NOT_JSON = "The grading service gave an answer that could not be read (HTTP {code}): try again in a minute."


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """This module is the extension (``jpserver_extensions``)."""
    return [{"module": "grading.service.student_server"}]


def _service() -> tuple[str, str] | None:
    """The grading service's base URL (ending in /) and the student's hub token, if both are set."""
    url = os.environ.get("COURSE_GRADER_URL", "").strip()
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "").strip()
    if not url or not token:
        return None
    return (url if url.endswith("/") else url + "/"), token


class GraderHandler(APIHandler):
    """Common ground: JSON errors as ``{"error": ..., "retry_after": null}``, and the service call."""

    def fail(self, status: int, sentence: str) -> None:
        """Answer ``status`` with one sentence for the student."""
        self.set_status(status)
        self.finish(json.dumps({"error": sentence, "retry_after": None}))

    async def call(self, method: str, path: str, body: bytes | None = None) -> HTTPResponse | None:
        """The service's answer to ``method path`` (any status); None once a 503 has been sent."""
        service = _service()
        if service is None:
            self.fail(503, NOT_ON_HUB)
            return None
        base, token = service
        headers = {"Authorization": f"token {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/x-ipynb+json"
        request = HTTPRequest(
            base + path,
            method=method,
            headers=headers,
            body=body,
            connect_timeout=CONNECT_TIMEOUT,
            request_timeout=REQUEST_TIMEOUT,
            follow_redirects=False,
        )
        try:
            return await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:  # refused, unresolvable, timed out, closed unanswered
            self.log.warning("course grader: %s %s failed: %s", method, base + path, exc)
            self.fail(503, UNREACHABLE)
            return None

    def relay(self, response: HTTPResponse) -> None:
        """Pass the service's status and JSON body through unchanged."""
        body = response.body or b""
        try:
            json.loads(body)
        except ValueError:
            self.log.warning("course grader: HTTP %s with a body that is not JSON", response.code)
            self.fail(502, NOT_JSON.format(code=response.code))
            return
        self.set_status(response.code)
        self.finish(body)


class SubmitHandler(GraderHandler):
    """``POST course-grader/submit``: the saved notebook at ``path`` goes to the service."""

    @web.authenticated
    async def post(self) -> None:
        """Read the saved notebook through the contents manager and hand its bytes in."""
        try:
            request = json.loads(self.request.body or b"{}")
        except ValueError:
            request = None
        path = request.get("path") if isinstance(request, dict) else None
        if not isinstance(path, str) or not path.strip("/"):
            return self.fail(400, 'The request needs the notebook\'s path: {"path": "lab.ipynb"}.')
        path = path.strip("/")
        if path.startswith("~") or ".." in path.split("/") or "\\" in path or "\0" in path:
            return self.fail(400, f"{path} is outside the folder your JupyterLab serves.")
        if posixpath.splitext(path)[1].lower() != ".ipynb":
            return self.fail(400, f"{posixpath.basename(path)} is not a notebook: only .ipynb files are graded.")
        if _service() is None:
            return self.fail(503, NOT_ON_HUB)
        data = await self.saved_bytes(path)
        if data is None:
            return None
        response = await self.call("POST", f"api/submissions?notebook={quote(posixpath.basename(path))}", data)
        if response is not None:
            self.relay(response)
        return None

    async def saved_bytes(self, path: str) -> bytes | None:
        """The file's bytes as saved on disk; None once a 404 or 413 has been sent."""
        cm = self.contents_manager
        try:
            model = await ensure_async(cm.get(path, content=False, type="file"))
            if (model.get("size") or 0) <= MAX_NOTEBOOK_BYTES:
                model = await ensure_async(cm.get(path, content=True, type="file", format="base64"))
        except web.HTTPError:  # missing, a folder, hidden or outside the root
            self.fail(404, f"{path} was not found (save it first, under the folder your JupyterLab serves).")
            return None
        data = base64.b64decode(model["content"]) if model.get("content") is not None else None
        size = len(data) if data is not None else int(model.get("size") or 0)
        if data is None or size > MAX_NOTEBOOK_BYTES:
            mib = MAX_NOTEBOOK_BYTES // (1024 * 1024)
            self.fail(
                413,
                f"{posixpath.basename(path)} is {size / 2**20:.1f} MiB, more than the {mib} MiB a submission "
                "may be: clear large outputs (Edit > Clear Outputs of All Cells), save and submit again.",
            )
            return None
        return data


class SubmissionsHandler(GraderHandler):
    """``GET course-grader/submissions``: the student's submissions, newest first."""

    @web.authenticated
    async def get(self) -> None:
        """The service's list, unchanged."""
        response = await self.call("GET", "api/submissions")
        if response is not None:
            self.relay(response)


class SubmissionHandler(GraderHandler):
    """``GET course-grader/submissions/<id>``: one submission (polled while it is graded)."""

    @web.authenticated
    async def get(self, submission: str) -> None:
        """The service's submission object, unchanged."""
        response = await self.call("GET", f"api/submissions/{submission}")
        if response is not None:
            self.relay(response)


class FeedbackHandler(GraderHandler):
    """``GET course-grader/submissions/<id>/feedback``: the feedback page, sandboxed."""

    @property
    def content_security_policy(self) -> str:
        """No script, no requests: the page holds the student's own output."""
        return FEEDBACK_CSP

    @web.authenticated
    async def get(self, submission: str) -> None:
        """The service's HTML page; its JSON error when there is none."""
        response = await self.call("GET", f"api/submissions/{submission}/feedback")
        if response is None:
            return
        content_type = response.headers.get("Content-Type", "")
        if response.code != 200 or not content_type.startswith("text/html"):
            self.relay(response)
            return
        self.set_header("Content-Security-Policy", FEEDBACK_CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(response.body, set_content_type="text/html; charset=utf-8")


class UnknownHandler(GraderHandler):
    """Anything else under ``course-grader/`` (a malformed id, say): a JSON 404."""

    @web.authenticated
    def get(self, _rest: str) -> None:
        """Not found."""
        self.fail(404, "There is no such submission.")

    post = get


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Add the handlers under ``{base_url}course-grader/``."""
    base = url_path_join(serverapp.web_app.settings["base_url"], PREFIX)
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "submit"), SubmitHandler),
            (url_path_join(base, "submissions"), SubmissionsHandler),
            (url_path_join(base, "submissions", f"({ID})"), SubmissionHandler),
            (url_path_join(base, "submissions", f"({ID})", "feedback"), FeedbackHandler),
            (url_path_join(base, "(.*)"), UnknownHandler),
        ],
    )
    where = "ready" if _service() else "not on the course hub: its requests are answered 503"
    serverapp.log.info("course grader: %s at %s", where, base)
