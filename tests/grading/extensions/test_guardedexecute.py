"""grading.extensions.guardedexecute (GuardedExecute) end to end: every fault and cheat of
tests/helpers/faults.py gets the fair score, in the same sandboxed batch as honest students
(conftest.lab_batch); and which course packages its guard imports before the first cell."""
from __future__ import annotations

import nbformat
import pytest
from helpers.courses import gradebook_scores
from helpers.faults import CASES, Case
from helpers.guard_shell import run_guard_script
from helpers.repo import LAB, SOURCE_NB

from grading.batch.gradebook import sqlite_url
from grading.extensions.guardedexecute import UNWALKED_MODULES, GuardedExecute, course_packages_named
from grading.isolation.integrity import PROTECTED_PACKAGES

COURSE_ID = "multiclass-digits"


def stored_scores(batch) -> dict:
    return gradebook_scores(sqlite_url(batch.course / "gradebook.db"), COURSE_ID, LAB)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.sandbox
def test_fault_outcome_is_fair(lab_batch, case: Case):
    stored = stored_scores(lab_batch)
    res = lab_batch.results[case.name]
    assert stored[case.name] == case.expected, (case.name, res.notes)
    assert res.score == sum(case.expected.values()) and res.max_score == 20
    joined = "; ".join(res.notes)
    for fragment in case.notes:
        assert fragment in joined, (case.name, fragment, joined)


def _code_nb(*sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("the utils of `public_tests`")]  # prose never counts
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_the_lab_has_the_guard_import_every_course_package(source_nb, release_nb):
    assert course_packages_named(source_nb) == list(PROTECTED_PACKAGES)
    assert course_packages_named(release_nb) == list(PROTECTED_PACKAGES)
    assert PROTECTED_PACKAGES == ("utils", "public_tests")


@pytest.mark.parametrize("sources, walked", [
    (("import numpy as np", "assert 1 + 1 == 2"), []),  # a toy assignment: no TensorFlow import
    (("x = my_utilsx", "the_public_tests = 1"), []),  # a name that only contains one
    (("from public_tests import *",), ["utils", "public_tests"]),
    (("import numpy", "utils.plot(1)"), ["utils", "public_tests"]),  # one named: every one walked
])
def test_the_guard_imports_course_packages_only_for_an_assignment_naming_one(sources, walked):
    assert course_packages_named(_code_nb(*sources)) == walked


def test_a_lab_submission_cannot_spare_its_kernel_the_guards_walk():
    """The guard walks the course packages only for a notebook whose code cells name one, and
    a submission chooses its code cells: but what GuardedExecute runs is the submission rebuilt
    on the release skeleton (grading.batch.rebuild) or repaired onto it (utils.repair), whose
    read-only cells (``from utils import *``) are the release's, however the student edited or
    deleted them (red team: every code cell but the answers deleted, answers that name neither)."""
    import copy

    from helpers.courses import lab_base
    from helpers.notebooks import find_cell, grade_id

    from grading.batch.rebuild import read_submission, rebuild_notebook
    from utils.repair import parse_submission, repair_submission

    release = lab_base()
    sub = copy.deepcopy(release)
    sub.cells = [c for c in sub.cells if c.cell_type != "code" or grade_id(c) in ("my_softmax", "my_model")]
    find_cell(sub, "my_softmax").source = "def my_softmax(z):\n    return z\n"
    find_cell(sub, "my_model").source = "model = None\n"
    assert course_packages_named(sub) == []
    raw = nbformat.writes(sub).encode()
    rebuilt, _ = rebuild_notebook(release, read_submission(raw))
    assert course_packages_named(rebuilt) == list(PROTECTED_PACKAGES)
    for cell in sub.cells:  # another editor dropped nbgrader's marks: the repair's path
        cell.metadata = {}
    repaired = repair_submission(release, parse_submission(nbformat.writes(sub).encode())).notebook
    assert course_packages_named(repaired) == list(PROTECTED_PACKAGES)
    unreadable = repair_submission(release, parse_submission(b"not a notebook")).notebook
    assert course_packages_named(unreadable) == list(PROTECTED_PACKAGES)


def test_no_course_code_a_kernel_runs_imports_the_modules_the_walk_leaves_out():
    """The guard's walk skips UNWALKED_MODULES: sound only while nothing a lab kernel runs
    reaches them, neither the walked modules (public_tests and the rest of utils, which the
    tests call) nor a code cell of the source notebook."""
    script = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance()\n"
        "import grading.isolation.guard as guard\n"
        f"guard.install({list(GuardedExecute.preload_modules)!r}, {list(PROTECTED_PACKAGES)!r}, "
        f"{list(UNWALKED_MODULES)!r})\n"
        "print('RESULT' + json.dumps(sorted(sys.modules)))\n")
    loaded = set(run_guard_script(script))
    assert "public_tests.judged" in loaded and "utils.heldout" in loaded  # the walk did run
    assert not loaded & set(UNWALKED_MODULES), sorted(loaded & set(UNWALKED_MODULES))
    code = [c.source for c in nbformat.read(SOURCE_NB, as_version=4).cells if c.cell_type == "code"]
    for name in UNWALKED_MODULES:
        assert not any(name in src or name.split(".")[1] in src.split() for src in code), name
