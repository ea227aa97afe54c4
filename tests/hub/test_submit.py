"""Submit for grading on the course's real JupyterHub: the button in a real Chromium, and the grading
service (python -m grading.service, started by the hub as root) through its HTTP API, with real
accounts' real tokens.

Shares the hub of test_hub.py (tests/hub/conftest.py). The test hub's rules (tests/helpers/hub.py,
GRADER_ENV): at most 2 submissions per hour, 1 MiB, one attempt per submission (a submission
whose worker dies is an error at once). s3 clicks Submit for grading in Chromium (a wrong
softmax, then a right one); s4, s5 and s6 are graded across a killed and restarted service; s5's
next one loses its worker.
"""
from __future__ import annotations

import copy
import json
import os
import pwd
import shutil
import signal
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
import requests

from helpers.faults import GOOD_MODEL, GOOD_SOFTMAX, WRONG_SOFTMAX, answer
from helpers.hub import ASSIGNMENT, COURSE_ID, HubUser, run_as
from helpers.hub_page import HubPage
from helpers.repo import RELEASE_NB

pytestmark = [pytest.mark.hub, pytest.mark.browser]

API = "services/grader/api/submissions"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
GRADE_TIMEOUT = 420.0


def lab(softmax: str = GOOD_SOFTMAX, model: str = GOOD_MODEL) -> bytes:
    """The released lab with these two answers, as a student's saved file."""
    nb = copy.deepcopy(nbformat.read(RELEASE_NB, as_version=4))
    answer("my_softmax", softmax)(nb)
    answer("my_model", model)(nb)
    return nbformat.writes(nb).encode()


def post(user: HubUser, body: bytes, notebook: str = NOTEBOOK, **params: str) -> requests.Response:
    return user.api("POST", API, params={"notebook": notebook, **params}, data=body,
                    headers={"Content-Type": "application/x-ipynb+json"})


