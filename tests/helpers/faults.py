"""Fault and cheat submissions of the graded lab, each with the outcome an instructor calls fair.

Used by the course-scale autograde tests (tests/grading/): ``CASES`` go into one sandboxed
batch (tests/grading/conftest.py); :func:`answer` and :class:`Case` also build the escape and
red-team attempts (:mod:`helpers.escapes`, :mod:`helpers.redteam`).

A case is a list of edits applied to a correctly answered student notebook. Points per
test cell: ``test_my_softmax`` 10, ``test_model`` 10. ``expected`` gives the fair score of
each test cell; ``notes`` are fragments the grader's notes for that student must contain
(evidence that the mitigation fired, not just that the score came out right).
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Callable

import nbformat

from helpers.notebooks import find_cell

GOOD_SOFTMAX = '''def my_softmax(z):
    """Softmax of a vector of scores (shifted by the max for stability)."""
    e = np.exp(z - np.max(z))
    return e / e.sum()
'''

GOOD_MODEL = '''tf.keras.utils.set_random_seed(1234)
model = Sequential(
    [
        tf.keras.Input(shape=(400,)),
        Dense(25, activation="relu", name="L1"),
        Dense(15, activation="relu", name="L2"),
        Dense(10, activation="linear", name="L3"),
    ], name="my_model"
)
'''

# exp without normalising: the outputs do not sum to 1
WRONG_SOFTMAX = '''def my_softmax(z):
    return np.exp(z)
'''

# nine output units instead of ten
WRONG_MODEL = GOOD_MODEL.replace('Dense(10, activation="linear"', 'Dense(9, activation="linear"')

Edit = Callable[[nbformat.NotebookNode], None]


def answer(grade_id: str, source: str) -> Edit:
    """Put ``source`` in the solution cell ``grade_id``."""
    def edit(nb: nbformat.NotebookNode) -> None:
        find_cell(nb, grade_id).source = source
    return edit


def delete_cell(grade_id: str) -> Edit:
    """Remove the cell ``grade_id`` (a student deleting a cell)."""
    def edit(nb: nbformat.NotebookNode) -> None:
        nb.cells.remove(find_cell(nb, grade_id))
    return edit


def replace_cell_source(grade_id: str, source: str, strip_metadata: bool = False) -> Edit:
    """Edit a locked cell (JSON editing bypasses the lock), optionally dropping its nbgrader metadata."""
    def edit(nb: nbformat.NotebookNode) -> None:
        cell = find_cell(nb, grade_id)
        cell.source = source
        if strip_metadata:
            cell.metadata.pop("nbgrader", None)
            cell.metadata["editable"] = True
    return edit


def insert_after(grade_id: str, source: str, fake_grade_id: str | None = None) -> Edit:
    """Add a student cell after ``grade_id``; with ``fake_grade_id`` it claims to be that test cell."""
    def edit(nb: nbformat.NotebookNode) -> None:
        cell = nbformat.v4.new_code_cell(source)
        if fake_grade_id:
            cell.metadata["nbgrader"] = {"grade_id": fake_grade_id, "grade": True, "solution": False,
                                         "locked": True, "points": 10, "schema_version": 3,
                                         "task": False}
        nb.cells.insert(nb.cells.index(find_cell(nb, grade_id)) + 1, cell)
    return edit


@dataclass
class Case:
    """One student's submission: what it does, its edits, and the fair score per test cell."""

    name: str
    what: str
    edits: list[Edit]
    expected: dict[str, float]
    notes: tuple[str, ...] = ()
    fair: str = ""
    extra: dict = field(default_factory=dict)


def student_notebook(base: nbformat.NotebookNode, case: Case) -> nbformat.NotebookNode:
    """A correctly answered copy of ``base`` with the case's edits applied."""
    nb = copy.deepcopy(base)
    answer("my_softmax", GOOD_SOFTMAX)(nb)
    answer("my_model", GOOD_MODEL)(nb)
    for edit in case.edits:
        edit(nb)
    return nb


