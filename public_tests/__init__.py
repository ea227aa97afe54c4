"""Student-facing tests of the graded lab, with messages that teach.

``from public_tests import *`` gives the two tests the lab's test cells call,
``test_my_softmax(my_softmax)`` and ``test_model(model, 10, 400)``, the hidden tests a
source notebook's hidden blocks call (``hidden_test_my_softmax``, ``hidden_test_model``),
and the reusable checks behind them (``check_softmax``, ``check_model_structure``, ...).
Every failure is a :class:`PublicTestFailure`, a subclass of AssertionError.

Each test is a probe (it calls the answer and records what came back, as data) and a judge
(it decides from that record alone): :mod:`public_tests.evidence`. At autograde the grader
runs the probe in the student's kernel and the judge in its own process
(:mod:`public_tests.judged` lists the tests it knows).

``softmax_reference`` is importable (``from public_tests import softmax_reference``)
but deliberately left out of ``*``: a student's ``my_softmax`` must not be able to
call a ready-made softmax that the notebook's namespace hands it.
"""

from public_tests import undefined
from public_tests._common import HiddenTestFailure, NotAnsweredYet, PublicTestFailure
from public_tests.model_tests import (
    LayerInfo,
    activation_kind,
    check_model_structure,
    hidden_test_model,
    test_model,
)
from public_tests.softmax_tests import (
    SOFTMAX_CASES,
    check_softmax,
    hidden_test_my_softmax,
    softmax_reference,  # noqa: F401  (importable by name, kept out of *)
    test_my_softmax,
)

undefined.install()  # in the notebook: "model is not defined yet: run the graded cell of Exercise 2"

__all__ = [
    "HiddenTestFailure",
    "LayerInfo",
    "NotAnsweredYet",
    "PublicTestFailure",
    "SOFTMAX_CASES",
    "activation_kind",
    "check_model_structure",
    "check_softmax",
    "hidden_test_model",
    "hidden_test_my_softmax",
    "test_model",
    "test_my_softmax",
]
