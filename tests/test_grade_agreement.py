"""Public verdict = autograde verdict, for every answer of both corpora (helpers.softmax_answers, helpers.model_answers).

The rule: everything the autograder requires, the public test checks too; the hidden
tests only try unseen inputs for the same requirements. So an answer that passes the
public test passes the hidden tests too, and one that fails it fails at autograde,
except the answers of ``PUBLIC_ONLY``, built to pass the public inputs only (lookups,
special cases), which the hidden tests must reject.

The test cells are taken from the source notebook and run twice: as a plain kernel runs
them (the public part, then the hidden block, in the notebook's namespace; a cell fails on
any exception or any output on stderr, as nbgrader scores it), and as the autograder judges
them (:mod:`public_tests.judged`: each call's probe on the grader's inputs, its record as
JSON text, the judge on that text alone). Both must give every answer the same verdict.
"""
from __future__ import annotations

import contextlib
import io
from typing import Any, Callable

import json

import nbformat
import numpy as np
import pytest

import utils  # noqa: F401  (quiet TensorFlow environment first)
from grading.extensions.hiddenblocks import split_hidden
from public_tests import judged, model_judge, softmax_judge
from helpers import model_answers, softmax_answers
from helpers.notebooks import find_cell

import tensorflow as tf  # noqa: E402


@pytest.fixture(scope="module")
def graded_cells(source_nb: nbformat.NotebookNode) -> dict[str, tuple[str, str]]:
    """{grade id: (public part, hidden block)} of the two test cells of the source notebook."""
    cells = {}
    for grade_id in ("test_my_softmax", "test_model"):
        public, hidden = split_hidden(find_cell(source_nb, grade_id).source)
        assert hidden, f"{grade_id} has no hidden tests"
        cells[grade_id] = (public, hidden)
    return cells