def strip_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What a student sees of a source notebook's test cells (no hidden tests)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.source = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", "", cell.source,
                             flags=re.S)
    return nb


FULL = {"test_my_softmax": 10.0, "test_model": 10.0}
NO_SOFTMAX = {"test_my_softmax": 0.0, "test_model": 10.0}
NO_MODEL = {"test_my_softmax": 10.0, "test_model": 0.0}

CASES: list[Case] = [
    Case("good", "correct answers", [], FULL, fair="full marks"),
    Case("wrong_softmax", "softmax not normalised", [answer("my_softmax", WRONG_SOFTMAX)],
         NO_SOFTMAX, fair="softmax part 0"),
    # it waits rather than spins: two cell timeouts of one worker with no core taken from the
    # rest of the suite (the toy batch's "loop" student spins: tests/grading/batch/test_coordinator.py)
    Case("infinite_loop", "my_softmax never returns",
         [answer("my_softmax", "import time\ndef my_softmax(z):\n    while True:\n        time.sleep(0.5)\n")],
         NO_SOFTMAX, notes=("timed out and interrupted in test_my_softmax",),
         fair="cells calling it time out and are interrupted; softmax part 0"),
    Case("os_exit", "os._exit(1) in the softmax cell",
         [answer("my_softmax", "import os\nos._exit(1)\n" + GOOD_SOFTMAX)],
         NO_SOFTMAX, notes=("kernel died in my_softmax",),
         fair="kernel restarted, earlier cells replayed; softmax part 0, model graded"),
    Case("syntax_error", "syntax error in my_softmax",
         [answer("my_softmax", "def my_softmax(z)\n    return np.exp(z) / np.sum(np.exp(z))\n")],
         NO_SOFTMAX, notes=("review: syntax error",), fair="softmax part 0"),
    Case("stderr_flood", "the model cell writes 20000 lines to stderr",
         [answer("my_model", "import sys\nfor i in range(20000):\n    print('noise', i, file=sys.stderr)\n"
                 + GOOD_MODEL)],
         FULL, fair="noise outside the test cells does not change correct answers; output truncated"),
    Case("stderr_in_test", "my_softmax writes to stderr when the test calls it",
         [answer("my_softmax", "import sys\n" + GOOD_SOFTMAX.replace(
             "    e = np.exp", "    print('debug', file=sys.stderr)\n    e = np.exp"))],
         FULL, fair="the judge scores what my_softmax returns; what it prints (stderr too) is not "
                    "a verdict (nbgrader's own rule scored any stderr in a test cell 0)"),
    Case("deleted_test", "test_my_softmax cell deleted, softmax wrong",
         [answer("my_softmax", WRONG_SOFTMAX), delete_cell("test_my_softmax")],
         NO_SOFTMAX, notes=("deleted cells restored: test_my_softmax",), fair="test restored, graded: 0"),
    Case("deleted_test_good", "test_model cell deleted, answers right",
         [delete_cell("test_model")], FULL, notes=("deleted cells restored: test_model",),
         fair="test restored, graded: full marks"),
    Case("edited_test", "locked test_my_softmax cell edited to `pass`, softmax wrong",
         [answer("my_softmax", WRONG_SOFTMAX), replace_cell_source("test_my_softmax", "pass\n")],
         NO_SOFTMAX, notes=("edited read-only cells restored: test_my_softmax",),
         fair="edit undone, graded: 0"),
    Case("stripped_test", "test_model cell unlocked (metadata removed) and emptied, model wrong",
         [answer("my_model", WRONG_MODEL),
          replace_cell_source("test_model", "pass\n", strip_metadata=True)],
         NO_MODEL, notes=("deleted cells restored: test_model",), fair="test restored, graded: 0"),
    Case("fake_test_cell", "extra cell claiming grade_id test_my_softmax, softmax wrong",
         [answer("my_softmax", WRONG_SOFTMAX),
          insert_after("test_my_softmax", "pass\n", fake_grade_id="test_my_softmax")],
         NO_SOFTMAX, notes=("duplicate cells ignored: test_my_softmax",),
         fair="fake cell ignored, real test graded: 0"),
    Case("redefine_tests", "my_softmax cell redefines test_my_softmax and test_model, both wrong",
         [answer("my_softmax", WRONG_SOFTMAX + "\ndef test_my_softmax(f):\n    pass\n\n"
                 "def test_model(*args, **kwargs):\n    pass\n"),
          answer("my_model", WRONG_MODEL)],
         {"test_my_softmax": 0.0, "test_model": 0.0}, notes=("GUARD-UNDONE", " test_model"),
         fair="names restored before the tests: both parts 0"),
    Case("extra_cell_redefine", "an extra student cell redefines test_my_softmax, softmax wrong",
         [answer("my_softmax", WRONG_SOFTMAX),
          insert_after("my_softmax", "def test_my_softmax(f):\n    pass\n")],
         NO_SOFTMAX, notes=("extra cell",), fair="extra cell not graded: 0"),
    Case("patch_public_tests", "monkeypatches public_tests from the softmax cell, softmax wrong",
         [answer("my_softmax", WRONG_SOFTMAX + "\nimport public_tests, public_tests.softmax_tests\n"
                 "public_tests.test_my_softmax = lambda f: None\n"
                 "public_tests.softmax_tests.test_my_softmax = lambda f: None\n"
                 "test_my_softmax = lambda f: None\n")],
         NO_SOFTMAX, notes=("public_tests.test_my_softmax",), fair="patch undone before the test: 0"),
    Case("patch_numpy", "monkeypatches numpy.allclose/isclose/testing from the softmax cell, softmax wrong",
         [answer("my_softmax", WRONG_SOFTMAX + "\nimport numpy\n"
                 "numpy.allclose = lambda *a, **k: True\n"
                 "numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)\n"
                 "numpy.testing.assert_allclose = lambda *a, **k: None\n")],
         NO_SOFTMAX, notes=("numpy.allclose",), fair="patch undone before the test: 0"),
    Case("ipython_hooks", "hides test errors with IPython hooks (custom exception handler, input transformer)",
         [answer("my_softmax", WRONG_SOFTMAX + "\nip = get_ipython()\n"
                 "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
                 "ip.input_transformers_cleanup.append(\n"
                 "    lambda lines: ['pass\\n'] if any('test_my_softmax' in l for l in lines) else lines)\n")],
         NO_SOFTMAX, notes=("IPython",), fair="hooks removed before the test: 0"),
    Case("attack_guard", "replaces the grader's own guard in the kernel, softmax wrong",
         [answer("my_softmax", WRONG_SOFTMAX + "\nimport sys\n"
                 "sys.modules['_course_guard'].before_test = lambda nonce: 'GUARD-OK'\n"
                 "import numpy\nnumpy.allclose = lambda *a, **k: True\n")],
         NO_SOFTMAX, notes=("guard did not answer",),
         fair="noted for review; the verdicts are judged outside the kernel: the wrong softmax 0, "
              "the right model full marks"),
    Case("overwrite_data", "overwrites the course data file and a utils module from the softmax cell",
         [answer("my_softmax", GOOD_SOFTMAX + "\nimport pathlib, utils\n"
                 "root = pathlib.Path(utils.__file__).parent\n"
                 "(root / 'data' / 'digits_y.npy').write_bytes(b'not the labels')\n"
                 "(root / 'plots.py').write_text('raise ImportError(\"sabotage\")\\n')\n")],
         FULL, notes=("review:",),
         fair="only the submission's private copy is damaged; its own grade is unaffected here, "
              "installed files and other students untouched"),
]
