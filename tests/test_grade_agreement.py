"""Public verdict = autograde verdict, for every answer of both corpora (helpers.softmax_answers, helpers.model_answers).

The rule: everything the autograder requires, the public test checks too; the hidden
tests only try unseen inputs for the same requirements. So an answer that passes the
public test passes the hidden tests too, and one that fails it fails at autograde,
except the answers of ``PUBLIC_ONLY``, built to pass the public inputs only (lookups,
special cases), which the hidden tests must reject.

The test cells are taken from the source notebook and run as the autograder runs them
(:mod:`grading.hidden`): the public part, then the hidden block, in the notebook's
namespace; a cell fails on any exception or any output on stderr, as nbgrader scores it.
"""
from __future__ import annotations

import contextlib
import io
from typing import Any, Callable

import nbformat
import numpy as np
import pytest

import utils  # noqa: F401  (quiet TensorFlow environment first)
from grading.extensions.hiddenblocks import hidden_messages, split_hidden
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


def verdicts(cell: tuple[str, str], **answer: Any) -> tuple[bool, bool, str | None]:
    """(public test passes, autograde passes, the hidden failure message) for one answer."""
    public, hidden = cell
    public_fail = _run(public, _namespace(**answer))
    ns = _namespace(**answer)
    graded_fail = _run(public, ns) or _run(hidden, ns)
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
        assert why and why.startswith("AssertionError: "), why
    else:
        assert public_ok == (kind == "correct"), f"public verdict {public_ok} for a {kind} answer"
        assert graded_ok == public_ok, f"public says {public_ok}, autograde says {graded_ok}: {why}"


@pytest.mark.parametrize("name, answer, kind", _softmax_cases(), ids=[c[0] for c in _softmax_cases()])
def test_softmax_answer_gets_the_same_verdict_from_public_and_hidden_tests(graded_cells, name, answer, kind):
    _check(kind, *verdicts(graded_cells["test_my_softmax"], my_softmax=answer))


@pytest.mark.parametrize("name, builder, kind", _model_cases(), ids=[c[0] for c in _model_cases()])
def test_model_answer_gets_the_same_verdict_from_public_and_hidden_tests(graded_cells, name, builder, kind):
    tf.keras.backend.clear_session()
    _check(kind, *verdicts(graded_cells["test_model"], model=builder()))


def test_corpora_hold_answers_of_every_kind():
    for module in (softmax_answers, model_answers):
        assert module.WRONG and module.CORRECT and module.PUBLIC_ONLY
    names = {b.__name__ for b in model_answers.CORRECT}
    assert {"default_layer_names", "no_model_name", "own_layer_names"} <= names


def test_hidden_failures_are_fixed_sentences_that_show_no_inputs(graded_cells):
    import ast

    for _, hidden in graded_cells.values():
        tree = ast.parse(hidden)
        messages = hidden_messages(hidden)
        assert len(messages) >= 3
        # every assert of a hidden block carries a literal message (feedback can show it)
        asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
        assert asserts and all(isinstance(n.msg, ast.Constant) for n in asserts)
        # the numbers that make up the hidden inputs (sizes, ranges, seeds) appear in no
        # message; the network's sizes are part of the exercise and may
        secret = {repr(n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant)
                  and type(n.value) in (int, float) and n.value not in (0, 1, 400, 25, 15, 10)}
        for message in messages:
            assert message.endswith("."), message
            words = set(message.replace(",", " ").replace("(", " ").replace(")", " ").split())
            assert not words & secret, (message, words & secret)


def test_a_public_only_answer_fails_with_its_teaching_message(graded_cells):
    ok, graded_ok, why = verdicts(graded_cells["test_my_softmax"], my_softmax=softmax_answers.looks_up_the_public_inputs)
    assert ok and not graded_ok
    assert "inputs that the public test does not try" in why
