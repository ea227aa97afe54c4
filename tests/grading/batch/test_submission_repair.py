"""python -m grading takes a foreign or damaged submission's graded cells as nbgrader's plain path
does (utils.repair): every case of the corpus (helpers.foreign) is rebuilt with its clean twin's
answers, and a graded cell that cannot be found is named for grading by hand. (Before, a notebook
whose nbgrader metadata was lost, as Colab saves it, was graded as the blank release: 0/20.)"""
from __future__ import annotations

import shutil

import nbformat
import pytest
from helpers.foreign import CASES, expected_scores, student_of, twin
from helpers.notebooks import grade_id
from helpers.repo import ROOT
from nbgrader.api import Gradebook

from grading.batch import submission
from grading.batch.results import STATUS_ERROR, STATUS_FLAGGED, STATUS_OK, SubmissionResult
from grading.batch.tasks import Task
from grading.batch.workspace import BatchContext
from grading.filetree import read_tree
from grading.isolation.integrity import PackageSnapshot
from grading.limits import Limits

ASSIGNMENT = "multiclass_digits"
GRADED = ("my_softmax", "my_model")


def _graded_sources(nb: nbformat.NotebookNode) -> dict[str, str]:
    return {grade_id(c): c.source.replace("\r\n", "\n") for c in nb.cells if grade_id(c) in GRADED}


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> dict[str, tuple[nbformat.NotebookNode, list[str], list[str]]]:
    tmp = tmp_path_factory.mktemp("repair")
    (tmp / "work").mkdir()
    ctx = BatchContext(assignment=ASSIGNMENT, course_id="course", work=tmp / "work", source={},
                       release=read_tree(ROOT / "release" / ASSIGNMENT), template_db=b"",
                       packages=PackageSnapshot(roots={}, files={}), timeout=60,
                       config_text="", isolation="none", limits=Limits())
    out = {}
    for name, case in CASES.items():
        task = Task(name, {f"{ASSIGNMENT}.ipynb": case.build()})
        dest = tmp / "dest" / name
        dest.mkdir(parents=True)
        result = SubmissionResult(name, STATUS_ERROR)
        assert submission.rebuild_submission(ctx.release, ctx.limits, task, dest, result)
        out[name] = nbformat.read(dest / f"{ASSIGNMENT}.ipynb", as_version=4), result.notes, result.manual
        shutil.rmtree(dest)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_corpus_case_is_graded_with_its_twins_answers(rebuilt, name):
    case = CASES[name]
    nb, notes, manual = rebuilt[name]
    want = _graded_sources(twin(case))
    release = _graded_sources(nbformat.read(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                                            as_version=4))
    for gid in case.missing:
        want[gid] = release[gid]  # not found: the release's stub, scored 0 ...
    if case.missing:  # ... in one note saying to grade it by hand
        assert len([n for n in notes if "grade it by hand" in n]) == 1, notes
    assert _graded_sources(nb) == want, notes
    # the exercises whose graded cell was not found are graded by hand (needs_manual_grade, and
    # the status "needs manual grading"); no other
    tests = {"my_softmax": "test_my_softmax", "my_model": "test_model"}
    assert sorted(manual) == sorted(tests[g] for g in case.missing), (manual, notes)


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_corpus_case_scores_its_twin_in_the_sandboxed_batch(lab_batch, name):
    """The corpus as handed in, graded end to end by ``python -m grading`` (the session's lab
    batch): the twin's points, less the exercises not found, which are graded by hand."""
    case, student = CASES[name], student_of(CASES[name])
    res = lab_batch.results[student]
    with Gradebook(f"sqlite:///{lab_batch.course / 'gradebook.db'}") as gb:
        grades = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades
        scores = {g.name: g.score for g in grades}
        manual = {g.name for g in grades if g.needs_manual_grade}
    assert scores == expected_scores(case), res.notes
    tests = {"my_softmax": "test_my_softmax", "my_model": "test_model"}
    assert manual == {tests[g] for g in case.missing} == set(res.manual), res.notes
    assert res.status == (STATUS_FLAGGED if case.flagged else STATUS_OK), res.notes
