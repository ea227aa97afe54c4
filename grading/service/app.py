"""The grading service's HTTP API (tornado, behind the hub at ``/services/grader/``). Every request
carries the student's JupyterHub token; the hub says whose it is and whether it may use this
service (the students' role), and the account must be in the course's students group. A student
sees and submits only as themselves.

    POST api/submissions?notebook=NAME   the notebook's bytes -> 202, the submission
    GET  api/submissions                 the student's submissions (newest first) and the rules
    GET  api/submissions/ID              one of them
    GET  api/submissions/ID/feedback     its feedback page (HTML, scripts off)
"""

from __future__ import annotations

import grp
import json
import logging
import os
import pwd
from datetime import UTC, datetime, timedelta
from typing import Any

import nbformat
from jupyterhub.services.auth import HubAuthenticated
from tornado import web

from grading.service import store as st
from grading.service.engine import Engine
from grading.service.policy import Policy, Refusal

log = logging.getLogger("grading.service")
#: the feedback page holds the student's own outputs: shown without scripts, nothing fetched
FEEDBACK_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
DEADLINE_CACHE = timedelta(seconds=10)


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat()


class Service:
    """What the handlers share: the store, the rules, the grader, the course's names."""

    def __init__(
        self, store: st.Store, policy: Policy, engine: Engine, notebooks: frozenset[str], students_group: str
    ) -> None:
        self.store, self.policy, self.engine = store, policy, engine
        self.notebooks, self.students_group = notebooks, students_group
        self._deadline: tuple[datetime, datetime | None] | None = None

    def deadline(self, now: datetime) -> datetime | None:
        """The policy's deadline, else the assignment's due date in the gradebook (the
        Formgrader sets it), read at most every few seconds."""
        if self.policy.deadline is not None:
            return self.policy.deadline
        if self._deadline is None or now - self._deadline[0] > DEADLINE_CACHE:
            self._deadline = (now, self._gradebook_duedate())
        return self._deadline[1]

    def _gradebook_duedate(self) -> datetime | None:
        course = self.engine.course or self.engine.find_course()
        if course is None:
            return None
        from nbgrader.api import Gradebook, MissingEntry

        from grading.batch.gradebook import course_id_of, sqlite_url

        url = course.db_url or sqlite_url(course.folder / "gradebook.db")
        if url.startswith("sqlite") and not (course.folder / "gradebook.db").exists() and not course.db_url:
            return None
        try:
            with Gradebook(url, course_id_of(course.folder, self.engine.settings.options.config_file)) as gb:
                due = gb.find_assignment(self.engine.settings.assignment).duedate
        except MissingEntry:
            return None
        return None if due is None else due.replace(tzinfo=UTC)

    def is_student(self, name: str) -> bool:
        try:
            entry = pwd.getpwnam(name)
            return grp.getgrnam(self.students_group).gr_gid in os.getgrouplist(name, entry.pw_gid)
        except KeyError:
            return False

    def public(self, sub: st.Submission) -> dict[str, Any]:
        """A submission as its student sees it."""
        r = sub.result
        return {
            "id": sub.id,
            "student": sub.student,
            "notebook": sub.notebook,
            "submitted": iso(sub.submitted),
            "status": sub.status,
            "position": self.store.ahead_of(sub) if sub.status == st.QUEUED else None,
            "score": sub.score,
            "max_score": sub.max_score,
            "exercises": r.get("exercises", []),
            "message": r.get("message", ""),
            "counted": sub.counted,
            "feedback": sub.has_feedback,
        }


