"""The tests the autograder judges outside the student's kernel, and how it asks for evidence.

A test cell of the lab holds calls such as ``test_my_softmax(my_softmax)`` and, in the
source notebook's hidden block, ``hidden_test_my_softmax(my_softmax, seed=..., ...)``. The
grader (``grading``) parses those calls (:func:`parse_calls`: every statement must be a call
of a test listed in :data:`TESTS`, the answer first, then literals), and for each one:

1. makes the inputs itself (:meth:`JudgedTest.payload`) and sends the kernel one line of code
   (:func:`probe_source`) that evaluates the answer expression and runs the test's probe on
   those inputs (:func:`run`), keeping the record as JSON text;
2. fetches that text (:func:`take`, through ``user_expressions``);
3. judges it in its own process (:func:`judge_text`), with the inputs it made itself.

The kernel's only part is the record: it can change what the record says the answer
computed on the grader's inputs, which is exactly what is graded, and nothing else.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np

from public_tests import evidence as ev
from public_tests import model_judge, model_tests, softmax_judge, softmax_tests
from public_tests._common import Verdict, exception_record, hidden_error_sentence


@dataclass(frozen=True)
class JudgedTest:
    """One test the grader judges: its settings, its inputs, its probe and its judge."""

    name: str
    settings: tuple[str, ...]  # positional literals after the answer, e.g. ("classes", "input_size")
    hidden: bool
    passed_text: str
    payload: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]  # (settings, params) -> inputs
    probe: Callable[[Any, dict[str, Any]], dict[str, Any]]  # kernel side: (answer, inputs) -> record
    judge: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], Verdict]  # (record, settings, params)


def _softmax_payload(settings: dict, params: dict) -> dict:
    return {"cases": [ev.array_record(z) for _, z in softmax_tests.SOFTMAX_CASES]}


def _hidden_softmax_payload(settings: dict, params: dict) -> dict:
    return {"cases": [ev.array_record(z) for z in softmax_tests.hidden_cases(**params)[0]]}


def _input_array(rec: object) -> np.ndarray:
    """An input array of the grader's payload: always recorded as numbers (:func:`ev.array_record`
    of the grader's own float arrays), never as text only."""
    arr = ev.array_from(rec)
    if arr is None:
        raise ev.EvidenceError("an input array of the payload was recorded as text, not as numbers")
    return arr


def _softmax_probe(answer: Any, payload: dict) -> dict:
    return softmax_tests.probe(answer, [_input_array(z) for z in payload["cases"]])


def _softmax_judge(record: dict, settings: dict, params: dict) -> Verdict:
    return softmax_judge.judge(record, softmax_tests.SOFTMAX_CASES)


def _hidden_softmax_judge(record: dict, settings: dict, params: dict) -> Verdict:
    cases, shifted = softmax_tests.hidden_cases(**params)
    return softmax_judge.judge_hidden(record, cases, shifted)


def _positive_int(n: object) -> TypeGuard[int]:
    return isinstance(n, int) and not isinstance(n, bool) and n > 0


def _model_settings(settings: dict) -> tuple[int, int]:
    classes, input_size = settings.get("classes"), settings.get("input_size")
    if not (_positive_int(classes) and _positive_int(input_size)):
        raise ValueError("test_model needs positive integers: test_model(model, classes, input_size)")
    return classes, input_size


def _model_payload(settings: dict, params: dict) -> dict:
    classes, input_size = _model_settings(settings)
    return {"classes": classes, "input_size": input_size, "probe_x": ev.array_record(model_tests.PROBE)}


def _hidden_model_payload(settings: dict, params: dict) -> dict:
    classes, input_size = _model_settings(settings)
    probe_x, batch = model_tests.hidden_inputs(input_size=input_size, **params)
    return {
        "classes": classes,
        "input_size": input_size,
        "probe_x": ev.array_record(probe_x),
        "batch": ev.array_record(batch),
    }


def _model_probe(answer: Any, payload: dict) -> dict:
    batch = payload.get("batch")
    return model_tests.probe(
        answer,
        payload["classes"],
        payload["input_size"],
        probe_x=_input_array(payload["probe_x"]),
        batch=None if batch is None else ev.array_from(batch),
    )


def _model_judge(record: dict, settings: dict, params: dict) -> Verdict:
    classes, input_size = _model_settings(settings)
    return model_judge.judge(record, classes, input_size, model_judge.HIDDEN_UNITS, model_tests.PROBE)


def _hidden_model_judge(record: dict, settings: dict, params: dict) -> Verdict:
    classes, input_size = _model_settings(settings)
    probe_x, batch = model_tests.hidden_inputs(input_size=input_size, **params)
    return model_judge.judge_hidden(record, classes, input_size, model_judge.HIDDEN_UNITS, probe_x, batch)


