"""Parallel, fault-isolated autograding (grading.parallel).

Fast unit tests need no kernel. The ``slow`` ones autograde real batches, each graded ONCE
in a module-scoped fixture and checked from every angle afterwards:
- a toy assignment (no TensorFlow) with many students at once, to prove that concurrent
  grading neither loses nor mixes up grades, plus a hung kernel that ignores interrupts;
- the graded lab with every fault and cheat of tests/faults/cases.py in one batch with good
  submissions (SQLite);
- a small batch of the graded lab against the PostgreSQL server of tools/start_postgres.sh.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from faults.cases import (
    CASES,
    GOOD_MODEL,
    GOOD_SOFTMAX,
    WRONG_MODEL,
    WRONG_SOFTMAX,
    Case,
    answer,
    strip_hidden_tests,
    student_notebook,
)
from submissions import EXPECTED_SCORES, SUBMISSIONS, filled_release
from grading import parallel
from grading.parallel import (
    PackageSnapshot,
    SubmissionResult,
    autograde_all,
    rebuild_notebook,
    review_flags,
    write_summary,
)

ROOT = Path(__file__).resolve().parents[1]
LAB = "multiclass_digits"
LAB_SOURCE = ROOT / "source" / LAB / f"{LAB}.ipynb"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _cell(src: str, gid: str | None = None, kind: str | None = None, points: float = 0):
    cell = nbformat.v4.new_code_cell(src)
    if gid:
        meta = {"grade_id": gid, "locked": kind != "solution", "schema_version": 3,
                "solution": kind == "solution", "grade": kind == "test", "task": False}
        if kind == "test":
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
    return cell


TOY_ADD = "def my_add(a, b):\n    return a + b\n"
TOY_MUL = "def my_mul(a, b):\n    return a * b\n"


def toy_source() -> nbformat.NotebookNode:
    """A two-exercise nbgrader notebook that runs in a second: my_add (2 points), my_mul (3)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("import numpy as np", "setup", "readonly"),
        _cell("def my_add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
              "my_add", "solution"),
        _cell("assert my_add(1, 2) == 3\n### BEGIN HIDDEN TESTS\n"
              "assert np.allclose(my_add(np.ones(3), np.ones(3)), 2)\n### END HIDDEN TESTS",
              "test_my_add", "test", 2),
        _cell("def my_mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION",
              "my_mul", "solution"),
        _cell("assert my_mul(2, 3) == 6\n### BEGIN HIDDEN TESTS\nassert my_mul(-1, 4) == -4\n"
              "### END HIDDEN TESTS", "test_my_mul", "test", 3),
    ]
    return nb


def toy_submission(add: str = TOY_ADD, mul: str = TOY_MUL) -> nbformat.NotebookNode:
    nb = toy_source()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "my_add":
            cell.source = add
        elif gid == "my_mul":
            cell.source = mul
    return nb


def make_course(root: Path, assignment: str, source_nb: nbformat.NotebookNode,
                config: str = "c = get_config()\n") -> Path:
    (root / "source" / assignment).mkdir(parents=True)
    nbformat.write(source_nb, root / "source" / assignment / f"{assignment}.ipynb")
    (root / "nbgrader_config.py").write_text(config, encoding="utf-8")
    return root


def submit(course: Path, assignment: str, student: str, nb: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


def gradebook_scores(db_url: str, course_id: str, assignment: str) -> dict[str, dict[str, float]]:
    """{student: {grade_id: score}} read back with nbgrader's own API."""
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float]] = {}
    with Gradebook(db_url, course_id) as gb:
        for sub in gb.assignment_submissions(assignment):
            out[sub.student.id] = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def descendants() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


def live_kernels() -> list[str]:
    """Command lines of ipykernel processes still running below this test process."""
    found = []
    for proc in descendants():
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:  # exited (or became a zombie) while we looked
            continue
        if "ipykernel" in cmdline:
            found.append(cmdline)
    return found