class Handler(HubAuthenticated, web.RequestHandler):
    """JSON in and out; a token of a course student is required."""

    def initialize(self, service: Service) -> None:
        self.service = service

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def fail(self, status: int, message: str, retry_after: datetime | None = None) -> None:
        self.set_status(status)
        if retry_after is not None:
            seconds = max(1, int((retry_after - datetime.now(UTC)).total_seconds() + 0.999))
            self.set_header("Retry-After", str(seconds))
        self.finish(json.dumps({"error": message, "retry_after": iso(retry_after)}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {
            401: "No JupyterHub token, or not a valid one: submit from your JupyterLab on the course hub.",
            403: "This account may not submit to the course's grader (only the course's students can).",
            404: "No such submission of yours.",
            405: "Not a method this API has.",
        }
        self.finish(
            json.dumps({"error": messages.get(status_code, "The grading service failed."), "retry_after": None})
        )

    def check_hub_user(self, model: dict) -> dict:
        self.hub_model = model  # known to the hub, but maybe without the grader's scope (403, not 401)
        return super().check_hub_user(model)

    def student(self) -> str:
        """The student making the request (401 without a valid token, 403 if not a course student)."""
        model = self.current_user
        if not model:
            raise web.HTTPError(403 if getattr(self, "hub_model", None) else 401)
        name = model.get("name", "")
        if model.get("kind", "user") != "user" or not self.service.is_student(name):
            raise web.HTTPError(403)
        return name


class Submissions(Handler):
    def get(self) -> None:
        name = self.student()
        svc = self.service
        now = datetime.now(UTC)
        subs = svc.store.of_student(name)
        refusal = svc.policy.admit(now, [s.submitted for s in subs], svc.deadline(now))
        self.finish(
            json.dumps(
                {
                    "submissions": [svc.public(s) for s in subs],
                    "counting": svc.policy.counting,
                    "deadline": iso(svc.deadline(now)),
                    "limit": {"count": svc.policy.limit, "seconds": svc.policy.window},
                    "next_allowed": iso(refusal.retry_after) if refusal else None,
                    "open": refusal is None or refusal.status == 429,
                }
            )
        )

    def post(self) -> None:
        name = self.student()
        svc = self.service
        notebook = self.get_argument("notebook", "")
        if notebook not in svc.notebooks:
            return self.fail(
                400,
                f"{notebook or 'This file'} is not a notebook of this assignment: "
                f"submit {', '.join(sorted(svc.notebooks))}.",
            )
        body = self.request.body
        if len(body) > svc.policy.max_bytes:
            return self.fail(
                413,
                f"The notebook is {len(body) / 2**20:.1f} MiB; the grader takes at most "
                f"{svc.policy.max_bytes / 2**20:g} MiB. Clear large outputs (Edit > Clear Outputs of All "
                "Cells), save, submit again.",
            )
        problem = notebook_problem(body)
        if problem:
            return self.fail(400, problem)
        if svc.engine.failed is not None or not svc.engine.is_alive():
            return self.fail(503, "The grader is not running; nothing was taken. Tell your instructor.")
        if svc.engine.course is None and svc.engine.find_course() is None:
            return self.fail(503, "The course is not set up for grading yet; nothing was taken. Try again later.")
        now = datetime.now(UTC)
        deadline = svc.deadline(now)
        taken = svc.store.add(name, notebook, body, now, lambda earlier: svc.policy.admit(now, earlier, deadline))
        if isinstance(taken, Refusal):
            log.info("refused a submission of %s: %s", name, taken.message)
            return self.fail(taken.status, taken.message, taken.retry_after)
        assert isinstance(taken, st.Submission)
        log.info("took %s from %s (%d bytes)", taken.id, name, len(body))
        svc.engine.wake()
        self.set_status(202)
        self.finish(json.dumps(svc.public(taken)))


class OneSubmission(Handler):
    def get(self, sid: str) -> None:
        sub = self.service.store.get(sid, self.student())
        if sub is None:
            raise web.HTTPError(404)
        self.finish(json.dumps(self.service.public(sub)))


class Feedback(Handler):
    def get(self, sid: str) -> None:
        name = self.student()
        sub = self.service.store.get(sid, name)
        page = self.service.store.feedback(sid) if sub is not None else None
        if page is None:
            raise web.HTTPError(404)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", FEEDBACK_CSP)
        self.finish(page)


def notebook_problem(body: bytes) -> str:
    """Why ``body`` is not a notebook the grader can take ("" if it is one)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "The upload is not a notebook (not UTF-8 text). Submit the .ipynb file saved by JupyterLab."
    try:
        data = json.loads(text)
    except ValueError as exc:
        return f"The upload is not a notebook: it is not valid JSON ({exc}). Nothing was taken."
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) or "nbformat" not in data:
        return "The upload is JSON but not a Jupyter notebook (no cells or nbformat). Nothing was taken."
    try:
        nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a notebook it cannot read
        return f"The notebook cannot be read ({type(exc).__name__}: {str(exc)[:200]}). Nothing was taken."
    return ""


def make_app(service: Service, prefix: str) -> web.Application:
    """The API under ``prefix`` (JUPYTERHUB_SERVICE_PREFIX, e.g. ``/services/grader/``)."""
    p = prefix.rstrip("/")
    sid = r"([0-9a-f]{24})"
    args = {"service": service}
    return web.Application(
        [
            (rf"{p}/api/submissions", Submissions, args),
            (rf"{p}/api/submissions/{sid}", OneSubmission, args),
            (rf"{p}/api/submissions/{sid}/feedback", Feedback, args),
        ],
    )
