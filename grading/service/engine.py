"""The grading service's grader: one thread that takes queued submissions from the store, grades
each as a Dask task with ``python -m grading``'s sandboxed path (an embedded cluster, or a
scheduler's), and records the result: in the store always, in the instructor's gradebook and
``autograded/`` when it is the student's counted submission (:class:`~grading.service.policy.Policy`).

One submission per student at a time, oldest first, so that "latest" is the latest taken. The
course (its source, its gradebook) is found again on each submission: an edited source makes a
new batch bundle, an instructor made after the hub started is found when they exist."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grading.batch.client import open_client
from grading.batch.coordinator import identity_bundle, prepare_batch, record_outcome
from grading.batch.gradebook import check_db_url, sqlite_url
from grading.batch.options import Options
from grading.batch.results import STATUS_ERROR, SubmissionResult
from grading.batch.tasks import TIMESTAMP, Bundle, Outcome, Task
from grading.batch.worker import grade_task, prepare_worker, worker_ready
from grading.filetree import read_tree
from grading.service import store as st
from grading.service.course import Course, CourseError, find_course, give_back
from grading.service.policy import Policy
from grading.service.verdict import verdict

log = logging.getLogger("grading.service")


@dataclass(frozen=True)
class EngineSettings:
    """Where the course is and how submissions are graded (the service's environment)."""

    exchange_course: Path  # nbgrader's exchange folder of the course (its owner: the instructor)
    assignment: str
    options: Options  # python -m grading's options (course_dir and db_url are the course's)
    default_db_url: str | None = None


def server_timestamp(when: datetime) -> bytes:
    """timestamp.txt as nbgrader writes it, from the server's clock (late penalties use it)."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC").encode()


class Engine(threading.Thread):
    """The grading thread; :meth:`wake` after a submission is taken, :meth:`stop` at the end."""

    def __init__(self, store: st.Store, policy: Policy, settings: EngineSettings) -> None:
        super().__init__(name="grader", daemon=True)
        self.store, self.policy, self.settings = store, policy, settings
        self._wake, self._stopping = threading.Event(), threading.Event()
        self.ready = threading.Event()  # the cluster is up and its workers warm
        self.failed: BaseException | None = None
        self._bundle: tuple[str, Bundle, object] | None = None  # (key, bundle, its Dask future)
        self._work = Path(tempfile.mkdtemp(prefix="grader-service-"))
        self.course: Course | None = None
        self.last_course_error = ""

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def find_course(self) -> Course | None:
        """The course now (None, with the reason in :attr:`last_course_error`, if not set up)."""
        try:
            self.course = find_course(self.settings.exchange_course, self.settings.default_db_url)
            self.last_course_error = ""
        except CourseError as exc:
            self.course, self.last_course_error = None, str(exc)
        return self.course

    def run(self) -> None:
        try:
            self._serve()
        except BaseException as exc:
            self.failed = exc
            log.exception("the grader stopped: the service exits, the hub starts it again (nothing queued is lost)")
            os._exit(3)

    def _serve(self) -> None:
        opts = self.settings.options
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.info("%d submission(s) that were being graded when the service stopped are queued again", requeued)
        with open_client(opts.cluster()) as (client, n_workers):
            client.run(prepare_worker, opts.isolation)
            client.run(worker_ready)
            self.ready.set()
            log.info("grader ready: %s, isolation %s", opts.cluster().describe(n_workers), opts.isolation)
            self._loop(client)

    def _loop(self, client) -> None:
        # Dask futures -> (submission, the worker it was sent to): one submission per worker at a
        # time, each sent to an idle worker (left to itself, Dask puts tasks where the bundle is,
        # one worker, and a submission that kills that worker takes the others queued there with it)
        running: dict[Any, tuple[st.Submission, str]] = {}
        while not self._stopping.is_set():
            while (worker := _idle_worker(client, {w for _, w in running.values()})) is not None:
                course = self.find_course()
                if course is None:
                    break
                sub = self.store.next_queued({s.student for s, _ in running.values()})
                if sub is None:
                    break
                try:
                    shared = self._shared_bundle(client, course)
                except Exception as exc:  # the course's source cannot be prepared: the queue waits
                    self._put_back(sub, f"{type(exc).__name__}: {exc}")
                    break
                task = Task(
                    sub.student, {sub.notebook: self.store.body(sub.id), TIMESTAMP: server_timestamp(sub.submitted)}
                )
                fut = client.submit(
                    grade_task,
                    shared,
                    task,
                    key=f"submit-{sub.id}-{sub.attempts}",
                    pure=False,
                    workers=[worker],
                    allow_other_workers=True,  # only if that worker is gone
                )
                running[fut] = (sub, worker)
                fut.add_done_callback(lambda _fut: self._wake.set())  # its result is taken at once
                log.info("grading %s of %s (attempt %d) on %s", sub.id, sub.student, sub.attempts, worker)
            done = [fut for fut in running if fut.done()]
            for fut in done:
                self._finish(running.pop(fut)[0], fut)
            if not done:  # a new submission or a finished one wakes it at once
                self._wake.wait(2.0)
                self._wake.clear()

    def _put_back(self, sub: st.Submission, why: str) -> None:
        log.error("cannot grade %s now: %s", sub.id, why)
        self.last_course_error = why
        self.store.finish(sub.id, st.QUEUED, None, None, {}, None, datetime.now(UTC))
        self._stopping.wait(5.0)

    def _shared_bundle(self, client, course: Course):
        """The batch bundle of the course as it is now (made again when its source changed)."""
        source = course.folder / "source" / self.settings.assignment
        config = Path(self.settings.options.config_file or course.folder / "nbgrader_config.py")
        digest = hashlib.sha256(repr(sorted(read_tree(source).items())).encode())
        digest.update(config.read_bytes() if config.is_file() else b"")
        key = f"{course.folder}|{course.db_url}|{digest.hexdigest()}"
        if self._bundle is None or self._bundle[0] != key:
            opts = replace(self.settings.options, course_dir=course.folder, db_url=course.db_url)
            db_url = check_db_url(course.db_url or sqlite_url(course.folder / "gradebook.db"))
            work = Path(tempfile.mkdtemp(dir=self._work))
            try:
                bundle = prepare_batch(self.settings.assignment, opts, db_url, work)
            finally:
                give_back(course.folder, course.instructor)
            bundle = replace(bundle, feedback=True)
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "large object in task graph": once
                fut = client.submit(identity_bundle, bundle, key=f"bundle-{bundle.batch_id}", pure=False)
            self._bundle = (key, bundle, fut)
            log.info("prepared %s from %s", self.settings.assignment, source)
        return self._bundle[2]

    def _finish(self, sub: st.Submission, fut) -> None:
        from distributed.scheduler import KilledWorker

        try:
            outcome = fut.result()
        except KilledWorker:
            outcome = Outcome(
                SubmissionResult(
                    sub.student,
                    STATUS_ERROR,
                    notes=["not graded: grading it stopped the grader's worker process on every attempt"],
                ),
                None,
            )
        except Exception as exc:  # a bug of ours, or a lost worker: this submission's error only
            outcome = Outcome(SubmissionResult(sub.student, STATUS_ERROR, notes=[f"{type(exc).__name__}: {exc}"]), None)
        fut.release()
        status, result = verdict(outcome, self.settings.assignment, sub.notebook)
        before = [s.score for s in self.store.of_student(sub.student) if s.counted and s.score is not None]
        counted = status == st.GRADED and self.policy.counts(result["score"], before[0] if before else None)
        course = self.course
        if counted and course is not None and self._bundle is not None:
            db_url = course.db_url or sqlite_url(course.folder / "gradebook.db")
            try:
                record_outcome(course.folder, db_url, self._bundle[1], outcome)
            finally:
                give_back(course.folder, course.instructor)
        page = outcome.feedback.get(sub.notebook.removesuffix(".ipynb") + ".html")
        self.store.finish(sub.id, status, result.get("score"), result.get("max_score"), result, page, datetime.now(UTC))
        if counted:
            self.store.set_counted(sub.student, sub.id)
        log.info("%s of %s: %s %s/%s", sub.id, sub.student, status, result.get("score"), result.get("max_score"))


def _idle_worker(client, busy: set[str]) -> str | None:
    """A worker of the cluster with no submission of ours (None if all have one)."""
    for address in sorted(client.scheduler_info().get("workers", {})):
        if address not in busy:
            return address
    return None