# --------------------------------------------------------------------------------------
# fast unit tests
# --------------------------------------------------------------------------------------
def _release_like(nb):
    rel = strip_hidden_tests(nb)
    for cell in rel.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "raise NotImplementedError()"
    return rel


def test_rebuild_takes_only_answer_sources_from_the_student():
    release = _release_like(toy_source())
    sub = toy_submission(add="def my_add(a, b):\n    return 42\n")
    sub.cells[2].source = "pass"  # edited locked test cell
    del sub.cells[4]  # deleted test cell
    sub.cells.insert(1, nbformat.v4.new_code_cell("def test_helper():\n    pass"))  # extra cell
    rebuilt, notes = rebuild_notebook(release, sub)
    sources = [c.source for c in rebuilt.cells]
    assert sources[1] == "def my_add(a, b):\n    return 42\n"
    assert sources[2] == release.cells[2].source and sources[4] == release.cells[4].source
    assert sources[3] == TOY_MUL
    assert len(rebuilt.cells) == len(release.cells)
    assert "edited read-only cells restored: test_my_add" in notes
    assert "deleted cells restored: test_my_mul" in notes
    assert "1 extra cell(s) not graded" in notes
    assert release.cells[1].source == "raise NotImplementedError()"  # release left untouched


def test_rebuild_missing_answer_keeps_the_stub_and_says_so():
    release = _release_like(toy_source())
    sub = toy_submission()
    sub.cells[1].metadata.pop("nbgrader")
    sub.cells[1]["id"] = "someotherid"
    rebuilt, notes = rebuild_notebook(release, sub)
    assert rebuilt.cells[1].source == "raise NotImplementedError()"
    assert "answer cell my_add missing" in notes


def test_review_flags_spot_monkeypatching_and_escapes():
    assert review_flags(GOOD_SOFTMAX) == []
    assert review_flags(GOOD_MODEL) == []
    flags = review_flags("import numpy\nnumpy.allclose = lambda *a: True\n")
    assert "assigns numpy.allclose" in flags
    assert "defines test_my_softmax" in review_flags("def test_my_softmax(f):\n    pass\n")
    assert "os._exit" in review_flags("import os\nos._exit(1)\n")
    assert "get_ipython" in review_flags("get_ipython().set_custom_exc((Exception,), None)\n")
    assert review_flags("def f(:\n") == ["syntax error"]
    # a method assigning its own attributes is not monkeypatching
    assert review_flags("class A:\n    def f(self):\n        self.x = 1\n") == []


def test_package_snapshot_restores_and_reports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    (pkg / "data" / "d.npy").write_bytes(b"\x00\x01")
    snap = PackageSnapshot(
        {"pkg": pkg}, {"pkg": {"__init__.py": b"X = 1\n", "data/d.npy": b"\x00\x01"}})
    assert snap.restore_changes() == []
    (pkg / "data" / "d.npy").write_bytes(b"junk")
    (pkg / "evil.py").write_text("import os\n")
    assert snap.restore_changes(write=False) == ["pkg/data/d.npy", "pkg/evil.py (added)"]
    assert (pkg / "data" / "d.npy").read_bytes() == b"junk"  # report only
    assert snap.restore_changes() == ["pkg/data/d.npy", "pkg/evil.py (added)"]
    assert (pkg / "data" / "d.npy").read_bytes() == b"\x00\x01"
    assert not (pkg / "evil.py").exists()
    copy_dir = tmp_path / "copy"
    snap.write_copy(copy_dir)
    assert (copy_dir / "pkg" / "data" / "d.npy").read_bytes() == b"\x00\x01"


