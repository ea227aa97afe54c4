"""The judged tests' plumbing (public_tests.evidence, public_tests.judged): records read back
strictly, test cells parsed strictly, judges that decide from data alone and never crash.

The answers' verdicts themselves (public = autograde for every corpus answer) are
tests/test_grade_agreement.py; the judged executor in a real kernel is tests/grading/.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import utils  # noqa: F401  (quiet TensorFlow environment first)
from public_tests import evidence as ev
from public_tests import judged, model_judge, softmax_judge, softmax_tests
from public_tests._common import hidden_error_sentence


def _softmax(z):
    ez = np.exp(z - np.max(z))
    return ez / np.sum(ez)


def _record(answer, call: judged.Call) -> str:
    judged.run(call.test.name, lambda: answer, json.dumps(call.payload()))
    return judged.take()


PUBLIC_SOFTMAX = judged.parse_calls("test_my_softmax(my_softmax)", hidden=False)[0]
HIDDEN_SOFTMAX = judged.parse_calls("hidden_test_my_softmax(my_softmax, seed=5, lengths=[3, 8])",
                                    hidden=True)[0]


# ------------------------------------------------------------------ records
@pytest.mark.parametrize("values", [
    np.array([0.1, np.nan, np.inf, -np.inf, 5e-324, 1.7976931348623157e308]),
    np.arange(6, dtype=np.int8).reshape(2, 3),
    np.array([2**62, -3], dtype=np.int64),
    np.array([True, False]),
    np.array([1.5, 2.25], dtype=np.float32),
    np.array([1.5], dtype=np.float16),
])
def test_an_array_comes_back_bit_for_bit(values):
    back = ev.array_from(ev.from_json(ev.to_json({"a": ev.array_record(values)}))["a"])
    assert back.dtype == values.dtype and back.shape == values.shape
    assert np.array_equal(back, values, equal_nan=values.dtype.kind == "f")


def test_a_non_numeric_array_travels_as_text_only():
    rec = ev.array_record(np.array(["x", "y"]))
    assert "values" not in rec and ev.array_from(rec) is None and "x" in rec["text"]


@pytest.mark.parametrize("text", [None, 3, "", "[1, 2]", "{", "nan", "[" * 100_000 + "]" * 100_000,
                                  "x" * (ev.MAX_CHARS + 1)])
def test_what_is_not_a_record_is_refused(text):
    with pytest.raises(ev.EvidenceError):
        ev.from_json(text)


@pytest.mark.parametrize("rec", [
    {"dtype": "float64", "shape": [2], "values": [1.0]},            # values of another shape
    {"dtype": "float64", "shape": [2], "values": [1.0, "2"]},       # a string among the values
    {"dtype": "float64", "shape": [1], "values": [[1.0]]},          # nested deeper than the shape
    {"dtype": "int8", "shape": [1], "values": [1000]},              # does not fit the dtype
    {"dtype": "i4,f8", "shape": [1], "values": [1]},                # structured
    {"dtype": "no such type", "shape": [1], "values": [1]},
    {"dtype": "float64", "shape": [10**6], "values": []},           # over the element limit
    {"dtype": "float64", "shape": [-1], "values": []},
    {"dtype": "float64", "shape": "2", "values": [1.0, 2.0]},
    {"dtype": "float64", "shape": [True], "values": [1.0]},
])
def test_a_malformed_array_record_is_refused(rec):
    with pytest.raises(ev.EvidenceError):
        ev.array_from(rec)


# ------------------------------------------------------------------ test cells
@pytest.mark.parametrize("source, hidden", [
    ("test_my_softmax(my_softmax)\n", False),
    ("# BEGIN UNIT TEST\ntest_model(model, 10, 400)\n# END UNIT TEST\n", False),
    ("hidden_test_model(model, 10, 400, seed=3, examples=2)", True),
])
def test_the_lab_s_kinds_of_test_cells_parse(source, hidden):
    (call,) = judged.parse_calls(source, hidden=hidden)
    assert call.test.hidden is hidden and call.answer in ("my_softmax", "model")


@pytest.mark.parametrize("source, hidden, why", [
    ("assert my_softmax(1) == 1", False, "not a call of one of the judged tests"),
    ("test_my_softmax(my_softmax)\nx = 1", False, "line 2"),
    ("print(my_softmax)", False, "not a call"),
    ("hidden_test_my_softmax(my_softmax, seed=1, lengths=[2])", False, "not a call"),
    ("test_my_softmax(my_softmax)", True, "not a call"),
    ("test_my_softmax()", False, "takes the answer"),
    ("test_model(model, n, 400)", False, "literals"),
    ("test_model(model, 10)", False, "takes the answer then 2"),
    ("test_model(model, 10, -4)", False, "positive integers"),
    ("hidden_test_my_softmax(my_softmax, **cfg)", True, "literals|kwargs"),
    ("hidden_test_my_softmax(my_softmax, seed=1.5, lengths=[2])", True, "seed"),
    ("test_my_softmax(my_softmax", False, "does not parse"),
])
def test_a_test_cell_the_grader_cannot_judge_is_refused(source, hidden, why):
    with pytest.raises(ValueError, match=why):
        judged.parse_calls(source, hidden=hidden)


# ------------------------------------------------------------------ judging
def test_a_correct_answer_passes_and_a_wrong_one_fails_through_the_round_trip():
    assert judged.judge_text(PUBLIC_SOFTMAX, _record(_softmax, PUBLIC_SOFTMAX)).passed
    assert judged.judge_text(HIDDEN_SOFTMAX, _record(_softmax, HIDDEN_SOFTMAX)).passed
    verdict = judged.judge_text(PUBLIC_SOFTMAX, _record(np.exp, PUBLIC_SOFTMAX))
    assert not verdict.passed and "not divided by the sum" in verdict.message


def test_the_verdict_is_the_judge_s_on_the_record_whatever_produced_it():
    # the kernel could hand over any record: values a little off are wrong values, whoever says so
    record = json.loads(_record(_softmax, PUBLIC_SOFTMAX))
    record["calls"][2]["result"]["values"][0] += 1e-3
    verdict = judged.judge_text(PUBLIC_SOFTMAX, json.dumps(record))
    assert not verdict.passed and verdict.rule == "values" and "negative values" in verdict.message


def test_a_record_that_stops_early_or_lies_about_its_shape_fails_and_never_crashes():
    record = json.loads(_record(_softmax, PUBLIC_SOFTMAX))
    short = dict(record, calls=record["calls"][:3])
    assert judged.judge_text(PUBLIC_SOFTMAX, json.dumps(short)).rule == "evidence"
    record["calls"][0]["result"]["shape"] = [5]
    assert judged.judge_text(PUBLIC_SOFTMAX, json.dumps(record)).rule == "evidence"
    rng = np.random.default_rng(0)
    for _ in range(300):  # every field of a real record replaced by junk, one at a time
        broken = json.loads(_record(_softmax, PUBLIC_SOFTMAX))
        call = broken["calls"][int(rng.integers(len(broken["calls"])))]
        key = rng.choice(sorted(call["result"]))
        call["result"][key] = [None, 1, "x", [], {}, True, -1.5][int(rng.integers(7))]
        verdict = judged.judge_text(PUBLIC_SOFTMAX, json.dumps(broken))
        assert verdict.passed in (True, False) and (verdict.passed or verdict.message)


def test_an_answer_that_is_not_defined_gets_a_message_not_a_crash():
    judged.run("test_my_softmax", lambda: undefined_name, "{}")  # noqa: F821
    verdict = judged.judge_text(PUBLIC_SOFTMAX, judged.take())
    assert not verdict.passed and "Run its graded cell first" in verdict.message
    assert judged.take() == "", "a record is handed over once"


def test_a_hidden_failure_shows_no_kernel_text_and_no_input():
    secret = "SECRET-0123"

    def leaky(z):
        if len(z) == 8:
            raise ValueError(f"{secret} {z}")
        return _softmax(z)

    verdict = judged.judge_text(HIDDEN_SOFTMAX, _record(leaky, HIDDEN_SOFTMAX))
    assert verdict.message == hidden_error_sentence("ValueError")
    wrong = judged.judge_text(HIDDEN_SOFTMAX, _record(lambda z: _softmax(z) * 1.01, HIDDEN_SOFTMAX))
    assert wrong.message == softmax_judge.HIDDEN_SENTENCES["values"]
    cases, _ = softmax_tests.hidden_cases(seed=5, lengths=[3, 8])
    assert not any(f"{v:.3f}"[:5] in wrong.message for z in cases for v in z)
    # a record the kernel made unreadable on purpose, its text spelling out a hidden input (a
    # dtype named after it): the fixed sentence, no text of the record (red team, issue 26)
    record = json.loads(_record(_softmax, HIDDEN_SOFTMAX))
    record["calls"][1]["result"]["dtype"] = "[('HID:-2.81746 0.5', '<f8')]"
    unreadable = judged.judge_text(HIDDEN_SOFTMAX, json.dumps(record))
    assert not unreadable.passed and unreadable.message == hidden_error_sentence(None)
    for judge in (softmax_judge._guarded, model_judge.guarded):
        def body() -> None:
            raise ev.EvidenceError("unknown dtype 'HID:-2.81746'")
        assert judge(body, hidden=True).message == hidden_error_sentence(None)
        assert "HID:-2.81746" in judge(body).message  # the public judges name what they could not read


def test_only_the_shifted_copy_failing_is_named():
    calls = {"n": 0}

    def drifts(z):  # right on the originals, wrong on the shifted copies (called later)
        calls["n"] += 1
        return _softmax(z) if calls["n"] <= 2 else _softmax(z) + 0.01

    verdict = judged.judge_text(HIDDEN_SOFTMAX, _record(drifts, HIDDEN_SOFTMAX))
    assert verdict.message == softmax_judge.HIDDEN_SENTENCES["shift"]
