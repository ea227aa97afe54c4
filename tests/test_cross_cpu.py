"""The cross-CPU comparison of trained outputs (tests/trained_outputs.py) against real
outputs of two machines (tests/fixtures/cross_cpu.json): it accepts both, each as the
other's reference, and rejects real regressions."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from trained_outputs import TRAINED, compare, mask, trained_numbers

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "cross_cpu.json").read_text())
MACHINES = ("earlier_machine", "amd_epyc_avx512")


def _problems(ref: dict, new: dict) -> list[str]:
    found = []
    for cell, kind in TRAINED.items():
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
