"""The graded lab as an nbgrader assignment: source, release, validation and autograde.

Fast tests check the structure of the source and release notebooks; slow ones execute
them (nbval on both versions, the blank release, ``nbgrader validate``) and autograde
one submission of each kind of :mod:`helpers.submissions` end to end in a temporary course.
"""
from __future__ import annotations

import ast
import copy
import html as htmllib
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grading.extensions.hiddenblocks import hidden_lines
from helpers.courses import skip_tail_in
from helpers.feedback import leaked_lines
from helpers.feedback_page import assert_reads_offline
from helpers import submissions as subs
from helpers.repo import LAB as ASSIGNMENT
from helpers.repo import RELEASE_NB, ROOT, SOURCE_NB, TESTS, not_ignored
from utils.stubs import NotAnsweredError

BIN = Path(sys.executable).parent
SANITIZE = TESTS / "nbval_sanitize.cfg"

# Cells of the blank release that must fail, and how: the graded cells and every cell
# that needs their answers. All other cells must run.
BLANK_FAILURES = {
    "softmax-compare": "NotAnsweredError",  # calls my_softmax -> not_answered_yet()
    "test-my-softmax": "NotAnsweredYet",  # the public test's short message
    "softmax-sliders": "NotAnsweredError",  # plt_softmax calls my_softmax before drawing
    "my-model": "NotAnsweredError",  # not_answered_yet() inside Sequential([...])
    "model-summary": "NameError",  # no `model`: every later cell that uses it
    "test-model": "NameError",
    "weights": "NameError",
    "compile-fit": "NameError",
    "loss-plot": "NameError",
    "predict-two": "NameError",
    "predict-proba": "NameError",
    "yhat": "NameError",
    "predictions-grid": "NameError",
    "errors": "NameError",
    # the held-out section trains a copy of `model` (its split cell runs on its own)
    "heldout-fit": "NameError",
    "heldout-confusion": "NameError",
    "heldout-confident": "NameError",
}


def nbgrader_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # nbgrader shells out to alembic
    return env


def run(args: list[str], cwd: Path, timeout: float = 3000) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=nbgrader_env(), capture_output=True, text=True,
                          timeout=timeout)


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run nbgrader in ``cwd`` with the course's nbgrader_config.py (timeouts) copied there."""
    if not (cwd / "nbgrader_config.py").exists():
        shutil.copy2(ROOT / "nbgrader_config.py", cwd / "nbgrader_config.py")
    return run([sys.executable, "-m", "nbgrader", *args], cwd=cwd)


def nbgrader_in_each(courses: list[Path], *args: str) -> list[subprocess.CompletedProcess]:
    """Run the same nbgrader command in each course folder at the same time."""
    with ThreadPoolExecutor(len(courses)) as pool:
        return list(pool.map(lambda course: nbgrader(*args, cwd=course), courses))


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def cells_by_id(nb) -> dict:
    return {cell.id: cell for cell in nb.cells}


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == "stdout")


# --------------------------------------------------------------------- structure (fast)


def test_source_cells_are_all_nbgrader_cells_with_the_agreed_grade_ids(source_nb):
    metas = [nbgrader_meta(c) for c in source_nb.cells]
    assert all(m.get("grade_id") for m in metas), "every cell needs a grade_id"
    ids = [m["grade_id"] for m in metas]
    assert len(ids) == len(set(ids))
    solutions = [m["grade_id"] for m in metas if m.get("solution")]
    graded = {m["grade_id"]: m.get("points") for m in metas if m.get("grade")}
    assert solutions == ["my_softmax", "my_model"]
    assert graded == subs.TEST_POINTS
    # every other cell is read-only, so autograde restores it
    for m in metas:
        if not m.get("solution"):
            assert m["locked"] is True, m["grade_id"]


def test_graded_cells_keep_the_lab_scaffolding(source_nb):
    cells = {nbgrader_meta(c)["grade_id"]: c.source for c in source_nb.cells}
    for gid, marker in (("my_softmax", "# UNQ_C1"), ("my_model", "# UNQ_C2")):
        src = cells[gid]
        assert src.startswith(marker) and "# GRADED CELL" in src
        start, begin = src.index("### START CODE HERE ###"), src.index("### BEGIN SOLUTION")
        end, stop = src.index("### END SOLUTION"), src.index("### END CODE HERE ###")
        assert start < begin < end < stop
    assert 'name="my_model"' in cells["my_model"]
    assert "tf.keras.utils.set_random_seed(1234)" in cells["my_model"]
    for gid in ("test_my_softmax", "test_model"):
        src = cells[gid]
        assert "# BEGIN UNIT TEST" in src and "### BEGIN HIDDEN TESTS" in src
        assert src.index("# END UNIT TEST") < src.index("### BEGIN HIDDEN TESTS")