TESTS: dict[str, JudgedTest] = {
    t.name: t
    for t in (
        JudgedTest(
            "test_my_softmax", (), False, softmax_tests.PASSED, _softmax_payload, _softmax_probe, _softmax_judge
        ),
        JudgedTest(
            "hidden_test_my_softmax", (), True, "", _hidden_softmax_payload, _softmax_probe, _hidden_softmax_judge
        ),
        JudgedTest(
            "test_model",
            ("classes", "input_size"),
            False,
            model_tests.PASSED,
            _model_payload,
            _model_probe,
            _model_judge,
        ),
        JudgedTest(
            "hidden_test_model",
            ("classes", "input_size"),
            True,
            "",
            _hidden_model_payload,
            _model_probe,
            _hidden_model_judge,
        ),
    )
}


@dataclass(frozen=True)
class Call:
    """One call of a judged test, as a test cell writes it."""

    test: JudgedTest
    answer: str  # the answer's expression, source text (e.g. "my_softmax")
    settings: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The inputs the grader sends the kernel for this call."""
        return self.test.payload(self.settings, self.params)


def parse_calls(source: str, *, hidden: bool) -> list[Call]:
    """The judged calls in a test cell's public part (``hidden=False``) or hidden block.

    Every statement must be a call of a test of :data:`TESTS` of that kind, the answer as its
    first argument, then the test's settings and keyword parameters as literals. Raises
    ValueError naming what is not: a test the grader cannot judge must stop the batch, not be
    trusted to the kernel.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"a test cell does not parse: {exc}") from None
    calls = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        name = call.func.id if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) else None
        test = TESTS.get(name or "")
        if test is None or test.hidden != hidden:
            kinds = ", ".join(n for n, t in TESTS.items() if t.hidden == hidden)
            raise ValueError(
                f"line {node.lineno} of a test cell ({ast.unparse(node)[:80]!r}) is not a "
                f"call of one of the judged tests ({kinds})"
            )
        assert isinstance(call, ast.Call)
        if (
            not call.args
            or len(call.args) != 1 + len(test.settings)
            or any(isinstance(a, ast.Starred) for a in call.args)
        ):
            raise ValueError(
                f"{name} takes the answer then {len(test.settings)} setting(s): {ast.unparse(call)[:80]!r}"
            )
        try:
            settings = {k: ast.literal_eval(a) for k, a in zip(test.settings, call.args[1:], strict=False)}
            params = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
        except ValueError:
            raise ValueError(f"{name}: settings and parameters must be literals: {ast.unparse(call)[:80]!r}") from None
        if len(params) != len(call.keywords):
            raise ValueError(f"{name}: no **kwargs in a judged test call")
        parsed = Call(test, ast.unparse(call.args[0]), settings, params)
        parsed.payload()  # the settings and parameters must make inputs: checked here, once
        calls.append(parsed)
    return calls


def probe_source(call: Call) -> str:
    """The one line the grader runs in the kernel for ``call`` (the answer evaluated there)."""
    payload = json.dumps(call.payload(), allow_nan=False, separators=(",", ":"))
    return (
        f"__import__('public_tests.judged', fromlist=['run']).run({call.test.name!r}, "
        f"lambda: ({call.answer}), {payload!r})\n"
    )


#: what :func:`take` hands the grader: the record of the last :func:`run`
TAKE_EXPRESSION = "__import__('public_tests.judged', fromlist=['take']).take()"
_evidence: str | None = None


def run(name: str, answer: Callable[[], Any], payload_json: str) -> None:
    """Kernel side: evaluate the answer, run the test's probe on the grader's inputs, keep the
    record for :func:`take`."""
    global _evidence
    _evidence = None
    try:
        value = answer()
    except Exception as exc:  # noqa: BLE001  (e.g. the graded cell did not define the name)
        record: dict[str, Any] = {"unavailable": exception_record(exc, None)}
    else:
        try:
            record = TESTS[name].probe(value, json.loads(payload_json))
        except Exception as exc:  # noqa: BLE001  (an answer object our probe could not inspect)
            record = {"probe_error": exception_record(exc, None)}
    _evidence = ev.to_json(record)


def take() -> str:
    """Kernel side: the record of the last :func:`run` (once), or '' if there is none."""
    global _evidence
    out, _evidence = _evidence or "", None
    return out


def judge_text(call: Call, text: object) -> Verdict:
    """Grader side: the verdict on the evidence text the kernel handed back for ``call``."""
    try:
        record = ev.from_json(text)
    except ev.EvidenceError as exc:
        return Verdict(
            False,
            hidden_error_sentence(None)
            if call.test.hidden
            else f"The autograder could not read what {call.answer} returned ({exc}).",
            "evidence",
        )
    for key, what in (("unavailable", "could not be evaluated"), ("probe_error", "could not be examined")):
        if key in record:
            problem = record[key] if isinstance(record[key], dict) else {}
            kind = ev.clip(problem.get("type", "an error"), 60)
            if call.test.hidden:
                return Verdict(False, hidden_error_sentence(kind), key)
            message = ev.clip(problem.get("message", ""))
            hint = " Run its graded cell first: is it answered yet?" if kind == "NameError" else ""
            return Verdict(False, f"{call.answer} {what}: {kind}: {message}.{hint}", key)
    return call.test.judge(record, call.settings, call.params)
