"""The course on its real JupyterHub, in a real Chromium: the whole cycle, then a student's attempts
to get at what is not theirs.

One hub (tools/start_hub.sh, loopback, free ports), three real Unix accounts made by the roster
command (deploy/roster.py) and removed afterwards (tests/hub/conftest.py). The cycle:

1. the instructor logs in, generates and releases the lab in the Formgrader;
2. each student logs in, fetches it in the Assignment List, opens it, types the answers into the
   two graded cells (s1 right; s2 with a wrong softmax that also tries to read the gradebook),
   runs the public tests, clicks Validate and submits; s2 also puts a forged submission in
   s1's name into the exchange;
3. the instructor collects in the Formgrader; the Autograde button refuses; root grades with
   deploy/grade.py (python -m grading, sandboxed); the instructor generates and releases the
   feedback in the Formgrader;
4. each student fetches the feedback and sees 20/20 and 10/20 on the page;
5. nbgrader export gives both rows.

Screenshots: artifacts/hub/ (printed). Run alone with ``python -m pytest -m hub tests/hub -s``.
"""
from __future__ import annotations

import csv
import hashlib
import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from helpers.hub import ASSIGNMENT, COURSE_HOME, COURSE_ID, EXCHANGE, HubUser, run_as, run_deploy
from helpers.hub_page import HubPage

pytestmark = [pytest.mark.hub, pytest.mark.browser]

SOFTMAX_CELL, MODEL_CELL = 9, 23  # the two graded cells of the released notebook
AFTER_LAST_TEST = 27  # the first cell after test_model: "run all above" runs both public tests
TEST_CELLS = (11, 26)
RIGHT_SOFTMAX = "ez = np.exp(z - np.max(z)); a = ez / np.sum(ez)"
# wrong (divides by the sum of z) and, while at it, tries to read every gradebook it can find
WRONG_SOFTMAX = ('print("gradebook:", [open(p, "rb").read(15) for p in __import__("glob").glob('
                 '"/home/*/multiclass-digits/gradebook.db")]); a = np.exp(z) / np.sum(z)')
MODEL = ('tf.keras.Input(shape=(400,)), Dense(25, activation="relu", name="L1"), '
         'Dense(15, activation="relu", name="L2"), Dense(10, activation="linear", name="L3"),')
GRADEBOOK_BYTES = "SQLite format 3"


def course_folder(hub: Any) -> Path:
    return hub.roster.accounts["instructor"].home / COURSE_ID


def gradebook_submissions(course: Path) -> list[str]:
    """The students with a submission record in the course's gradebook (read as root)."""
    with closing(sqlite3.connect(f"file:{course / 'gradebook.db'}?mode=ro", uri=True)) as db:
        return sorted(row[0] for row in db.execute("SELECT student_id FROM submitted_assignment"))


@pytest.fixture(scope="module")
def cycle(course_hub: Any, chromium: Any, artifacts_dir: Path) -> dict[str, Any]:
    """Run the whole cycle once (the tests below check its parts); return what it saw."""
    hub, accounts = course_hub.hub, course_hub.roster.accounts
    seen: dict[str, Any] = {"shots": [], "times": {}}
    pages = {key: HubPage(chromium, hub, accounts[key], artifacts_dir) for key in ("instructor", "s1", "s2")}
    try:
        _run_cycle(course_hub, pages, seen)
    except Exception:
        print("\n[hub] the cycle stopped; it saw:", {k: v for k, v in seen.items() if k != "shots"})
        for key, page in pages.items():  # what each account's page showed when the cycle stopped
            try:
                page.shot(f"failed_{key}")
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
        raise
    finally:
        for page in pages.values():
            seen["shots"] += page.shots
            page.close()
        print("\n[hub] screenshots:", *map(str, seen["shots"]), sep="\n  ")
        print("[hub] times:", seen["times"])
    return seen


