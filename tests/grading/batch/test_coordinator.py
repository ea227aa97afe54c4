"""grading.batch.coordinator: many students at once (a toy assignment, no TensorFlow), wall-clock
limits, bad inputs, an interrupted batch rerun, the graded lab in the session batch and against
PostgreSQL. Every batch is sandboxed (the default) unless it says otherwise."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
from helpers.courses import (
    TOY_ADD,
    TOY_MUL,
    gradebook_scores,
    kill_group,
    lab_base,
    lab_course,
    live_kernels,
    make_course,
    submit,
    toy_source,
    toy_submission,
)
from helpers.faults import (
    CASES,
    WRONG_MODEL,
    WRONG_SOFTMAX,
    Case,
    answer,
    student_notebook,
)
from helpers.foreign import CASES as CORPUS
from helpers.foreign import student_of
from helpers.notebooks import read_cell
from helpers.repo import LAB, ROOT
from helpers.submissions import (
    EXPECTED_SCORES,
    LEAK_ATTEMPTS,
    SUBMISSIONS,
)

from grading.batch.coordinator import Options, autograde_all
from grading.batch.gradebook import sqlite_url
from grading.batch.results import SubmissionResult, write_summary
from grading.errors import GradingError

WRONG_ADD = "def my_add(a, b):\n    return a - b\n"


WRONG_MUL = "def my_mul(a, b):\n    return a + b + 1\n"


# deaf to interrupts, and asleep: a hang that costs the machine no CPU (the "loop" case spins)
HANG_MUL = ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "def my_mul(a, b):\n    while True:\n        time.sleep(0.5)\n")


TOY_STUDENTS = {  # student: (my_add source, my_mul source, expected test_my_add, test_my_mul)
    **{f"s{i:02d}": (TOY_ADD if i % 2 == 0 else WRONG_ADD, TOY_MUL if i % 3 else WRONG_MUL,
                     2.0 if i % 2 == 0 else 0.0, 3.0 if i % 3 else 0.0) for i in range(10)},
    "exit": ("import os\nos._exit(3)\n" + TOY_ADD, TOY_MUL, 0.0, 3.0),
    "hang": (TOY_ADD, HANG_MUL + "my_mul(1, 1)\n", 2.0, 0.0),
    "loop": ("def my_add(a, b):\n    while True:\n        pass\n", TOY_MUL, 0.0, 3.0),
    # the guard's recorder replaced: the tests still judged, what the cell did named in a note
    "guard_off": (TOY_ADD + "import sys\nsys.modules['_course_guard'].after_solution = lambda nonce: ''\n",
                  TOY_MUL, 2.0, 3.0),
}


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(GradingError, match="no submissions"):
        autograde_all("toy", course_dir=tmp_path, progress=None)
    with pytest.raises(GradingError, match="--timeout must be a positive number of seconds"):
        autograde_all("toy", course_dir=tmp_path, progress=None, timeout=0)
    with pytest.raises(TypeError):
        Options("course")  # keyword-only


@pytest.fixture(scope="module")
def toy_batch(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("toycourse"), "toy", toy_source())
    for student, (add, mul, _, _) in TOY_STUDENTS.items():
        submit(course, "toy", student, toy_submission(add, mul))
    (course / "submitted" / "s00" / "toy" / "numpy.py").write_text("raise SystemExit\n")
    lines: list[str] = []
    results = autograde_all("toy", Options(course_dir=course, workers=3, timeout=300, cell_timeout=8,
                                           restore_course_files=False), progress=lines.append)
    return course, {r.student: r for r in results}, lines


@pytest.mark.slow
@pytest.mark.sandbox
def test_toy_batch_every_score_in_results_and_gradebook(toy_batch):
    course, results, _ = toy_batch
    stored = gradebook_scores(sqlite_url(course / "gradebook.db"), "default_course", "toy")
    assert sorted(stored) == sorted(TOY_STUDENTS)
    for student, (_, _, add_pts, mul_pts) in TOY_STUDENTS.items():
        assert stored[student] == {"test_my_add": add_pts, "test_my_mul": mul_pts}, student
        res = results[student]
        assert res.score == add_pts + mul_pts and res.max_score == 5.0, student
        assert res.status == "ok", (student, res.notes)
        assert (course / "autograded" / student / "toy" / "toy.ipynb").is_file()
        assert not any("GUARD" in n for n in res.notes), (student, res.notes)
        assert "isolation: sandboxed (memory 4G, pids 512, cores 1, file size 1G)" in res.notes
        notes_file = course / "autograded" / student / "toy.notes.txt"
        assert notes_file.read_text().splitlines() == res.notes


@pytest.mark.slow
@pytest.mark.sandbox
def test_toy_batch_faults_are_contained(toy_batch):
    course, results, lines = toy_batch
    assert "kernel died in my_add" in results["exit"].notes
    assert "kernel hung in my_mul" in results["hang"].notes
    assert "timed out and interrupted in test_my_add" in results["loop"].notes
    guard_notes = [n for n in results["guard_off"].notes if "did not answer" in n]
    assert guard_notes == ["my_add: the grading guard did not answer (replaced by the notebook?)",
                           "my_mul: the grading guard did not answer (replaced by the notebook?)"]
    assert "files not graded: numpy.py" in results["s00"].notes  # a planted module is not copied
    graded = nbformat.read(course / "autograded" / "exit" / "toy" / "toy.ipynb", as_version=4)
    assert graded.cells[1].outputs[0]["ename"] == "DeadKernelError"
    assert live_kernels() == []


@pytest.mark.slow
@pytest.mark.sandbox
def test_toy_batch_progress_and_summary(toy_batch):
    course, _, lines = toy_batch
    n = len(TOY_STUDENTS)
    assert lines[0] == (f"autograding {n} submission(s) of toy with 3 worker(s) on an embedded "
                        "local cluster, "
                        "isolation sandboxed (memory 4G, pids 512, cores 1, file size 1G)")
    assert [l.split("]")[0] for l in lines[1:n + 1]] == [f"[{i}/{n}" for i in range(1, n + 1)]
    assert lines[n].endswith("failures=0")
    with open(course / "autograded" / "toy_summary.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert [rows[s]["score"] for s in ("s00", "s01", "s02", "s03")] == ["2", "3", "5", "0"]
    assert (course / "autograded" / "toy_summary.md").read_text().startswith("| student | score |")


@pytest.mark.slow
def test_wall_clock_limit_kills_the_whole_tree_and_isolation_none_is_recorded(toy_course):
    course = toy_course
    submit(course, "toy", "stuck", toy_submission(mul=HANG_MUL + "my_mul(1, 1)\n"))
    submit(course, "toy", "fine", toy_submission())
    # 20 s: the stuck one is killed at the limit (the test waits for it); "fine", one toy
    # autograde at the same time (nbgrader, a kernel, two cells), takes a few seconds
    results = {r.student: r for r in autograde_all(
        "toy", course_dir=course, workers=2, timeout=20, cell_timeout=3600, progress=None,
        restore_course_files=False, isolation="none")}
    assert results["stuck"].status == "timeout" and results["stuck"].score == 0
    assert results["fine"].status == "ok" and results["fine"].score == 5
    assert "isolation: none (kernel ran as the grader, unsandboxed)" in results["fine"].notes
    from nbgrader.api import Gradebook

    with Gradebook(sqlite_url(course / "gradebook.db")) as gb:
        grades = {g.name: g for nb in gb.find_submission("toy", "stuck").notebooks for g in nb.grades}
        assert grades["test_my_mul"].auto_score == 0 and grades["test_my_mul"].needs_manual_grade
    assert live_kernels() == []


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


@pytest.mark.slow
@pytest.mark.sandbox
def test_interrupted_batch_rerun_grades_only_the_missing(tmp_path):
    course = make_course(tmp_path, "toy", toy_source())
    plan = {f"s{i}": (TOY_ADD if i % 2 == 0 else WRONG_ADD) for i in range(4)}
    for student, add in plan.items():
        submit(course, "toy", student, toy_submission(add=add))
    expected = {s: 5.0 if add == TOY_ADD else 3.0 for s, add in plan.items()}
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "grading", "toy", "--course-dir", str(course), "--workers", "1",
         "--timeout", "300", "--cell-timeout", "60", "--no-restore"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True)
    started: list[int] = []
    try:
        deadline = time.monotonic() + 600
        for line in proc.stdout:  # kill the whole batch after its first result
            started = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
            if line.startswith("[1/4]") or time.monotonic() > deadline:
                break
    finally:
        kill_group(proc)
    assert started, "the batch never reported a result"
    gone = psutil.wait_procs([p for p in map(_process, started) if p], timeout=30)[1]
    assert gone == [], f"processes of the killed batch left: {gone}"
    before = gradebook_scores(sqlite_url(course / "gradebook.db"), "default_course", "toy")
    assert 1 <= len(before) < 4
    lines: list[str] = []
    stats: dict[str, float] = {}
    results = {r.student: r for r in autograde_all(
        "toy", course_dir=course, workers=2, timeout=300, cell_timeout=60, progress=lines.append,
        restore_course_files=False, stats=stats)}
    # the benchmark's figures: the grading window holds every task, the shutdown is apart
    assert set(stats) == {"prepare", "grading", "shutdown", "busy_cpu"}
    assert stats["grading"] >= max(r.seconds for r in results.values() if r.status == "ok")
    assert stats["prepare"] > 0 and stats["shutdown"] > 0 and stats["busy_cpu"] > 0
    missing = sorted(set(plan) - set(before))
    assert sorted(s for s, r in results.items() if r.status == "ok") == missing
    assert sorted(s for s, r in results.items() if r.status == "already graded") == sorted(before)
    assert {s: r.score for s, r in results.items()} == expected
    assert lines[0].startswith(f"skipping {len(before)} student(s)")
    assert sum(l.startswith("[") for l in lines) == len(missing)
    stored = gradebook_scores(sqlite_url(course / "gradebook.db"), "default_course", "toy")
    assert {s: sum(g.values()) for s, g in stored.items()} == expected


def test_notes_quoting_student_text_cannot_forge_rows_or_stop_the_batch(tmp_path):
    # a cell id with a line break and a table row; a cell id that is a lone surrogate
    from grading.batch.coordinator import record_outcome as _record
    from grading.batch.results import STATUS_MISSING, clean_note
    from grading.batch.tasks import Outcome

    forged = "duplicate cells ignored: x\n| bob | 100 | 100 | ok | 1.0 | | |"
    outcome = Outcome(SubmissionResult("eve", STATUS_MISSING, notes=[forged, "files not graded: \ud800"]),
                      None)
    res = _record(tmp_path, "sqlite:///unused.db", None, outcome)
    assert res.notes == [clean_note(forged), "files not graded: \\ud800"]
    assert "\n" not in res.notes[0] and "| bob | 100 |" in res.notes[0]
    md = write_summary([res], tmp_path / "s.csv", tmp_path / "s.md")  # raised UnicodeEncodeError
    assert len(md.splitlines()) == 3  # header, rule, eve's row: no row for bob
    assert md.splitlines()[2].startswith("| eve |")
    assert clean_note("plain note") == "plain note"


COURSE_ID = "multiclass-digits"


def stored_scores(batch) -> dict:
    return gradebook_scores(sqlite_url(batch.course / "gradebook.db"), COURSE_ID, LAB)


@pytest.mark.slow
@pytest.mark.sandbox
def test_ordinary_submissions_in_the_batch_are_graded_correctly(lab_batch):
    stored = stored_scores(lab_batch)
    for kind, expected in EXPECTED_SCORES.items():
        res = lab_batch.results[f"lab_{kind}"]
        assert stored[f"lab_{kind}"] == expected, (kind, res.notes)
        assert res.status == "ok"


@pytest.mark.slow
@pytest.mark.sandbox
def test_batch_gradebook_consistent_and_course_files_untouched(lab_batch):
    assert lab_batch.data_after == lab_batch.data_before
    stored = stored_scores(lab_batch)
    everyone = [c.name for c in CASES] + [f"lab_{k}" for k in SUBMISSIONS] + \
        [student_of(c) for c in CORPUS.values()]
    assert sorted(stored) == sorted(everyone) == sorted(lab_batch.results)
    assert all(set(g) == {"test_my_softmax", "test_model"} for g in stored.values())
    # the guard is silent for honest work: it only undoes what an answer cell changed
    for honest in ("good", "wrong_softmax", "deleted_test_good", "stderr_flood",
                   *(f"lab_{k}" for k in SUBMISSIONS if k not in LEAK_ATTEMPTS),
                   *(student_of(c) for c in CORPUS.values())):
        assert not any("GUARD-UNDONE" in n for n in lab_batch.results[honest].notes), \
            lab_batch.results[honest].notes
    # the leak attempt's spying hook is undone before every test cell and hidden block
    assert any("GUARD-UNDONE: IPython event pre_run_cell" in n for n in lab_batch.results["lab_leak_hooks"].notes)
    flood = read_cell(lab_batch.course / "autograded" / "stderr_flood" / LAB / f"{LAB}.ipynb", "my_model")
    assert sum(o.get("text", "").count("\n") for o in flood.outputs) <= 200 + 2  # LimitOutput


# --------------------------------------------------------------------------------------
# the graded lab against PostgreSQL (sandboxed kernels cannot reach it; the grader can)
# --------------------------------------------------------------------------------------
def postgres_url() -> str:
    url = os.environ.get("COURSE_TEST_PG_URL")
    if url:
        return url
    proc = subprocess.run(["bash", str(ROOT / "tools" / "start_postgres.sh")], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def pg_batch(tmp_path_factory):
    from sqlalchemy import create_engine, text

    base_url = postgres_url()
    name = f"gb_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base_url.rsplit("/", 1)[0] + "/" + name
    course = lab_course(tmp_path_factory.mktemp("pgcourse"), mechanics=True)
    base = lab_base(mechanics=True)
    plan = {"good": ([], 20.0), "wrong_softmax": ([answer("my_softmax", WRONG_SOFTMAX)], 10.0),
            "wrong_model": ([answer("my_model", WRONG_MODEL)], 10.0)}
    for student, (edits, _) in plan.items():
        submit(course, LAB, student, student_notebook(base, Case(student, "", edits, {})))
    try:
        results = autograde_all(LAB, course_dir=course, db_url=url, workers=2, timeout=1200,
                                progress=print, restore_course_files=False, skip_tail=True)
        yield course, url, {r.student: r for r in results}, plan
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.sandbox
def test_postgres_batch_scores(pg_batch):
    course, url, results, plan = pg_batch
    stored = gradebook_scores(url, "multiclass-digits", LAB)
    assert {s: sum(g.values()) for s, g in stored.items()} == {s: p for s, (_, p) in plan.items()}
    assert stored["wrong_softmax"] == {"test_my_softmax": 0.0, "test_model": 10.0}
    assert stored["wrong_model"] == {"test_my_softmax": 10.0, "test_model": 0.0}
    assert all(r.status == "ok" for r in results.values())
    assert not (course / "gradebook.db").exists()  # nothing went to SQLite