def _run(source: str, ns: dict) -> str | None:
    """Run cell code like the kernel does; return None if it passes, else why it failed."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            exec(compile(source, "<cell>", "exec"), ns)
    except BaseException as exc:  # noqa: BLE001  (a cell fails on anything it raises)
        return f"{type(exc).__name__}: {exc}"
    return f"stderr: {err.getvalue()}" if err.getvalue() else None


def _namespace(**answer: Any) -> dict:
    ns: dict = {"np": np, "tf": tf, "Sequential": tf.keras.Sequential, "Dense": tf.keras.layers.Dense}
    exec("from public_tests import *", ns)
    ns.update(answer)
    return ns


def judged_verdicts(cell: tuple[str, str], answer: Any) -> tuple[bool, bool]:
    """(public calls pass, public and hidden calls pass) as the autograder judges them: each
    call's probe run on the grader's inputs, its record handed over as JSON text, judged."""
    public, hidden = cell
    ok = []
    for part, is_hidden in ((public, False), (hidden, True)):
        for call in judged.parse_calls(part, hidden=is_hidden):
            judged.run(call.test.name, lambda: answer, json.dumps(call.payload()))
            ok.append(judged.judge_text(call, judged.take()).passed)
            if not ok[-1]:
                break
        if not all(ok):
            break
    n_public = len(judged.parse_calls(public, hidden=False))
    return all(ok[:n_public]) and len(ok) >= n_public, all(ok)


def verdicts(cell: tuple[str, str], **answer: Any) -> tuple[bool, bool, str | None]:
    """(public test passes, autograde passes, the hidden failure message) for one answer, in a
    plain kernel's namespace; the autograder's judged verdicts must be the same."""
    public, hidden = cell
    public_fail = _run(public, _namespace(**answer))
    ns = _namespace(**answer)
    graded_fail = _run(public, ns) or _run(hidden, ns)
    (value,) = answer.values()
    assert judged_verdicts(cell, value) == (public_fail is None, graded_fail is None), (
        "the autograder's judge disagrees with the notebook's tests", public_fail, graded_fail)
    return public_fail is None, graded_fail is None, graded_fail


def _softmax_cases() -> list[tuple[str, Callable, str]]:
    cases = [(a.__name__, a, "wrong") for a, _ in softmax_answers.WRONG]
    cases += [(a.__name__, a, "correct") for a in softmax_answers.CORRECT]
    return cases + [(a.__name__, a, "public_only") for a in softmax_answers.PUBLIC_ONLY]


def _model_cases() -> list[tuple[str, Callable, str]]:
    cases = [(b.__name__, b, "wrong") for b, _ in model_answers.WRONG]
    cases += [(b.__name__, b, "correct") for b in model_answers.CORRECT]
    return cases + [(b.__name__, b, "public_only") for b in model_answers.PUBLIC_ONLY]


def _check(kind: str, public_ok: bool, graded_ok: bool, why: str | None) -> None:
    if kind == "public_only":
        assert public_ok, "built to pass the public test, but it fails it"
        assert not graded_ok, "built to pass the public inputs only, but the hidden tests accept it"
        assert why and why.startswith("HiddenTestFailure: "), why
    else:
        assert public_ok == (kind == "correct"), f"public verdict {public_ok} for a {kind} answer"
        assert graded_ok == public_ok, f"public says {public_ok}, autograde says {graded_ok}: {why}"


@pytest.mark.parametrize("name, answer, kind", _softmax_cases(), ids=[c[0] for c in _softmax_cases()])
def test_softmax_answer_gets_the_same_verdict_from_public_and_hidden_tests(graded_cells, name, answer, kind):
    _check(kind, *verdicts(graded_cells["test_my_softmax"], my_softmax=answer))


@pytest.mark.parametrize("name, builder, kind", _model_cases(), ids=[c[0] for c in _model_cases()])
def test_model_answer_gets_the_same_verdict_from_public_and_hidden_tests(graded_cells, name, builder, kind):
    tf.keras.backend.clear_session()
    model = builder()
    public_ok, graded_ok, why = verdicts(graded_cells["test_model"], model=model)
    _check(kind, public_ok, graded_ok, why)


def test_corpora_hold_answers_of_every_kind():
    for module in (softmax_answers, model_answers):
        assert module.WRONG and module.CORRECT and module.PUBLIC_ONLY
    names = {b.__name__ for b in model_answers.CORRECT}
    assert {"default_layer_names", "no_model_name", "own_layer_names"} <= names


def test_hidden_failures_are_fixed_sentences_that_show_no_inputs(graded_cells):
    import ast

    sentences = [*softmax_judge.HIDDEN_SENTENCES.values(), *model_judge.HIDDEN_SENTENCES.values()]
    assert len(sentences) >= 8
    for _, hidden in graded_cells.values():
        # a hidden block is judged calls with literal parameters: nothing else runs
        calls = judged.parse_calls(hidden, hidden=True)
        assert calls and all(c.test.hidden for c in calls)
        # the numbers that make up the hidden inputs (sizes, ranges, seeds) appear in no
        # sentence; the network's sizes are part of the exercise and may
        secret = {repr(n.value) for n in ast.walk(ast.parse(hidden)) if isinstance(n, ast.Constant)
                  and type(n.value) in (int, float) and n.value not in (0, 1, 400, 25, 15, 10)}
        assert len(secret) >= 2  # the seed and a size at least
        for sentence in sentences:
            assert sentence.endswith("."), sentence
            words = set(sentence.replace(",", " ").replace("(", " ").replace(")", " ").split())
            assert not words & secret, (sentence, words & secret)


def test_a_public_only_answer_fails_with_its_teaching_message(graded_cells):
    ok, graded_ok, why = verdicts(graded_cells["test_my_softmax"], my_softmax=softmax_answers.looks_up_the_public_inputs)
    assert ok and not graded_ok
    assert "inputs that the public test does not try" in why