def test_write_summary_csv_and_markdown(tmp_path):
    results = [SubmissionResult("bob", "timeout", 0, 20, 901.0, ["killed after 900 s"]),
               SubmissionResult("alice", "ok", 17.5, 20, 42.25, ["a|b"])]
    md = write_summary(results, tmp_path / "s.csv", tmp_path / "s.md")
    with open(tmp_path / "s.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["student"] for r in rows] == ["alice", "bob"]
    assert rows[0]["score"] == "17.5" and rows[0]["max"] == "20" and rows[1]["status"] == "timeout"
    assert md.splitlines()[2] == "| alice | 17.5 | 20 | ok | 42.2 | a\\|b |"
    assert (tmp_path / "s.md").read_text() == md


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(parallel.GradingError, match="unsupported gradebook URL"):
        parallel.check_db_url("mysql://x")
    with pytest.raises(parallel.GradingError, match="cannot connect"):
        parallel.check_db_url("postgresql+psycopg2://nobody:pw@127.0.0.1:1/none")
    with pytest.raises(parallel.GradingError, match="no submissions"):
        autograde_all("toy", course_dir=tmp_path, progress=None)
    proc = subprocess.run([sys.executable, "-m", "grading.parallel", "nope", "--course-dir",
                           str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "error: no submissions" in proc.stderr


# --------------------------------------------------------------------------------------
# toy batch: many students at once + a kernel that ignores interrupts
# --------------------------------------------------------------------------------------
WRONG_ADD = "def my_add(a, b):\n    return a - b\n"
WRONG_MUL = "def my_mul(a, b):\n    return a + b + 1\n"
HANG_MUL = ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "def my_mul(a, b):\n    while True:\n        pass\n")
TOY_STUDENTS = {  # student: (my_add source, my_mul source, expected test_my_add, test_my_mul)
    **{f"s{i:02d}": (TOY_ADD if i % 2 == 0 else WRONG_ADD, TOY_MUL if i % 3 else WRONG_MUL,
                     2.0 if i % 2 == 0 else 0.0, 3.0 if i % 3 else 0.0) for i in range(10)},
    "exit": ("import os\nos._exit(3)\n" + TOY_ADD, TOY_MUL, 0.0, 3.0),
    "hang": (TOY_ADD, HANG_MUL + "my_mul(1, 1)\n", 2.0, 0.0),
    "loop": ("def my_add(a, b):\n    while True:\n        pass\n", TOY_MUL, 0.0, 3.0),
}


@pytest.fixture(scope="module")
def toy_batch(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("toycourse"), "toy", toy_source())
    for student, (add, mul, _, _) in TOY_STUDENTS.items():
        submit(course, "toy", student, toy_submission(add, mul))
    (course / "submitted" / "s00" / "toy" / "numpy.py").write_text("raise SystemExit\n")
    lines: list[str] = []
    results = autograde_all("toy", course_dir=course, workers=4, timeout=300, cell_timeout=15,
                            progress=lines.append, restore_course_files=False)
    return course, {r.student: r for r in results}, lines


@pytest.mark.slow
def test_toy_batch_every_score_in_results_and_gradebook(toy_batch):
    course, results, _ = toy_batch
    db = parallel.sqlite_url(course / "gradebook.db")
    stored = gradebook_scores(db, "default_course", "toy")
    assert sorted(stored) == sorted(TOY_STUDENTS)
    for student, (_, _, add_pts, mul_pts) in TOY_STUDENTS.items():
        assert stored[student] == {"test_my_add": add_pts, "test_my_mul": mul_pts}, student
        res = results[student]
        assert res.score == add_pts + mul_pts and res.max_score == 5.0, student
        assert res.status == "ok", (student, res.notes)
        assert (course / "autograded" / student / "toy" / "toy.ipynb").is_file()
        assert not any("GUARD" in n for n in res.notes), (student, res.notes)
        assert res.status == "ok" and not any("timed out" in n for n in res.notes if student != "loop")


@pytest.mark.slow
def test_toy_batch_faults_are_contained(toy_batch):
    course, results, lines = toy_batch
    assert "kernel died in my_add" in results["exit"].notes
    assert "kernel hung in my_mul" in results["hang"].notes
    assert "timed out and interrupted in test_my_add" in results["loop"].notes
    assert "files not graded: numpy.py" in results["s00"].notes  # a planted module is not copied
    graded = nbformat.read(course / "autograded" / "exit" / "toy" / "toy.ipynb", as_version=4)
    assert graded.cells[1].outputs[0]["ename"] == "DeadKernelError"
    assert live_kernels() == []


@pytest.mark.slow
def test_toy_batch_progress_and_summary(toy_batch):
    course, _, lines = toy_batch
    n = len(TOY_STUDENTS)
    assert lines[0].startswith(f"autograding {n} submission(s) of toy with 4 worker(s)")
    assert [l.split("]")[0] for l in lines[1:n + 1]] == [f"[{i}/{n}" for i in range(1, n + 1)]
    assert lines[n].endswith("failures=0")
    with open(course / "autograded" / "toy_summary.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert [rows[s]["score"] for s in ("s00", "s01", "s02", "s03")] == ["2", "3", "5", "0"]
    assert (course / "autograded" / "toy_summary.md").read_text().startswith("| student | score |")


@pytest.mark.slow
def test_wall_clock_limit_kills_the_whole_tree(tmp_path):
    course = make_course(tmp_path, "toy", toy_source())
    submit(course, "toy", "stuck", toy_submission(mul=HANG_MUL + "my_mul(1, 1)\n"))
    submit(course, "toy", "fine", toy_submission())
    results = {r.student: r for r in autograde_all(
        "toy", course_dir=course, workers=2, timeout=40, cell_timeout=3600, progress=None,
        restore_course_files=False)}
    assert results["stuck"].status == "timeout" and results["stuck"].score == 0
    assert results["fine"].status == "ok" and results["fine"].score == 5
    from nbgrader.api import Gradebook

    with Gradebook(parallel.sqlite_url(course / "gradebook.db")) as gb:
        grades = {g.name: g for nb in gb.find_submission("toy", "stuck").notebooks for g in nb.grades}
        assert grades["test_my_mul"].auto_score == 0 and grades["test_my_mul"].needs_manual_grade
    assert live_kernels() == []


# --------------------------------------------------------------------------------------
# the graded lab: every fault and cheat in one batch (SQLite)
# --------------------------------------------------------------------------------------
def lab_base() -> nbformat.NotebookNode:
    release = ROOT / "release" / LAB / f"{LAB}.ipynb"
    if release.is_file():
        return nbformat.read(release, as_version=4)
    return strip_hidden_tests(nbformat.read(LAB_SOURCE, as_version=4))


def lab_course(root: Path) -> Path:
    (root / "source").mkdir(parents=True)
    shutil.copytree(ROOT / "source" / LAB, root / "source" / LAB)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


@pytest.fixture(scope="module")
def fault_batch(tmp_path_factory):
    course = lab_course(tmp_path_factory.mktemp("labcourse"))
    base = lab_base()
    for case in CASES:
        submit(course, LAB, case.name, student_notebook(base, case))
    for kind in SUBMISSIONS:  # the graded lab's ordinary submissions, in the same batch
        submit(course, LAB, f"lab_{kind}", filled_release(kind))
    data_file = parallel.package_dir("utils") / "data" / "digits_y.npy"
    before = sha256(data_file)
    results = autograde_all(LAB, course_dir=course, workers=2, timeout=1200, cell_timeout=60,
                            progress=print, restore_course_files=False, skip_tail=True)
    return course, {r.student: r for r in results}, before, sha256(data_file)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_outcome_is_fair(fault_batch, case: Case):
    course, results, _, _ = fault_batch
    stored = gradebook_scores(parallel.sqlite_url(course / "gradebook.db"), "multiclass-digits", LAB)
    assert stored[case.name] == case.expected, (case.name, results[case.name].notes)
    res = results[case.name]
    assert res.score == sum(case.expected.values()) and res.max_score == 20
    joined = "; ".join(res.notes)
    for fragment in case.notes:
        assert fragment in joined, (case.name, fragment, joined)


@pytest.mark.slow
def test_ordinary_submissions_in_the_fault_batch_are_graded_correctly(fault_batch):
    course, results, _, _ = fault_batch
    stored = gradebook_scores(parallel.sqlite_url(course / "gradebook.db"), "multiclass-digits", LAB)
    for kind, expected in EXPECTED_SCORES.items():
        assert stored[f"lab_{kind}"] == expected, (kind, results[f"lab_{kind}"].notes)
        assert results[f"lab_{kind}"].status == "ok"


@pytest.mark.slow
def test_fault_batch_gradebook_consistent_and_course_files_untouched(fault_batch):
    course, results, data_before, data_after = fault_batch
    assert data_after == data_before
    stored = gradebook_scores(parallel.sqlite_url(course / "gradebook.db"), "multiclass-digits", LAB)
    everyone = [c.name for c in CASES] + [f"lab_{k}" for k in SUBMISSIONS]
    assert sorted(stored) == sorted(everyone) == sorted(results)
    assert all(set(g) == {"test_my_softmax", "test_model"} for g in stored.values())
    # the guard is silent for honest work: it only undoes what an answer cell changed
    for honest in ("good", "wrong_softmax", "deleted_test_good", "stderr_flood",
                   *(f"lab_{k}" for k in SUBMISSIONS)):
        assert not any("GUARD-UNDONE" in n for n in results[honest].notes), results[honest].notes
    stderr_nb = nbformat.read(course / "autograded" / "stderr_flood" / LAB / f"{LAB}.ipynb", as_version=4)
    flood = [c for c in stderr_nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "my_model"][0]
    assert sum(o.get("text", "").count("\n") for o in flood.outputs) <= 200 + 2  # LimitOutput


# --------------------------------------------------------------------------------------
# the graded lab against PostgreSQL (whole notebook, training included)
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
    course = lab_course(tmp_path_factory.mktemp("pgcourse"))
    base = lab_base()
    plan = {"good": ([], 20.0), "wrong_softmax": ([answer("my_softmax", WRONG_SOFTMAX)], 10.0),
            "wrong_model": ([answer("my_model", WRONG_MODEL)], 10.0)}
    for student, (edits, _) in plan.items():
        submit(course, LAB, student, student_notebook(base, Case(student, "", edits, {})))
    try:
        results = autograde_all(LAB, course_dir=course, db_url=url, workers=2, timeout=1200, progress=print,
                                restore_course_files=False, skip_tail=True)
        yield course, url, {r.student: r for r in results}, plan
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_batch_scores(pg_batch):
    course, url, results, plan = pg_batch
    stored = gradebook_scores(url, "multiclass-digits", LAB)
    assert {s: sum(g.values()) for s, g in stored.items()} == {s: p for s, (_, p) in plan.items()}
    assert stored["wrong_softmax"] == {"test_my_softmax": 0.0, "test_model": 10.0}
    assert stored["wrong_model"] == {"test_my_softmax": 10.0, "test_model": 0.0}
    assert all(r.status == "ok" for r in results.values())
    assert not (course / "gradebook.db").exists()  # nothing went to SQLite


# --------------------------------------------------------------------------------------
# one whole-notebook autograde (training included), through the command line
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_whole_notebook_solution_full_marks(tmp_path):
    course = lab_course(tmp_path)
    submit(course, LAB, "ref", student_notebook(lab_base(), Case("ref", "", [], {})))
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    proc = subprocess.run([sys.executable, "-m", "grading", LAB, "--course-dir", str(course),
                           "--workers", "1", "--no-restore"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[1/1] ref: ok 20/20" in proc.stdout
    nb = nbformat.read(course / "autograded" / "ref" / LAB / f"{LAB}.ipynb", as_version=4)
    fit = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "compile_fit"][0]
    assert "Epoch 40/40 - loss:" in "".join(o.get("text", "") for o in fit.outputs)
    assert not any(o.get("name") == "stderr" for c in nb.cells for o in c.get("outputs", []))
