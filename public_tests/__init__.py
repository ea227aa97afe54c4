"""Student-facing tests of the graded lab, with messages that teach.

``from public_tests import *`` gives the two tests the lab's test cells call,
``test_my_softmax(my_softmax)`` and ``test_model(model, 10, 400)``, and the
reusable checks behind them (``check_softmax``, ``check_model_structure``, ...)
that hidden autograder tests can call with other inputs. Every failure is a
:class:`PublicTestFailure`, a subclass of AssertionError.

``softmax_reference`` is importable (``from public_tests import softmax_reference``)
but deliberately left out of ``*``: a student's ``my_softmax`` must not be able to
call a ready-made softmax that the notebook's namespace hands it.
"""
from public_tests._common import NotAnsweredYet, PublicTestFailure
from public_tests.model_tests import LayerInfo, activation_kind, check_model_structure, test_model
from public_tests.softmax_tests import (
    SOFTMAX_CASES,
    check_softmax,
    softmax_reference,
    test_my_softmax,
)

__all__ = [
    "LayerInfo",
    "NotAnsweredYet",
    "PublicTestFailure",
    "SOFTMAX_CASES",
    "activation_kind",
    "check_model_structure",
    "check_softmax",
    "test_model",
    "test_my_softmax",
]
