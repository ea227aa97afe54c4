"""The cross-CPU comparison of trained outputs (tests/helpers/trained_outputs.py) against real
outputs of two machines (tests/fixtures/cross_cpu.json): it accepts both, each as the
other's reference, and rejects real regressions. The held-out cell, added later, is
checked against measured drift on one machine (tests/fixtures/heldout_drift.json)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.trained_outputs import TRAINED, compare, mask, trained_numbers

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "cross_cpu.json").read_text())
HELDOUT = json.loads((Path(__file__).parent / "fixtures" / "heldout_drift.json").read_text())
MACHINES = ("earlier_machine", "amd_epyc_avx512")


def _problems(ref: dict, new: dict) -> list[str]:
    found = []
    for cell, kind in TRAINED.items():
        if cell not in ref:  # the held-out cell: see the tests at the end
            continue
        logits = trained_numbers("logits", new["predict-two"])
        found += compare(kind, ref[cell], new[cell], logits=logits)
        if mask(kind, ref[cell]) != mask(kind, new[cell]):
            found.append(f"{cell}: text outside the trained numbers differs")
    return found


def test_the_two_machines_really_differ():
    a, b = (FIXTURE[m] for m in MACHINES)
    assert a["compile-fit"] != b["compile-fit"] and a["predict-two"] != b["predict-two"]


@pytest.mark.parametrize("ref, new", [MACHINES, MACHINES[::-1]])
def test_outputs_of_either_machine_are_accepted_against_the_other(ref, new):
    assert _problems(FIXTURE[ref], FIXTURE[new]) == []


def _changed(cell: str, old: str, new: str) -> dict:
    outputs = dict(FIXTURE["amd_epyc_avx512"])
    assert old in outputs[cell]
    outputs[cell] = outputs[cell].replace(old, new)
    return outputs


@pytest.mark.parametrize("cell, old, new, why", [
    ("compile-fit", "Epoch 20/40 - loss: 0.0527", "Epoch 20/40 - loss: 0.0580", "losses[1]"),  # +10 %
    ("compile-fit", "Epoch 40/40 - loss: 0.0046", "Epoch 40/40 - loss: 0.0051", "losses[3]"),  # +10 %
    ("compile-fit", "Epoch 10/40 - loss: 0.1477", "Epoch 10/40 - loss: 0.1329", "losses[0]"),  # -10 %
    ("compile-fit", "Epoch  1/40 - loss: 1.4355", "Epoch  1/40 - loss: 1.4356", "differs"),  # exact epochs
    ("compile-fit", "157 batches per epoch", "158 batches per epoch", "differs"),
    ("predict-two", "2.31", "-2.31", "largest at index"),  # another argmax
    ("predict-two", "-17.37", "-15.37", "logits[4]"),
    ("predict-proba", "9.66e-01", "7.66e-01", "not the softmax"),
    ("predict-proba", "Total of predictions: 1.000", "Total of predictions: 0.999", "differs"),
    ("errors", "Misclassified: 1 of", "Misclassified: 6 of", "count[0]"),
])
def test_real_regressions_are_rejected(cell, old, new, why):
    problems = _problems(FIXTURE["earlier_machine"], _changed(cell, old, new))
    assert problems and any(why in p for p in problems), problems


def test_probabilities_must_come_from_the_logits_of_the_same_run():
    # each machine's probabilities are accepted against the other's, but never with the
    # other machine's logits: they are not their softmax (the drift is up to 19 %)
    a, b = (FIXTURE[m] for m in MACHINES)
    assert compare("probabilities", a["predict-proba"], b["predict-proba"],
                   logits=trained_numbers("logits", a["predict-two"]))
    assert not compare("probabilities", a["predict-proba"], b["predict-proba"],
                       logits=trained_numbers("logits", b["predict-two"]))
    with pytest.raises(ValueError, match="unknown kind"):
        trained_numbers("weights", "")


# ---------------------------------------------------------------- the held-out cell


def _accuracy_problems(ref: str, new: str) -> list[str]:
    found = compare("accuracy", ref, new)
    if mask("accuracy", ref) != mask("accuracy", new):
        found.append("heldout-fit: text outside the trained numbers differs")
    return found


def test_the_held_out_cell_is_compared_within_tolerances():
    assert TRAINED["heldout-fit"] == "accuracy"
    assert trained_numbers("accuracy", HELDOUT["reference"]) == [5.0, 58.0]


@pytest.mark.parametrize("new", HELDOUT["perturbed"])
def test_measured_held_out_drift_is_accepted(new):
    assert new != HELDOUT["reference"]  # each run printed other numbers
    assert _accuracy_problems(HELDOUT["reference"], new) == []
    assert _accuracy_problems(new, HELDOUT["reference"]) == []


def _held(train: int, held: int, percent: str | None = None) -> str:
    held_pct = percent or f"{100 * (1 - held / 1000):.1f}"
    return (f"training digits: accuracy {100 * (1 - train / 4000):.1f} % ({train} of 4000 wrong)\n"
            f"held-out digits: accuracy {held_pct} % ({held} of 1000 wrong)\n")


def test_the_tolerance_sits_where_the_module_says():
    # held-out 58 +- 14.6 (20 % + 3), training 5 +- 4
    assert _accuracy_problems(HELDOUT["reference"], _held(5, 72)) == []
    assert _accuracy_problems(HELDOUT["reference"], _held(5, 44)) == []
    assert _accuracy_problems(HELDOUT["reference"], _held(9, 58)) == []
    assert _accuracy_problems(HELDOUT["reference"], _held(1, 58)) == []


@pytest.mark.parametrize("new, why", [
    (_held(5, 75), "accuracy[1]"),  # 1.7 percentage points worse
    (_held(5, 2), "accuracy[1]"),  # held-out digits leaked into training
    (_held(5, 400), "accuracy[1]"),  # the model stopped learning
    (_held(12, 58), "accuracy[0]"),  # training error up
    (_held(5, 58, percent="95.2"), "does not match"),  # accuracy inconsistent with the count
    (_held(5, 58).replace("of 1000", "of 999"), "differs"),  # another split size
    (_held(5, 58).replace("held-out digits", "test digits"), "differs"),
])
def test_held_out_regressions_are_rejected(new, why):
    problems = _accuracy_problems(HELDOUT["reference"], new)
    assert problems and any(why in p for p in problems), problems