def wait_result(user: HubUser, sid: str, timeout: float = GRADE_TIMEOUT) -> dict[str, Any]:
    """Poll the submission until it is graded or an error; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sub = status_of(user, sid)
        if sub is not None and sub["status"] in ("graded", "error"):
            return sub
        time.sleep(0.5)
    raise TimeoutError(f"submission {sid} of {user.account.username} not graded in {timeout:.0f} s")


def status_of(user: HubUser, sid: str) -> dict[str, Any] | None:
    """The submission as its student sees it; None while the service is not answering (the hub
    starting it again: the proxy's own error page)."""
    r = user.api("GET", f"{API}/{sid}")
    if r.status_code != 200 and not r.headers.get("Content-Type", "").startswith("application/json"):
        return None
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def store_rows(hub: Any) -> list[tuple]:
    """The service's own records (read as root): id, student, status, attempts, counted."""
    with closing(sqlite3.connect(f"file:{hub.state / 'grader' / 'submissions.sqlite'}?mode=ro", uri=True)) as db:
        return db.execute("SELECT id, student, status, attempts, counted FROM submissions").fetchall()


def service_pid(hub: Any) -> int:
    """The running grading service (a child of the hub)."""
    for proc in psutil.Process(hub.proc.pid).children(recursive=True):
        try:
            if proc.cmdline()[-2:] == ["-m", "grading.service"]:
                return proc.pid
        except psutil.Error:
            continue
    raise AssertionError("no grading service among the hub's processes")


@pytest.fixture(scope="module")
def users(course_hub: Any) -> dict[str, HubUser]:
    """s3 to s6 and the instructor, logged in (each with their own API token)."""
    out = {}
    for key in ("s3", "s4", "s5", "s6", "instructor"):
        out[key] = HubUser(course_hub.hub, course_hub.roster.accounts[key])
        out[key].login()
    return out


# the two graded cells of the released notebook and what s3 types there (as test_hub.py's students)
SOFTMAX_CELL, MODEL_CELL = 9, 23
TYPED_WRONG = "a = np.exp(z) / np.sum(z)"  # divides by the sum of z, not of exp(z)
TYPED_RIGHT = "ez = np.exp(z - np.max(z)); a = ez / np.sum(ez)"
TYPED_MODEL = ('tf.keras.Input(shape=(400,)), Dense(25, activation="relu", name="L1"), '
               'Dense(15, activation="relu", name="L2"), Dense(10, activation="linear", name="L3"),')


@pytest.fixture(scope="module")
def s3_attempts(course_hub: Any, users: dict[str, HubUser], chromium: Any, artifacts_dir: Path) -> dict[str, Any]:
    """s3 in Chromium: the released lab in their home, a wrong softmax typed and, without saving,
    Submit for grading clicked; then the softmax mended and submitted again. What the dialog
    showed each time, and each submission as the API gives it."""
    s3 = course_hub.roster.accounts["s3"]
    target = s3.home / NOTEBOOK
    shutil.copy(RELEASE_NB, target)  # as the Assignment List's fetch leaves it
    os.chown(target, pwd.getpwnam(s3.username).pw_uid, pwd.getpwnam(s3.username).pw_gid)
    page = HubPage(chromium, course_hub.hub, s3, artifacts_dir)
    seen: dict[str, Any] = {}
    try:
        page.login()
        page.open_notebook(NOTEBOOK)
        page.type_answer(SOFTMAX_CELL, TYPED_WRONG)
        page.type_answer(MODEL_CELL, TYPED_MODEL)
        started = time.monotonic()
        body = page.submit_for_grading()
        seen["wrong seconds"] = time.monotonic() - started
        seen["wrong dialog"] = body.inner_text()
        seen["wrong total"] = body.locator(".jp-CourseGrader-total").inner_text()
        seen["wrong links"] = body.locator("a.jp-CourseGrader-feedback").count()
        page.shot("21_s3_submit_wrong", page.page.locator(".jp-Dialog-content"))
        page.close_dialog()
        page.type_answer(SOFTMAX_CELL, TYPED_RIGHT, replacing=TYPED_WRONG)
        started = time.monotonic()
        body = page.submit_for_grading()
        seen["right seconds"] = time.monotonic() - started
        seen["right dialog"] = body.inner_text()
        seen["right total"] = body.locator(".jp-CourseGrader-total").inner_text()
        seen["right links"] = body.locator("a.jp-CourseGrader-feedback").count()
        page.shot("22_s3_submit_right", page.page.locator(".jp-Dialog-content"))
        page.close_dialog()
    except Exception:
        page.shot("failed_s3_submit")
        print("\n[submit] hub log:\n" + course_hub.hub.log_tail(40))
        raise
    finally:
        page.close()
    listed = users["s3"].api("GET", API).json()["submissions"]
    seen["right"], seen["wrong"] = (wait_result(users["s3"], s["id"]) for s in listed)
    seen["wrong taken"] = seen["wrong"]
    print(f"\n[submit] s3 in Chromium: click to score shown: wrong {seen['wrong seconds']:.1f} s, "
          f"right {seen['right seconds']:.1f} s")
    return seen


def test_a_wrong_softmax_scores_10_with_the_tests_message(s3_attempts: dict[str, Any]) -> None:
    taken, wrong = s3_attempts["wrong taken"], s3_attempts["wrong"]
    # what the student saw: the total and the public test's explanation
    assert s3_attempts["wrong total"].replace(".0", "") == "10 / 20", s3_attempts["wrong dialog"]
    assert "Exercise 1: my_softmax" in s3_attempts["wrong dialog"]
    assert "sum" in s3_attempts["wrong dialog"].lower()
    assert s3_attempts["right total"].replace(".0", "") == "20 / 20", s3_attempts["right dialog"]
    assert (s3_attempts["wrong links"], s3_attempts["right links"]) == (1, 1)  # the feedback page
    assert abs(datetime.fromisoformat(taken["submitted"]) - datetime.now(UTC)) < timedelta(minutes=10)
    assert wrong["status"] == "graded", wrong
    assert (wrong["score"], wrong["max_score"]) == (10.0, 20.0), wrong
    softmax, model = wrong["exercises"]
    assert (softmax["id"], softmax["score"], softmax["max_score"]) == ("test_my_softmax", 0.0, 10.0)
    assert softmax["name"] == "Exercise 1: my_softmax"
    assert "sum" in softmax["messages"].lower(), softmax["messages"]  # the public test's teaching message
    assert (model["id"], model["score"]) == ("test_model", 10.0)
    assert "BEGIN HIDDEN TESTS" not in json.dumps(wrong)


def test_then_right_scores_20_and_counts(course_hub: Any, users: dict[str, HubUser],
                                         s3_attempts: dict[str, Any]) -> None:
    right = s3_attempts["right"]
    assert (right["status"], right["score"], right["max_score"]) == ("graded", 20.0, 20.0), right
    listed = users["s3"].api("GET", API).json()
    assert [s["score"] for s in listed["submissions"]] == [20.0, 10.0]  # newest first
    assert [s["counted"] for s in listed["submissions"]] == [True, False]
    assert listed["counting"] == "latest"
    # the instructor's nbgrader export shows the counted one
    instructor = course_hub.roster.accounts["instructor"]
    course = instructor.home / COURSE_ID
    out = course_hub.folder / "submit_grades.csv"
    proc = run_as(instructor.username, "nbgrader", "export", f"--to={course / 'submit_grades.csv'}", cwd=course)
    assert proc.returncode == 0, proc.stderr
    rows = (course / "submit_grades.csv").read_text()
    out.write_text(rows)
    s3 = users["s3"].account.username
    row = next(line for line in rows.splitlines() if f",{s3}," in f",{line},")
    assert ",20.0," in row, row


def test_the_feedback_page_shows_no_hidden_test_and_runs_no_script(users: dict[str, HubUser],
                                                                   s3_attempts: dict[str, Any]) -> None:
    sid = s3_attempts["wrong"]["id"]
    r = users["s3"].api("GET", f"{API}/{sid}/feedback")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Content-Security-Policy"].startswith("sandbox")
    assert "my_softmax" in r.text and "BEGIN HIDDEN TESTS" not in r.text
    assert "10 / 20" in r.text.replace(".0", "") or "Score: 10" in r.text, r.text[:500]


def test_over_the_limit_a_clear_message_and_nothing_taken(course_hub: Any, users: dict[str, HubUser],
                                                          s3_attempts: dict[str, Any]) -> None:
    before = store_rows(course_hub.hub)
    r = post(users["s3"], lab())
    assert r.status_code == 429, r.text
    body = r.json()
    assert "next submission is possible at" in body["error"], body
    retry = datetime.fromisoformat(body["retry_after"])
    first = datetime.fromisoformat(s3_attempts["wrong taken"]["submitted"])
    assert abs((retry - first) - timedelta(hours=1)) < timedelta(seconds=2), (retry, first)
    assert int(r.headers["Retry-After"]) > 3000
    assert store_rows(course_hub.hub) == before


BAD_UPLOADS = {
    "not JSON": (b"print('hello')\n", NOTEBOOK, 400, "not valid JSON"),
    "not a notebook": (b'{"hello": "world"}', NOTEBOOK, 400, "not a Jupyter notebook"),
    "not UTF-8": (b"\xff\xfe\x00{", NOTEBOOK, 400, "not UTF-8"),
    "another file": (b"{}", "solution.ipynb", 400, "not a notebook of this assignment"),
    "too large": (b"{" + b" " * (1 << 20) + b"}", NOTEBOOK, 413, "at most 1 MiB"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_gets_a_clear_error_and_nothing_is_taken(course_hub: Any, users: dict[str, HubUser],
                                                               case: str) -> None:
    body, notebook, status, words = BAD_UPLOADS[case]
    before = store_rows(course_hub.hub)
    r = post(users["s4"], body, notebook)
    assert (r.status_code, words in r.json()["error"]) == (status, True), r.text
    assert store_rows(course_hub.hub) == before


def test_only_students_with_their_own_token(course_hub: Any, users: dict[str, HubUser],
                                            s3_attempts: dict[str, Any]) -> None:
    hub = course_hub.hub
    before = store_rows(hub)
    r = requests.post(f"{hub.base}/{API}", params={"notebook": NOTEBOOK}, data=lab(), timeout=30,
                      allow_redirects=False)
    assert r.status_code in (401, 403) or r.status_code == 302, r.status_code  # no token: never taken
    r = post(users["instructor"], lab())  # the instructor's token has no access to the grader
    assert r.status_code == 403, r.text
    assert store_rows(hub) == before
    # s4 sees none of s3's submissions, and cannot read one by its id
    sid = s3_attempts["wrong"]["id"]
    assert users["s4"].api("GET", f"{API}/{sid}").status_code == 404
    assert users["s4"].api("GET", f"{API}/{sid}/feedback").status_code == 404
    assert users["s4"].api("GET", API).json()["submissions"] == []


def _kill_when_grading(hub: Any, user: HubUser, sid: str, what: str, timeout: float = 300) -> int:
    """Wait until submission ``sid`` is being graded, then SIGKILL ``what`` ("service", or the
    Dask "worker" grading it); return the pid killed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (status_of(user, sid) or {}).get("status") == "grading":
            break
        time.sleep(0.2)
    else:
        raise TimeoutError(f"{sid} was never graded")
    pid = service_pid(hub)
    if what == "worker":  # the worker process whose autograde is this student's
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for proc in psutil.Process(pid).children(recursive=True):
                try:
                    cmd = proc.cmdline()
                except psutil.Error:
                    continue
                # (an autograde is forked, not started: its kernel's command line names the student's workspace)
                if any(user.account.username in part for part in cmd) and "bwrap" in " ".join(cmd):
                    worker = next(p for p in proc.parents() if "spawn_main" in " ".join(p.cmdline()))
                    os.kill(worker.pid, signal.SIGKILL)
                    return worker.pid
            time.sleep(0.2)
        raise TimeoutError(f"no autograde of {user.account.username} started")
    os.kill(pid, signal.SIGKILL)
    return pid


def test_a_killed_service_loses_nothing_and_grades_each_once(course_hub: Any, users: dict[str, HubUser]) -> None:
    hub = course_hub.hub
    taken = {}
    for key, softmax in (("s4", GOOD_SOFTMAX), ("s5", WRONG_SOFTMAX), ("s6", GOOD_SOFTMAX)):
        r = post(users[key], lab(softmax=softmax))
        assert r.status_code == 202, r.text
        taken[key] = r.json()["id"]
    killed = _kill_when_grading(hub, users["s4"], taken["s4"], "service")
    started = time.monotonic()
    deadline = started + 120
    while time.monotonic() < deadline:  # the hub starts it again
        try:
            if service_pid(hub) != killed:
                break
        except AssertionError:
            pass
        time.sleep(0.5)
    restarted = time.monotonic() - started
    results = {key: wait_result(users[key], sid) for key, sid in taken.items()}
    print(f"\n[submit] service killed (pid {killed}); restarted by the hub after {restarted:.1f} s")
    assert {k: (r["status"], r["score"]) for k, r in results.items()} == {
        "s4": ("graded", 20.0), "s5": ("graded", 10.0), "s6": ("graded", 20.0)}
    rows = {sid: (student, status, attempts) for sid, student, status, attempts, _ in store_rows(hub)}
    assert all(rows[sid][1] == "graded" for sid in taken.values())
    assert rows[taken["s4"]][2] == 2, rows  # graded when the service was killed: graded again, once
    assert sum(1 for student, *_ in rows.values() if student in {users[k].account.username for k in taken}) == 3


def test_a_submission_that_kills_its_worker_is_an_error_and_the_queue_goes_on(
        course_hub: Any, users: dict[str, HubUser]) -> None:
    hub = course_hub.hub
    poison = post(users["s5"], lab()).json()["id"]
    after = post(users["s6"], lab(softmax=WRONG_SOFTMAX)).json()["id"]
    _kill_when_grading(hub, users["s5"], poison, "worker")
    lost = wait_result(users["s5"], poison)
    assert lost["status"] == "error", lost
    assert "Not graded" in lost["message"] and "stopped the grader's worker" in lost["message"], lost
    assert lost["score"] is None and lost["counted"] is False
    listed = users["s5"].api("GET", API).json()["submissions"]
    assert [s["counted"] for s in listed] == [False, True]  # the earlier graded one still counts
    nxt = wait_result(users["s6"], after)
    assert (nxt["status"], nxt["score"]) == ("graded", 10.0), nxt


def test_after_the_deadline_nothing_is_taken(course_hub: Any, users: dict[str, HubUser]) -> None:
    """The deadline is the assignment's due date in the gradebook (the Formgrader sets it)."""
    instructor = course_hub.roster.accounts["instructor"]
    course = instructor.home / COURSE_ID
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S UTC")

    def set_due(value: str) -> None:
        proc = run_as(instructor.username, "nbgrader", "db", "assignment", "add", ASSIGNMENT,
                      f"--duedate={value}", cwd=course)
        assert proc.returncode == 0, proc.stderr

    s4 = users["s4"].account.username
    before = [row[0] for row in store_rows(course_hub.hub) if row[1] == s4]
    set_due(past)
    try:
        deadline = time.monotonic() + 30  # the service reads the due date every few seconds
        while users["s4"].api("GET", API).json()["deadline"] is None:
            assert time.monotonic() < deadline, "the service never saw the due date"
            time.sleep(1)
        r = post(users["s4"], lab())
        assert r.status_code == 403, r.text
        assert "The deadline was" in r.json()["error"], r.text
        assert [row[0] for row in store_rows(course_hub.hub) if row[1] == s4] == before
    finally:
        set_due("2099-01-01 00:00:00 UTC")
