"""nbgrader's plain path (the README's ``nbgrader autograde``) on the corpus of foreign and damaged
notebooks: one real batch (helpers.plain_batch), each case scoring what its clean twin scores.

The batch: every case of helpers.foreign (Colab, VS Code, Notebook 7, nbformat 4.4, metadata lost,
locked cells deleted/retyped/edited, extra cells, a test cell deleted, copied and split graded
cells, Windows line endings, sources as strings, nbformat 3; invalid JSON, no cells, binary junk,
a graded cell really gone) and the clean twins of their answers, 23 notebooks. Only the VS Code
case runs the cells after the last test (its repaired tail trains the model, checked below); the
others stop after the last test, which no score reads, a few seconds each.
"""
from __future__ import annotations

import re

import pytest
from helpers.foreign import CASES, TWIN_SCORES, expected_scores, student_of
from helpers.notebooks import grade_id
from helpers.plain_batch import twin_student
from helpers.submissions import read_release

pytestmark = pytest.mark.slow
TESTS = {"my_softmax": "test_my_softmax", "my_model": "test_model"}


def test_the_batch_runs_to_the_end_and_every_student_has_a_result(corpus_batch):
    assert corpus_batch.returncodes == [0, 0], corpus_batch.output[-4000:]
    assert "old version" not in corpus_batch.output and "Traceback" not in corpus_batch.output
    assert set(corpus_batch.scores) == set(corpus_batch.where)
    table = [f"{name:17} twin {sum(TWIN_SCORES[c.answers].values()):4.0f}  got "
             f"{sum(v or 0 for v in corpus_batch.scores[student_of(c)].values()):4.0f}"
             for name, c in CASES.items()]
    print("\nplain path, case / twin / score:\n" + "\n".join(table))


def test_clean_twins_score_what_their_answers_earn(corpus_batch):
    for answers in {c.answers for c in CASES.values()}:
        assert corpus_batch.scores[twin_student(answers)] == TWIN_SCORES[answers], answers


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_case_scores_as_its_clean_twin(corpus_batch, name):
    case = CASES[name]
    twin = corpus_batch.scores[twin_student(case.answers)]
    got = corpus_batch.scores[student_of(case)]
    assert got == expected_scores(case), corpus_batch.comments[student_of(case)]
    for gid, test in TESTS.items():
        if gid not in case.missing:
            assert got[test] == twin[test], test


@pytest.mark.parametrize("name", sorted(CASES))
def test_only_cases_with_a_graded_cell_missing_are_flagged_for_manual_grading(corpus_batch, name):
    case = CASES[name]
    manual = corpus_batch.manual[student_of(case)]
    assert {g for g, flag in manual.items() if flag} == {TESTS[g] for g in case.missing}
    comments = corpus_batch.comments[student_of(case)]
    for gid in TESTS:
        if gid in case.missing:
            assert comments[gid].startswith("Not graded automatically: ") and case.note in comments[gid]
        else:
            assert not (comments[gid] or "").startswith("Not graded")


def test_twins_are_never_flagged(corpus_batch):
    for answers in {c.answers for c in CASES.values()}:
        assert not any(corpus_batch.manual[twin_student(answers)].values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_log_line_per_repaired_submission(corpus_batch, name):
    case = CASES[name]
    lines = [line for line in corpus_batch.output.splitlines()
             if re.search(rf"\b{student_of(case)}/multiclass_digits/multiclass_digits: ", line)]
    if case.status == "ok":
        assert lines == []
    else:
        assert len(lines) == 1, lines
        word = "flagged for manual grading" if case.flagged else "repaired"
        assert f": {word}: " in lines[0] and case.note in lines[0]


def test_deleted_and_edited_locked_cells_are_restored_and_extra_cells_dropped(corpus_batch):
    release = read_release()
    want = [(grade_id(c), c.cell_type) for c in release.cells]
    for name in ("locked_deleted", "locked_retyped", "locked_edited", "test_deleted", "extra_cells", "vscode"):
        graded = corpus_batch.autograded(student_of(CASES[name]))
        assert [(grade_id(c), c.cell_type) for c in graded.cells] == want, name
        for got, rel in zip(graded.cells, release.cells):
            if grade_id(rel) not in TESTS and not rel.metadata["nbgrader"].get("grade"):
                assert got.source == rel.source, (name, grade_id(rel))
    fit = next(c for c in corpus_batch.autograded(student_of(CASES["vscode"])).cells if grade_id(c) == "compile_fit")
    assert "epochs=40" in fit.source and "6280 batches in 40 epochs" in "".join(o.get("text", "") for o in fit.outputs)