def test_source_outputs_are_committed_quiet_and_never_ignored(source_nb):
    code = [c for c in source_nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "the source notebook must be executed"
    for c in code:
        assert "nbval-ignore-output" not in c.metadata.get("tags", []), c.id
        for o in c.outputs:
            assert o.output_type != "error", c.id
            assert not (o.output_type == "stream" and o.name == "stderr"), (c.id, o.text)
    assert "/work/" not in SOURCE_NB.read_text() and "/tmp/" not in SOURCE_NB.read_text()


def test_packages_cell_imports_utils_before_tensorflow(source_nb):
    src = cells_by_id(source_nb)["packages"].source
    assert src.index("from utils import *") < src.index("tensorflow")
    assert "%matplotlib widget" in src and "plt.style.use(STYLE)" in src
    assert "from public_tests import *" in src


def test_prose_quotes_the_numbers_the_notebook_prints(source_nb):
    cells = cells_by_id(source_nb)
    prose = "\n".join(c.source for c in source_nb.cells if c.cell_type == "markdown")
    fit = stdout_of(cells["compile-fit"])
    assert "6280 batches in 40 epochs: 157 batches per epoch" in fit
    losses = dict(re.findall(r"Epoch\s+(\d+)/40 - loss: (\d+\.\d{4})", fit))
    assert set(losses) == {"1", "2", "3", "10", "20", "30", "40"}
    assert float(losses["40"]) < float(losses["10"]) < float(losses["1"])
    # prose quotes only what holds on every CPU (tests/helpers/trained_outputs.py): rounded numbers
    assert f"from about {float(losses['1']):.2f}, the average\nover the first epoch, to about " \
           f"{float(losses['40']):.3f} in the fortieth" in prose
    logits = re.search(r"\[\[(.*?)\]\]", stdout_of(cells["predict-two"]), re.S).group(1).split()
    assert len(logits) == 10 and max(logits, key=float) == logits[2]
    assert f"The largest output, about {float(logits[2]):.1f}, is at index 2" in prose
    assert "Largest Prediction index: 2" in stdout_of(cells["predict-two"])
    assert "np.argmax(prediction_p): 2" in stdout_of(cells["yhat"])
    n_errors = int(re.search(r"Misclassified: (\d+) of 5000 images", stdout_of(cells["errors"])).group(1))
    assert n_errors in (1, 2) and "only one or two of the\n5000 images wrong" in prose
    assert "same results every time you run the lab on your\ncomputer" in prose
    assert "157 batches" in prose


def accuracies(source_nb) -> dict[str, tuple[float, int, int]]:
    """part -> (accuracy %, wrong, digits) as printed by the held-out cell."""
    out = stdout_of(cells_by_id(source_nb)["heldout-fit"])
    found = re.findall(r"(training|held-out) digits: accuracy (\d+\.\d) % \((\d+) of (\d+) wrong\)", out)
    return {part: (float(acc), int(wrong), int(n)) for part, acc, wrong, n in found}


def test_held_out_section_follows_the_graded_cells_and_quotes_what_it_prints(source_nb):
    ids = [c.id for c in source_nb.cells]
    last_test = max(i for i, c in enumerate(source_nb.cells) if nbgrader_meta(c).get("grade"))
    section = ids.index("heldout-md")
    assert section > last_test  # --skip-tail skips it: it costs graders nothing
    assert ids[section:section + 9] == [
        "heldout-md", "heldout-split", "heldout-fit-md", "heldout-fit", "confusion-md", "heldout-confusion",
        "confident-md", "heldout-confident", "heldout-why-md"]
    cells = cells_by_id(source_nb)
    assert not any(nbgrader_meta(cells[i]).get("grade") or nbgrader_meta(cells[i]).get("solution")
                   for i in ids[section:])
    assert "held-out digits per class 0-9: [100 100 100 100 100 100 100 100 100 100]" in \
        stdout_of(cells["heldout-split"])
    assert "training digits: 4000, held-out digits: 1000" in stdout_of(cells["heldout-split"])
    fit = cells["heldout-fit"].source
    # the same model (a copy of the student's) and the same recipe as the graded training
    assert "tf.keras.models.clone_model(model)" in fit and "set_random_seed(1234)" in fit
    recipe = cells["compile-fit"].source
    for line in ("loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),",
                 "optimizer=tf.keras.optimizers.Adam(learning_rate=0.001),", "epochs=40, verbose=0"):
        assert line in recipe and line in fit, line
    assert "fit(X_train, y_train," in fit and "X_held" not in fit.split("fit(")[1].split(")")[0]
    acc = accuracies(source_nb)
    assert set(acc) == {"training", "held-out"}
    assert acc["training"][2] == 4000 and acc["held-out"][2] == 1000
    # the prose quotes only what holds within the cross-CPU tolerance (tests/helpers/trained_outputs.py)
    prose = "\n".join(c.source for c in source_nb.cells if c.cell_type == "markdown")
    assert abs(acc["held-out"][0] - 94) <= 1.5 and "right only about 94 % of the time" in prose
    assert acc["training"][0] >= 99.8 and "almost all of them right (about 99.9 %)" in prose
    assert 45 <= acc["held-out"][1] <= 75 and "some 60 mistakes" in prose
    assert "here about 6 %, many times the training error" in prose
    why = cells["heldout-why-md"].source.split("**Training error versus held-out error.**")[1]
    assert len(re.findall(r"[.!?](?:\s|$)", why.strip())) == 3  # three sentences
    assert "fig = plot_confusion_matrix(y_held, yhat_held)" == cells["heldout-confusion"].source
    assert "fig = display_confident_errors(model_held, X_held, y_held)" == cells["heldout-confident"].source


def test_pictures_credit_links_and_prose_fixes(source_nb):
    cells = cells_by_id(source_nb)
    # the two pictures are PNG images (exported HTML and feedback show them without ipympl)
    for cid, helper in (("softmax-layer", "plot_softmax_layer"), ("network-diagram", "plot_network_diagram")):
        assert cells[cid].source.startswith(f"{helper}()  #")
        (out,) = cells[cid].outputs
        assert out.output_type == "execute_result" and "image/png" in out.data
        assert "application/vnd.jupyter.widget-view+json" not in out.data
        assert out.data["text/plain"].startswith("Picture: ")
    ids = [c.id for c in source_nb.cells]
    assert ids.index("softmax-md") < ids.index("softmax-layer") < ids.index("my-softmax")
    assert ids.index("model-md") < ids.index("network-diagram") < ids.index("my-model")
    # the data credit where the data is introduced
    nn = cells["nn-md"].source
    for credit in ("Yann LeCun, Corinna Cortes and\nChristopher J. C. Burges", "CC BY-SA 3.0",
                   "`tools/make_digits.py`", "20 x 20"):
        assert credit in nn, credit
    # a link to each optional lab where its topic starts
    for cid, name in (("relu-md", "01_relu.ipynb"), ("softmax-md", "02_softmax.ipynb"),
                      ("nn-md", "03_multiclass.ipynb")):
        assert f"]({name}) (`notebooks/{name}` in the course repository)" in cells[cid].source
        assert (ROOT / "notebooks" / name).is_file()
    # prose fixes
    assert "for j in range(N):" in cells["softmax-hints-md"].source  # the loop form of the answer
    assert "`0 (unbuilt)`" in cells["model-hints-md"].source  # a model without an input layer
    assert "is the *average* of the losses of its 157 batches" in cells["epochs-md"].source
    assert "is not new: it is one of the 5000 images the model was trained on" in cells["predict-md"].source
    assert "applies the trained model to new examples" not in "\n".join(c.source for c in source_nb.cells)
    grid = cells["random-digits"].source
    assert "X[i].reshape((20, 20)).T" in grid and "imshow(" in grid and "display_random_digits" not in grid
    assert "#5---What-the-model-really-learned-(ungraded)" in cells["intro"].source


def test_release_has_no_solutions_hidden_tests_outputs_or_widget_state(release_nb, source_nb):
    text = RELEASE_NB.read_text()
    for leak in ("BEGIN SOLUTION", "HIDDEN TESTS", "_hidden_check", "ez = np.exp(z)",
                 'Dense(25, activation="relu"', "/work/", "/tmp/"):
        assert leak not in text, leak
    assert "widgets" not in release_nb.metadata
    assert [c.id for c in release_nb.cells] == [c.id for c in source_nb.cells]
    for cell in release_nb.cells:
        assert "execution" not in cell.metadata
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    cells = {nbgrader_meta(c)["grade_id"]: c for c in release_nb.cells}
    for gid in ("my_softmax", "my_model"):
        assert "# YOUR CODE HERE" in cells[gid].source and "not_answered_yet()" in cells[gid].source
        assert cells[gid].metadata.get("deletable") is False and cells[gid].metadata.get("editable", True)
    for gid, cell in cells.items():
        if gid not in ("my_softmax", "my_model"):
            assert cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False, gid


def test_every_release_code_cell_is_valid_python(release_nb):
    for cell in release_nb.cells:
        if cell.cell_type == "code":
            lines = [ln for ln in cell.source.splitlines() if not ln.lstrip().startswith("%")]
            ast.parse("\n".join(lines))  # raises SyntaxError on an invalid stub


def test_submissions_fill_exactly_the_graded_cells(release_nb):
    for kind, answers in subs.SUBMISSIONS.items():
        nb = subs.filled_release(kind)
        changed = {nbgrader_meta(a)["grade_id"] for a, b in zip(nb.cells, release_nb.cells)
                   if a.source != b.source}
        assert changed == set(answers), kind
    with pytest.raises(KeyError, match="unknown submission kind"):
        subs.filled_release("nope")


# ------------------------------------------------------------------- execution (slow)


@pytest.mark.slow
def test_release_is_what_nbgrader_generates_now():
    proc = run([sys.executable, str(ROOT / "tools" / "generate_release.py"), "--check"], cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "release/ is up to date" in proc.stdout


def nbval(nb_path: Path) -> subprocess.CompletedProcess:
    """nbval with the cross-CPU tolerances of tests/helpers/nbval_tolerance.py for trained numbers
    (tests/ on PYTHONPATH: ``-p`` plugins load before pytest reads ``pythonpath`` from pyproject)."""
    env = nbgrader_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "pytest", "--nbval", str(nb_path), "--nbval-sanitize-with",
                           str(SANITIZE), "-p", "no:cacheprovider", "-p", "helpers.nbval_tolerance", "-q"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)


@pytest.mark.slow
def test_source_notebook_passes_nbval():
    proc = nbval(SOURCE_NB)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert re.search(r"\b26 passed\b", proc.stdout), proc.stdout[-2000:]


@pytest.mark.slow
def test_blank_release_fails_exactly_where_answers_are_needed(tmp_path):
    nb = nbformat.read(RELEASE_NB, as_version=4)
    NotebookClient(nb, timeout=600, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    failed = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert not (out.output_type == "stream" and out.name == "stderr"), (cell.id, out.text)
            if out.output_type == "error":
                failed[cell.id] = (out.ename, out.evalue)
    assert {cid: e[0] for cid, e in failed.items()} == BLANK_FAILURES
    assert issubclass(NotAnsweredError, NotImplementedError)
    assert "not answered yet" in failed["softmax-compare"][1]
    assert "not answered yet" in failed["my-model"][1]
    assert "my_softmax" in failed["test-my-softmax"][1]
    assert "'model' is not defined" in failed["test-model"][1]
    assert "not answered yet" in failed["softmax-sliders"][1]

    path = tmp_path / "blank.ipynb"
    nbformat.write(subs.filled_release("blank"), path)
    proc = nbgrader("validate", str(path), cwd=tmp_path)
    assert "VALIDATION FAILED ON 2 CELL(S)!" in proc.stdout, proc.stdout + proc.stderr
    assert "Success!" not in proc.stdout


def with_source_outputs(nb, source, trained: dict[str, str] | None = None):
    """``nb`` with each code cell's outputs and execution count taken from ``source`` (by cell id),
    and the stdout of the cells named in ``trained`` replaced by the given texts."""
    nb = copy.deepcopy(nb)
    src = cells_by_id(source)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = copy.deepcopy(src[cell.id].outputs)
            cell.execution_count = src[cell.id].execution_count
            if trained and cell.id in trained:
                streams = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stdout"]
                assert len(streams) == 1, cell.id
                streams[0].text = trained[cell.id]
    return nb


def other_machine_outputs(source) -> dict[str, str]:
    """The trained outputs of the fixture machine whose numbers differ from the committed ones."""
    fixture = json.loads((ROOT / "tests" / "fixtures" / "cross_cpu.json").read_text())
    committed = stdout_of(cells_by_id(source)["compile-fit"])
    others = [texts for name, texts in fixture.items()
              if not name.startswith("_") and texts["compile-fit"] != committed]
    assert others, "the fixture holds no machine with other numbers than the committed ones"
    return others[0]


@pytest.mark.slow
def test_release_with_reference_answers_matches_the_solution_and_validates(tmp_path, source_nb):
    # the reference outputs of the trained cells are another CPU's: nbval with the
    # cross-CPU tolerances must accept them (tests/helpers/trained_outputs.py)
    filled = subs.filled_release("reference")
    path = tmp_path / f"{ASSIGNMENT}.ipynb"
    nbformat.write(with_source_outputs(filled, source_nb, other_machine_outputs(source_nb)), path)
    proc = nbval(path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert re.search(r"\b26 passed\b", proc.stdout), proc.stdout[-2000:]

    nbformat.write(filled, path)
    proc = nbgrader("validate", str(path), cwd=tmp_path)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout + proc.stderr
    assert "VALIDATION FAILED" not in proc.stdout


@pytest.mark.slow
def test_nbval_rejects_trained_numbers_outside_the_tolerances(tmp_path, source_nb):
    # the source notebook with four regressions planted in its reference outputs
    trained = {cid: stdout_of(cells_by_id(source_nb)[cid])
               for cid in ("compile-fit", "predict-two", "errors", "heldout-fit")}
    loss20 = re.search(r"Epoch 20/40 - loss: (\d+\.\d+)", trained["compile-fit"]).group(1)
    trained["compile-fit"] = trained["compile-fit"].replace(f"loss: {loss20}", f"loss: {float(loss20) * 1.1:.4f}")
    logits = re.search(r"\[\[(.*?)\]\]", trained["predict-two"], re.S).group(1).split()
    trained["predict-two"] = trained["predict-two"].replace(logits[2], f"{-abs(float(logits[2])) - 30:.2f}", 1)
    n = int(re.search(r"Misclassified: (\d+)", trained["errors"]).group(1))
    trained["errors"] = trained["errors"].replace(f"Misclassified: {n} ", f"Misclassified: {n + 10} ")
    # held-out digits that leaked into training: almost none wrong (accuracy printed to match)
    wrong = accuracies(source_nb)["held-out"][1]
    trained["heldout-fit"] = re.sub(r"held-out digits: accuracy \d+\.\d % \(\d+ of",
                                    "held-out digits: accuracy 99.8 % (2 of", trained["heldout-fit"])
    assert wrong > 20 and "(2 of 1000 wrong)" in trained["heldout-fit"]
    path = tmp_path / "planted.ipynb"
    nbformat.write(with_source_outputs(source_nb, source_nb, trained), path)
    proc = nbval(path)
    assert proc.returncode != 0
    assert re.search(r"\b4 failed, 22 passed\b", proc.stdout), proc.stdout[-3000:]
    for what in ("losses[1]", "largest at index", "count[0]", "accuracy[1]"):
        assert what in proc.stdout, what


#: the submissions of the end-to-end autograde whose every cell runs (the others stop after
#: the last test)
WHOLE_NOTEBOOK = frozenset({"reference", "blank"})


@pytest.mark.slow
def test_autograde_end_to_end(tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    proc = nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the instructor's fresh release is the committed one
    assert (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes() == RELEASE_NB.read_bytes()

    # nbgrader grades one notebook after another: two copies of the course, each with part of
    # the students, are graded at the same time (both cores busy), each with its own gradebook.
    # The first has the course's config as instructors use it: every cell runs (training
    # included) for the reference and the blank notebook. The second leaves the cells after the
    # last test unrun (JudgedExecute.skip_after_last_grade), which no score or feedback check
    # here reads: the lab's tail is run whole by nbval (tests/test_notebooks.py)
    students = {f"s_{kind}": kind for kind in subs.SUBMISSIONS}
    shutil.copytree(course, tmp_path / "course2")
    halves = [course, tmp_path / "course2"]
    skip_tail_in(halves[1])
    where = {student: halves[0 if kind in WHOLE_NOTEBOOK else 1] for student, kind in students.items()}
    for student, kind in students.items():
        subs.write_submission(where[student], student, kind)
    for proc in nbgrader_in_each(halves, "autograde", ASSIGNMENT, "--force"):
        assert proc.returncode == 0, proc.stdout + proc.stderr

    scores = {}
    for half in halves:
        with Gradebook(f"sqlite:///{half / 'gradebook.db'}") as gb:
            for student, kind in students.items():
                if where[student] != half:
                    continue
                sub = gb.find_submission(ASSIGNMENT, student)
                nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
                cells = {g.name: g.score for g in nb.grades}
                scores[kind] = (sub.score, sub.max_score, cells)
    print("\nautograde scores:", json.dumps(scores, indent=1))
    assert sorted(scores) == sorted(subs.SUBMISSIONS)
    for kind, expected in subs.EXPECTED_SCORES.items():
        score, max_score, cells = scores[kind]
        assert max_score == 20.0
        assert cells == expected, kind
        assert score == sum(expected.values()), kind

    def fit_outputs(student: str) -> list:
        path = where[student] / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        return cells_by_id(nbformat.read(path, as_version=4))["compile-fit"].outputs

    assert "6280 batches in 40 epochs" in str(fit_outputs("s_reference"))  # trained, as instructors grade
    assert fit_outputs("s_alternative") == []  # the tail left unrun

    for proc in nbgrader_in_each(halves, "generate_feedback", ASSIGNMENT, "--force"):
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "formula shown as TeX source" not in proc.stderr, proc.stderr
    # what nbgrader wrote (gradebook, submissions, autograded, feedback, grades.csv) is all
    # student data that the repository's .gitignore keeps out of commits
    for proc in nbgrader_in_each(halves, "export"):
        assert proc.returncode == 0, proc.stdout + proc.stderr
    for half in halves:
        assert (half / "grades.csv").is_file() and not_ignored(half) == [], half
    for student in students:
        html = where[student] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert html.is_file(), student
    reference_html = (where["s_reference"] / "feedback" / "s_reference" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Score: 20.0 / 20.0" in reference_html or "20.0 / 20.0" in reference_html

    # no line of hidden-test source in any feedback, leak attempts included (grading.hidden)
    lines = hidden_lines(nbformat.read(SOURCE_NB, as_version=4))
    assert len(lines) >= 8
    print(f"\nfeedback scan: {len(lines)} hidden-test lines x {len(students)} feedback pages")
    pages = {}
    for student in students:
        folder = where[student] / "feedback" / student / ASSIGNMENT
        assert sorted(p.name for p in folder.iterdir()) == [f"{ASSIGNMENT}.html"], student
        pages[student] = (folder / f"{ASSIGNMENT}.html").read_text()
        assert leaked_lines(pages[student], lines) == [], student
    # the scan can fail: the autograded notebook itself holds every line
    autograded = nbformat.read(where["s_reference"] / "autograded" / "s_reference" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    assert leaked_lines("\n".join(c.source for c in autograded.cells), lines) == lines
    # the leak attempts ran: their spying printed public cells, and what they read from disk was withheld
    assert "SPY" in pages["s_leak_hooks"] and "output withheld from feedback" in pages["s_leak_hooks"]
    # a failed hidden test is one clear block: the cell, that a hidden test failed, the message
    lookup = htmllib.unescape(pages["s_public_lookup"])
    assert "Hidden test failed" in lookup and "'test_my_softmax'" in lookup
    assert "my_softmax gives wrong probabilities for inputs that the public test does not try" in lookup
    assert "a hidden test of this cell failed with ValueError." in htmllib.unescape(pages["s_leak_in_error"])
    assert "Hidden test failed" not in htmllib.unescape(pages["s_reference"])

    # the reference page, every cell run, stands alone: opened in Chromium with the network off
    assert_reads_offline(where["s_reference"] / "feedback" / "s_reference" / ASSIGNMENT / f"{ASSIGNMENT}.html")