def _run_cycle(course_hub: Any, pages: dict[str, HubPage], seen: dict[str, Any]) -> None:
    hub, accounts = course_hub.hub, course_hub.roster.accounts
    times = seen["times"]
    instr, s1, s2 = pages["instructor"], pages["s1"], pages["s2"]

    # 1. the instructor generates and releases the lab in the Formgrader
    times["instructor login"] = instr.login()
    instr.menu("Nbgrader", "Formgrader")  # opens the Formgrader in the lab (and waits for the menu)
    instr.page.wait_for_timeout(3000)
    seen["instructor menus"] = instr.submenu_items("Nbgrader")
    instr.shot("01_instructor_lab")
    row = instr.formgrader_row()
    seen["generate"] = instr.formgrader_action(row, ".assign")
    instr.close_modal()
    row = instr.formgrader_row()
    seen["release"] = instr.formgrader_action(row, ".release")
    instr.shot("02_formgrader_released")
    instr.close_modal()

    # 2. each student: log in, fetch, type the answers, public tests, Validate, submit
    for key, page, softmax in (("s1", s1, RIGHT_SOFTMAX), ("s2", s2, WRONG_SOFTMAX)):
        started = time.monotonic()
        times[f"{key} login"] = page.login()
        page.fetch()
        times[f"{key} login to fetched"] = time.monotonic() - started
        seen[f"{key} menus"] = page.submenu_items("Nbgrader")  # the lab has all its extensions now
        page.shot(f"03_{key}_fetched", page.page.locator("#nbgrader-assignment-list"))
        page.open_fetched_notebook()
        page.type_answer(SOFTMAX_CELL, softmax)
        page.type_answer(MODEL_CELL, MODEL)
        page.shot(f"04_{key}_typed", page.cells().nth(MODEL_CELL))
        page.run_all_above(AFTER_LAST_TEST)
        if "All tests passed" not in page.output(TEST_CELLS[0]):  # JupyterLab stopped at the failed test
            page.run_cells(TEST_CELLS[0] + 1, AFTER_LAST_TEST - 1)
        seen[f"{key} public tests"] = [page.output(i) for i in TEST_CELLS]
        page.shot(f"05_{key}_public_test", page.cells().nth(TEST_CELLS[0]))
        page.save()
        page.click_validate()
    for key, page in (("s1", s1), ("s2", s2)):
        seen[f"{key} validate"] = page.validation_result()
        page.shot(f"06_{key}_validate")
        page.close_dialog()
        page.submit()
        page.shot(f"07_{key}_submitted", page.page.locator("#nbgrader-assignment-list"))
    submitted_at = time.monotonic()

    # s2 forges a later submission in s1's name (what nbgrader's collect must not take)
    s2_api = HubUser(hub, accounts["s2"])
    s2_api.login()
    forged = (f"{EXCHANGE}/{COURSE_ID}/inbound/{accounts['s1'].username}+{ASSIGNMENT}"
              "+2099-01-01 00:00:00.000000 UTC+forged")
    seen["forge"] = s2_api.run_in_terminal(
        f"mkdir '{forged}' && cp ~/{ASSIGNMENT}/{ASSIGNMENT}.ipynb '{forged}/' "
        f"&& echo '2099-01-01 00:00:00.000000 UTC' > '{forged}/timestamp.txt' "
        f"&& chmod -R a+rX '{forged}' && echo FORGED")  # readable: nbgrader's own collect would copy it

    # 3. collect; the Autograde button refuses; root grades in the sandbox; feedback out
    row = instr.formgrader_row()
    seen["collect"] = instr.formgrader_action(row, ".collect")
    instr.shot("08_collected")
    instr.close_modal()
    assert "Collecting submission" in seen["collect"], seen["collect"]
    # what the Autograde button of Manage Submissions posts, with the instructor's own token
    instr_api = HubUser(hub, accounts["instructor"])
    instr_api.login()
    refused = instr_api.api(
        "POST", f"user/{accounts['instructor'].username}/formgrader/api/submission/{ASSIGNMENT}/"
                f"{accounts['s2'].username}/autograde", timeout=300)
    seen["autograde button"] = f"{refused.status_code} {refused.text}"
    seen["submissions in the gradebook after the button"] = gradebook_submissions(course_folder(course_hub))
    instr.page.goto(instr.url(f"formgrader/manage_submissions/{ASSIGNMENT}"))
    instr.page.wait_for_timeout(3000)
    instr.shot("08_manage_submissions")
    started = time.monotonic()
    seen["grade"] = run_deploy("grade.py", ASSIGNMENT, "--skip-tail", "--workers", "2")
    times["grade (python -m grading)"] = time.monotonic() - started
    row = instr.formgrader_row()
    seen["generate feedback"] = instr.formgrader_action(row, ".generate-feedback")
    instr.close_modal()
    row = instr.formgrader_row()
    seen["release feedback"] = instr.formgrader_action(row, ".release-feedback")
    instr.shot("09_feedback_released")
    instr.close_modal()
    times["submit to released feedback"] = time.monotonic() - submitted_at

    # 4. the students fetch their feedback and open it
    for key, page in (("s1", s1), ("s2", s2)):
        page.fetch_feedback()
        page.shot(f"10_{key}_feedback_fetched", page.page.locator("#nbgrader-assignment-list"))
        feedback = sorted((accounts[key].home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert feedback, f"no feedback fetched into {accounts[key].home / ASSIGNMENT / 'feedback'}"
        rel = feedback[-1].relative_to(accounts[key].home)
        page.page.goto(page.url(f"files/{rel}"))
        seen[f"{key} feedback"] = page.page.inner_text("body")
        page.shot(f"11_{key}_feedback_page")

    # 5. grades out
    course = course_folder(course_hub)
    export = run_as(accounts["instructor"].username, "nbgrader", "export", cwd=course)
    assert export.returncode == 0, export.stdout + export.stderr
    with open(course / "grades.csv", newline="") as fh:
        seen["grades"] = {row["student_id"]: row for row in csv.DictReader(fh)}


# ---------------------------------------------------------------------------- the cycle


def test_roles_in_the_menus(cycle: dict[str, Any]) -> None:
    assert "Formgrader" in cycle["instructor menus"], cycle["instructor menus"]
    for key in ("s1", "s2"):
        assert "Assignment List" in cycle[f"{key} menus"], cycle[f"{key} menus"]
        assert "Formgrader" not in cycle[f"{key} menus"], cycle[f"{key} menus"]


def test_release_and_public_tests(cycle: dict[str, Any]) -> None:
    assert "Success" in cycle["generate"] and "Success" in cycle["release"], (cycle["generate"], cycle["release"])
    assert all("All tests passed" in out for out in cycle["s1 public tests"]), cycle["s1 public tests"]
    softmax_out, model_out = cycle["s2 public tests"]
    assert "All tests passed" not in softmax_out and "All tests passed" in model_out, cycle["s2 public tests"]
    assert "Success! Your notebook passes all the tests." in cycle["s1 validate"], cycle["s1 validate"]
    assert "Success!" not in cycle["s2 validate"], cycle["s2 validate"]


def test_autograde_button_is_off_and_the_sandbox_grades(cycle: dict[str, Any]) -> None:
    assert "Autograde is turned off on this hub" in cycle["autograde button"], cycle["autograde button"]
    # refused before nbgrader adds the student's (empty) submission to the gradebook
    assert cycle["submissions in the gradebook after the button"] == [], cycle
    assert "error" not in cycle["grade"].lower() or "0 error" in cycle["grade"].lower(), cycle["grade"]


def test_students_see_their_scores(cycle: dict[str, Any]) -> None:
    assert "Score: 20.0 / 20.0" in cycle["s1 feedback"], cycle["s1 feedback"][:2000]
    assert "Score: 10.0 / 20.0" in cycle["s2 feedback"], cycle["s2 feedback"][:2000]


def test_the_gradebook_read_failed_in_the_sandbox(cycle: dict[str, Any]) -> None:
    """s2's softmax printed what it read of every gradebook it found: nothing, when graded."""
    feedback = cycle["s2 feedback"]
    assert "gradebook: []" in feedback, feedback[:3000]
    assert GRADEBOOK_BYTES not in feedback


def test_export_has_both_rows(course_hub: Any, cycle: dict[str, Any]) -> None:
    accounts = course_hub.roster.accounts
    grades = cycle["grades"]
    assert float(grades[accounts["s1"].username]["score"]) == 20.0, grades
    assert float(grades[accounts["s2"].username]["score"]) == 10.0, grades
    assert all(float(grades[a.username]["max_score"]) == 20.0 for a in (accounts["s1"], accounts["s2"]))
    # the roster's names, put into the gradebook by the roster command (the Formgrader lists them)
    names = {k: (grades[accounts[k].username]["first_name"], grades[accounts[k].username]["last_name"])
             for k in ("s1", "s2")}
    assert names == {"s1": ("Stu", "One"), "s2": ("Stu", "Two")}, names


def test_a_forged_submission_is_not_collected(course_hub: Any, cycle: dict[str, Any]) -> None:
    """s2 could write a later 'submission' in s1's name into the inbound folder; the hub's collect
    (OwnerCheckedCollect: nbgrader's own check_owner only warns) left it out: what was graded for
    s1 is s1's own notebook, 20/20."""
    assert "FORGED" in cycle["forge"], cycle["forge"]
    s1 = course_hub.roster.accounts["s1"].username
    collected = (course_folder(course_hub) / "submitted" / s1 / ASSIGNMENT / "timestamp.txt").read_text()
    assert not collected.startswith("2099"), collected


# ---------------------------------------------------------------------------- a student's attempts

DENIED = "DENIED"


def _probe_code(paths: dict[str, str]) -> str:
    """Python that tries to list (folders) or read (files) each path and prints NAME=DENIED or
    NAME=GOT:<bytes>."""
    return (
        "import os\n"
        f"for name, path in {paths!r}.items():\n"
        "    try:\n"
        "        got = os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(15)\n"
        "        print(f'{name}=GOT:{got!r}')\n"
        "    except OSError as exc:\n"
        f"        print(f'{{name}}={DENIED}:{{type(exc).__name__}}')\n"
    )


def _private_paths(course_hub: Any) -> dict[str, str]:
    accounts = course_hub.roster.accounts
    course = course_folder(course_hub)
    return {
        "inbound": f"{EXCHANGE}/{COURSE_ID}/inbound",
        "feedback": f"{EXCHANGE}/{COURSE_ID}/feedback",
        "course folder": str(course),
        "source": str(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        "gradebook": str(course / "gradebook.db"),
        "instructor home": str(accounts["instructor"].home),
        "other student home": str(accounts["s1"].home),
        "other student notebook": str(accounts["s1"].home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        "hub state": str(course_hub.hub.state),
        "cookie secret": str(course_hub.hub.state / "jupyterhub_cookie_secret"),
        "hub database": str(course_hub.hub.state / "jupyterhub.sqlite"),
        "proxy token": str(course_hub.hub.state / "proxy_token"),
    }


def _verdicts(text: str, names: list[str]) -> dict[str, str]:
    found = {}
    for line in text.replace("\r", "").splitlines():
        name, sep, rest = line.partition("=")
        if sep and name in names:
            found[name] = rest
    return found


@pytest.fixture(scope="module")
def student(course_hub: Any, cycle: dict[str, Any]) -> HubUser:
    """s2, logged in with their own token, their server running (after the cycle: the exchange
    holds both submissions and both feedbacks)."""
    user = HubUser(course_hub.hub, course_hub.roster.accounts["s2"])
    user.login()
    user.ensure_server()
    return user


def test_a_students_kernel_reads_nothing_private(course_hub: Any, student: HubUser) -> None:
    paths = _private_paths(course_hub)
    out = student.run_in_kernel(_probe_code(paths))
    verdicts = _verdicts(out, list(paths))
    print("\n[hub] kernel:", verdicts)
    assert set(verdicts) == set(paths), out
    assert all(v.startswith(DENIED) for v in verdicts.values()), verdicts


def test_a_students_terminal_reads_nothing_private(course_hub: Any, student: HubUser) -> None:
    paths = _private_paths(course_hub)
    folders = ("inbound", "feedback", "course folder", "instructor home", "other student home", "hub state")
    script = "echo ; " + " ; ".join(
        f"if {'ls' if name in folders else 'head -c 15'} "
        f"'{path}' >/dev/null 2>&1; then echo '{name}=GOT'; else echo '{name}={DENIED}'; fi"
        for name, path in paths.items())
    out = student.run_in_terminal(script)
    verdicts = _verdicts(out, list(paths))
    print("\n[hub] terminal:", verdicts)
    assert set(verdicts) == set(paths), out
    assert all(v.startswith(DENIED) for v in verdicts.values()), verdicts


def test_a_students_token_opens_no_formgrader_and_no_other_server(course_hub: Any, student: HubUser) -> None:
    instructor = course_hub.roster.accounts["instructor"].username
    me = student.account.username
    other = course_hub.roster.accounts["s1"].username
    calls = {
        "instructor's formgrader API": ("GET", f"user/{instructor}/formgrader/api/assignments"),
        "instructor's formgrader page": ("GET", f"user/{instructor}/formgrader"),
        "instructor's contents": ("GET", f"user/{instructor}/api/contents/{COURSE_ID}"),
        "own formgrader API": ("GET", f"user/{me}/formgrader/api/assignments"),
        "own formgrader collect": ("POST", f"user/{me}/formgrader/api/assignment/{ASSIGNMENT}/collect"),
        "other student's contents": ("GET", f"user/{other}/api/contents/{ASSIGNMENT}"),
        "hub's user list": ("GET", "hub/api/users"),
        "other student's hub model": ("GET", f"hub/api/users/{other}"),
    }
    statuses = {name: student.api(method, path).status_code for name, (method, path) in calls.items()}
    print("\n[hub] HTTP API:", statuses)
    assert student.api("GET", f"user/{me}/api/contents").status_code == 200  # the token works
    assert all(code in (403, 404) for code in statuses.values()), statuses


def test_a_students_terminal_is_the_course_bash(student: HubUser) -> None:
    """A hub terminal is an interactive bash (not a login shell: Debian's /etc/profile would put
    PATH back to the system's) with the course environment's bin first on PATH."""
    out = student.run_in_terminal('echo ; echo "SHELL_IS=$0 FLAGS=$-"; shopt -q login_shell && echo LOGIN=yes; '
                                  'echo "NBGRADER_AT=$(command -v nbgrader)"').replace("\r", "")
    verdicts = _verdicts(out, ["SHELL_IS", "NBGRADER_AT", "LOGIN"])
    print("\n[hub] terminal shell:", verdicts)
    shell, _, flags = verdicts.get("SHELL_IS", "").partition(" FLAGS=")
    assert shell == "/bin/bash" and "i" in flags and "LOGIN" not in verdicts, out
    assert verdicts.get("NBGRADER_AT") == str(COURSE_HOME / "env" / "bin" / "nbgrader"), out


def _feedback_hashes(home: Path) -> set[str]:
    return {hashlib.sha256(page.read_bytes()).hexdigest()
            for page in (home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")}


def test_nobody_fetches_somebody_elses_feedback(course_hub: Any, student: HubUser) -> None:
    """s2 asks nbgrader for s1's feedback (``--student s1``): what arrives is s2's own page, never
    s1's (nbgrader finds feedback by the secret in the submitter's own cached copy, whatever
    student is named). nbgrader must have run (the course's, from the terminal's PATH) for this
    to mean anything."""
    accounts = course_hub.roster.accounts
    out = student.run_in_terminal(
        f"echo ; cd ~ && mkdir -p other && cd other && "
        f"nbgrader fetch_feedback {ASSIGNMENT} --student {accounts['s1'].username} 2>&1 | tail -3; "
        "echo RAN=${PIPESTATUS[0]}; find ~/other -name '*.html' -exec sha256sum {} + | sed 's/^/GOT=/'"
    ).replace("\r", "")
    print("\n[hub] fetch_feedback as s1:", out[-600:])
    assert "command not found" not in out and "RAN=0" in out and "FetchFeedbackApp" in out, out
    got = set(re.findall(r"^GOT=([0-9a-f]{64}) ", out, flags=re.MULTILINE))
    theirs, own = _feedback_hashes(accounts["s1"].home), _feedback_hashes(accounts["s2"].home)
    assert theirs and own and not theirs & own, (theirs, own)
    assert not got & theirs, out
    assert got <= own, out
