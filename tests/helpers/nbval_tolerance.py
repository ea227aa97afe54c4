"""nbval plugin for the graded lab: trained numbers within cross-CPU tolerances.

nbval compares every output exactly, and float32 training gives other numbers on other
CPUs (see trained_outputs.py). Loaded with ``-p helpers.nbval_tolerance`` (tests/ on the path),
it changes nbval's comparison for the cells in ``trained_outputs.TRAINED`` only: their
trained numbers are checked within the tolerances documented there, then nbval's own
exact comparison runs on both outputs with those numbers masked. Every other cell, and
everything else in these cells, is compared by nbval unchanged.
"""
from __future__ import annotations

import copy

from nbval.plugin import IPyNbCell

from helpers.trained_outputs import TRAINED, compare, mask, trained_numbers

_nbval_compare = IPyNbCell.compare_outputs
_logits_this_run: list[float] = []


def _stdout(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def _masked(kind: str, outputs) -> list:
    masked = []
    for out in outputs:
        out = copy.deepcopy(out)  # nbval reads outputs as NotebookNodes (attribute access)
        if out.get("output_type") == "stream":
            out["text"] = mask(kind, out.get("text", ""))
        masked.append(out)
    return masked


def compare_outputs(self, test, ref, skip_compare=None):
    kind = TRAINED.get(self.cell.get("id"))
    if kind is None:
        return _nbval_compare(self, test, ref, skip_compare)
    new = _stdout(test)
    if kind == "logits":
        _logits_this_run[:] = trained_numbers("logits", new)
    problems = compare(kind, _stdout(ref), new, logits=_logits_this_run or None)
    if problems:
        self.comparison_traceback = [f"trained numbers of cell {self.cell.get('id')!r}:", *problems,
                                     "reference:", _stdout(ref), "this run:", new]
        return False
    return _nbval_compare(self, _masked(kind, test), _masked(kind, ref), skip_compare)


IPyNbCell.compare_outputs = compare_outputs
