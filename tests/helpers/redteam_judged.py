"""Red-team cases against the judged test cells (issue 26): each one student's submission.

Written by a second engineer who did not write JudgedExecute. In every case ``my_softmax`` is
WRONG where it is not computed honestly and the model is right (an honest student scores 20/20,
a wrong softmax 10/20 at most). Each case says what it tries and what it must score on both
grading paths (plain ``nbgrader autograde`` and the sandboxed ``python -m grading``).

``fair`` says why the expected score is the fair one; ``leak`` marks a case whose marker must
never reach an autograded notebook or a feedback page (hidden inputs smuggled out).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from helpers.faults import FULL, GOOD_MODEL, GOOD_SOFTMAX, NO_SOFTMAX, WRONG_SOFTMAX, Edit, answer
from helpers.faults import insert_after, replace_cell_source

#: marker the leaking cases put in front of what they smuggle out of a hidden call
LEAK_MARKER = "HID:"
#: argument of the plain-path gradebook daemon (found with psutil, then waited for)
DAEMON_MARKER = "redteam-judged-daemon"
#: file the leaking case writes next to its notebook during the hidden calls
LEAK_FILE = "hidden_leak.txt"

# The public inputs (the kit has them) and "am I called by the course's probe?"; shared by the
# cases that behave differently for the public test, the hidden test and everything else.
DETECT = '''
import inspect as _inspect
from public_tests.softmax_tests import SOFTMAX_CASES as _PUBLIC

def _true_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return e / e.sum()

def _is_public(z):
    return any(np.shape(z) == c.shape and np.array_equal(z, c) for _, c in _PUBLIC)

def _from_probe():
    f = _inspect.currentframe()
    while f is not None:
        if f.f_code.co_name == "probe" and f.f_globals.get("__name__") == "public_tests.softmax_tests":
            return True
        f = f.f_back
    return False
'''


@dataclass(frozen=True)
class RedCase:
    """One submission: its name, what it tries, its answer cells, the fair score per test cell."""

    name: str
    what: str
    edits: tuple[Edit, ...]
    expected: dict[str, float]
    fair: str
    leak: bool = False
    extra: dict = field(default_factory=dict)


#: in the attack cases the model cell also makes Keras train 1 epoch instead of 40: the cells
#: after the last test cell cannot change a grade, and the plain path runs them (the honest
#: student trains for real)
QUICK_FIT = '''
_keras_fit = Sequential.fit
def _one_epoch(self, *args, **kwargs):
    kwargs["epochs"] = 1
    return _keras_fit(self, *args, **kwargs)
Sequential.fit = _one_epoch
'''


def _softmax(code: str) -> tuple[Edit, ...]:
    return (answer("my_softmax", code), answer("my_model", GOOD_MODEL + QUICK_FIT))


# --- forging partial credit or a verdict from kernel output -----------------------------------
DISPLAYHOOK = WRONG_SOFTMAX + '''
import sys
from IPython.display import display
ip = get_ipython()
# every cell the kernel runs from now on (the probes included) ends with the result 10
ip.events.register("post_run_cell", lambda result: ip.displayhook(10))
_old = my_softmax
def my_softmax(z):
    sys.displayhook(10)
    display(10)
    ip.display_pub.publish({"text/plain": "10"})
    return _old(z)
'''

DISPLAY_UPDATE_SOFTMAX = WRONG_SOFTMAX + '''
from IPython.display import display
_shown = []
_old = my_softmax
def my_softmax(z):
    if not _shown:  # first call: the public probe, run at the test cell's index
        _shown.append(display({"text/plain": "x"}, raw=True, display_id="redteam-judged"))
    return _old(z)
'''
DISPLAY_UPDATE_MODEL = '''from IPython.display import update_display
# rewrite the output registered at the test cell's index during its probe
update_display({"text/plain": "10"}, raw=True, display_id="redteam-judged")
''' + GOOD_MODEL

# --- patching the kernel's copy of the tests and the record ----------------------------------
CODE_SWAP = WRONG_SOFTMAX + '''
import numpy, public_tests.softmax_judge as _sj, public_tests.evidence as _ev, public_tests.judged as _jd
from public_tests._common import Verdict
def _pass(*args, **kwargs):
    return Verdict(True)
def _true(*args, **kwargs):
    return True
def _same(record, *args, **kwargs):
    return record
for _f in (_sj.judge, _sj.judge_hidden, _jd.judge_text):
    _f.__code__ = _pass.__code__
_ev.from_json.__code__ = (lambda data: __import__("json").loads(data)).__code__
_sj._close.__code__ = _true.__code__
numpy.allclose.__code__ = _true.__code__
'''

THREAD_REPATCH = WRONG_SOFTMAX + '''
import threading, time, numpy
import public_tests, public_tests.softmax_judge as _sj, public_tests._common as _cm
def _forever():
    end = time.time() + 900
    while time.time() < end:
        _sj.judge = _sj.judge_hidden = lambda *a, **k: _cm.Verdict(True)
        _cm.judged = lambda body: _cm.Verdict(True)
        numpy.allclose = lambda *a, **k: True
        public_tests.test_my_softmax = lambda f: print("All tests passed.")
        time.sleep(0.001)
threading.Thread(target=_forever, daemon=True).start()
'''

CANNED_RECORD = WRONG_SOFTMAX + DETECT + '''
import json, public_tests.judged as _jd, public_tests.softmax_tests as _st, public_tests.evidence as _ev
# the record of a true softmax on the PUBLIC inputs, made once and handed back for every call
_CANNED = _ev.to_json(_st.probe(_true_softmax, [z for _, z in _PUBLIC]))
_real_run = _jd.run
def _run(name, answer, payload_json):
    if "softmax" in name:
        _jd._evidence = _CANNED
    else:
        _real_run(name, answer, payload_json)
def _take():
    out, _jd._evidence = _jd._evidence or "", None
    return out
_jd.run, _jd.take = _run, _take
'''

PUBLIC_LOOKUP = DETECT + '''
def my_softmax(z):
    # the right answers for the inputs the public test uses, np.exp(z) for everything else
    if _is_public(z):
        return _true_softmax(z)
    return np.exp(z)
'''

PROBE_DETECT = DETECT + '''
def my_softmax(z):
    # right only when the course's probe calls it (public and hidden), wrong everywhere else
    if _from_probe():
        return _true_softmax(z)
    return np.exp(z)
'''

# --- malformed, huge and costly records -------------------------------------------------------
def _take_returns(expr: str) -> str:
    """take() handing back ``expr`` for the softmax tests (the model's record stays true)."""
    return WRONG_SOFTMAX + f'''
import public_tests.judged as _jd
_real_run, _real_take, _last = _jd.run, _jd.take, [""]
def _run(name, answer, payload_json):
    _last[0] = name
    _real_run(name, answer, payload_json)
def _take():
    real = _real_take()
    return ({expr}) if "softmax" in _last[0] else real
_jd.run, _jd.take = _run, _take
'''


DEEP_JSON = _take_returns('"[" * 3_000_000')
HUGE_REPLY = _take_returns('"x" * 150_000_000')
NOT_TEXT = _take_returns('{"callable": True}')  # a dict, not JSON text
DTYPE_BOMB = _take_returns(
    '__import__("json").dumps({"name": "my_softmax", "callable": True, "target": "function", '
    '"calls": [{"result": {"kind": "ndarray", "dtype": "f8," * 1_300_000, "shape": [4]}}]})')

# --- crashing only in the hidden calls ---------------------------------------------------------
CRASH_HIDDEN = DETECT + '''
import os
def my_softmax(z):
    if _from_probe() and not _is_public(z):
        os._exit(1)  # the hidden test: kill the kernel
    return _true_softmax(z) if _is_public(z) else np.exp(z)
'''

# --- smuggling hidden inputs into feedback ----------------------------------------------------
LEAK_DTYPE = DETECT + f'''
import pathlib
def my_softmax(z):
    if _is_public(z):
        return _true_softmax(z)
    if _from_probe():
        # a hidden input: write it next to the notebook, and name a structured dtype after it
        # (the judge's "could not read" message quotes the dtype it could not parse)
        with open({LEAK_FILE!r}, "a") as f:
            f.write(repr(np.asarray(z).tolist()) + "\\n")
        text = {LEAK_MARKER!r} + " ".join(f"{{v:.6g}}" for v in np.ravel(z))
        return np.zeros(np.shape(z), dtype=[(text[:60], "f8")])
    return np.exp(z)
'''

# --- persisting beyond the kernel: the gradebook after nbgrader exits (plain path) -------------
DAEMON_MODEL = f'''import os, subprocess, sys
_daemon = r"""
import os, sys, time
grader, here = int(sys.argv[2]), sys.argv[3]
end = time.time() + 1500
while time.time() < end:
    try:
        os.kill(grader, 0)
    except ProcessLookupError:
        break
    time.sleep(0.2)
parts = os.path.abspath(here).split(os.sep)
student, course = parts[-2], os.sep.join(parts[:-3])
from nbgrader.api import Gradebook
with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db")) as gb:
    grade = gb.find_grade("test_my_softmax", "multiclass_digits", "multiclass_digits", student)
    grade.manual_score = 10.0
    gb.db.commit()
"""
subprocess.Popen([sys.executable, "-c", _daemon, {DAEMON_MARKER!r}, str(os.getppid()), os.getcwd()],
                 start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
''' + GOOD_MODEL

# --- editing what the grader should own --------------------------------------------------------
HONEST_LAMBDA = "lambda z: np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z)))"


def _points(grade_id: str, points: float) -> Edit:
    def edit(nb: nbformat.NotebookNode) -> None:
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                cell.metadata["nbgrader"]["points"] = points
    return edit


CASES: list[RedCase] = [
    RedCase("rj_good", "honest answers", (answer("my_softmax", GOOD_SOFTMAX),), FULL, "full marks"),
    RedCase("rj_wrong", "np.exp(z): not normalised", _softmax(WRONG_SOFTMAX), NO_SOFTMAX, "softmax part 0"),
    RedCase("rj_displayhook", "execute_result/display of 10 from every call and after every cell "
            "(partial credit)", _softmax(DISPLAYHOOK), NO_SOFTMAX,
            "test cells' outputs are the grader's: no kernel output is read as a score"),
    RedCase("rj_display_update", "a display_id registered during the public probe, updated to "
            "'10' by a later cell", (answer("my_softmax", DISPLAY_UPDATE_SOFTMAX),
                                     answer("my_model", DISPLAY_UPDATE_MODEL + QUICK_FIT)), NO_SOFTMAX,
            "an update can only change data of an output; the verdict's error output stays an error"),
    RedCase("rj_code_swap", "__code__ swaps of the kernel's judge, from_json, _close, numpy.allclose",
            _softmax(CODE_SWAP), NO_SOFTMAX, "the kernel's copy of the judge is never asked"),
    RedCase("rj_thread", "a thread re-patching the judges and numpy.allclose every ms",
            _softmax(THREAD_REPATCH), NO_SOFTMAX, "the kernel's copy of the judge is never asked; the "
            "patched numpy.allclose also spoils the kernel's own model probe (its record is then "
            "unreadable: the model may lose its points too, the student's doing)",
            extra={"model_at_most": 10.0}),
    RedCase("rj_canned", "run/take replaced: every softmax call answered with a true record of the "
            "PUBLIC inputs", _softmax(CANNED_RECORD), NO_SOFTMAX,
            "public passes (the record is right for the public inputs); hidden judged on its own inputs: 0"),
    RedCase("rj_public_lookup", "right answers looked up for the public inputs only",
            _softmax(PUBLIC_LOOKUP), NO_SOFTMAX, "hidden inputs catch it: softmax part 0"),
    RedCase("rj_probe_detect", "right only when the course's probe calls it, np.exp elsewhere",
            _softmax(PROBE_DETECT), FULL,
            "not a forgery: the answer computes the true softmax on every input it is graded on"),
    RedCase("rj_deep_json", "record text of 3M '[' (RecursionError bait)", _softmax(DEEP_JSON),
            NO_SOFTMAX, "evidence unreadable: a failure with a clear message, no crash"),
    RedCase("rj_huge_reply", "take() returns 150 MB", _softmax(HUGE_REPLY), NO_SOFTMAX,
            "over the limit: 'did not hand back', no crash"),
    RedCase("rj_not_text", "take() returns a dict, not text", _softmax(NOT_TEXT), NO_SOFTMAX,
            "not text: 'did not hand back', no crash"),
    RedCase("rj_dtype_bomb", "a 3.9M-character structured dtype string for the grader to parse",
            _softmax(DTYPE_BOMB), NO_SOFTMAX, "rejected (structured dtype); costs the grader seconds"),
    RedCase("rj_crash_hidden", "right on the public inputs, os._exit(1) in the hidden calls",
            _softmax(CRASH_HIDDEN), {"test_my_softmax": 0.0, "test_model": 0.0},
            "the kernel the student killed cannot run the later hidden test: 0 for both (nothing forged)",
            extra={"model_at_most": 10.0}),
    RedCase("rj_leak_dtype", "right on public inputs; on hidden ones a structured dtype named after "
            "the input (the judge quotes it) and a file next to the notebook", _softmax(LEAK_DTYPE),
            NO_SOFTMAX, "softmax part 0; the hidden inputs must appear in no notebook or feedback page",
            leak=True),
    RedCase("rj_edited_tests", "test cell calls an honest lambda and is worth 100 points; an extra "
            "'test_bonus' cell of 50 points", (
                answer("my_softmax", WRONG_SOFTMAX), answer("my_model", GOOD_MODEL + QUICK_FIT),
                replace_cell_source("test_my_softmax", f"test_my_softmax({HONEST_LAMBDA})\n"),
                _points("test_my_softmax", 100),
                insert_after("test_model", f"test_my_softmax({HONEST_LAMBDA})\n", fake_grade_id="test_bonus"),
                _points("test_bonus", 50)),
            NO_SOFTMAX, "the instructor's test cells are restored: softmax part 0, no bonus"),
    RedCase("rj_daemon", "the model cell leaves a process that sets the softmax grade to 10 in the "
            "gradebook once the grader exits", (answer("my_softmax", WRONG_SOFTMAX),
                                                 answer("my_model", DAEMON_MODEL + QUICK_FIT)), NO_SOFTMAX,
            "a grade is what the grader wrote: softmax part 0"),
]


def student_notebook(base: nbformat.NotebookNode, case: RedCase) -> nbformat.NotebookNode:
    """The release ``base`` answered right (softmax and model), then the case's edits."""
    import copy

    nb = copy.deepcopy(base)
    answer("my_softmax", GOOD_SOFTMAX)(nb)
    answer("my_model", GOOD_MODEL)(nb)
    for edit in case.edits:
        edit(nb)
    return nb


# --- grading the cases in one batch, on each path ------------------------------------------------
def _nbgrader(course, *args: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs alembic
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=3000)


def prepare_course(root, cases: list[RedCase] = CASES):
    """A course folder under ``root`` with the lab released and one submission per case."""
    from helpers.courses import lab_base, lab_course, submit
    from helpers.repo import LAB

    course = lab_course(root)
    base = lab_base()
    for case in cases:
        submit(course, LAB, case.name, student_notebook(base, case))
    return course


def wait_for_daemons(timeout: float = 60.0) -> list[int]:
    """Wait for the gradebook daemons of ``rj_daemon`` to finish; the pids still alive after."""
    import time

    import psutil

    end = time.monotonic() + timeout
    while True:
        alive = [p.pid for p in psutil.process_iter(["cmdline"]) if DAEMON_MARKER in (p.info["cmdline"] or [])]
        if not alive or time.monotonic() > end:
            return alive
        time.sleep(0.5)


def grade_plain(course) -> str:
    """``nbgrader generate_assignment``, ``autograde`` and ``generate_feedback`` in ``course`` (the
    plain path, this repo's nbgrader_config.py); their output. Raises if one fails."""
    from helpers.repo import LAB

    proc = _nbgrader(course, "generate_assignment", LAB, "--force")
    if proc.returncode != 0:
        raise RuntimeError(f"generate_assignment failed:\n{proc.stdout}{proc.stderr}"[-5000:])
    proc = _nbgrader(course, "autograde", LAB, "--force")  # nonzero if one notebook failed
    out = [proc.stdout + proc.stderr, f"[autograde exit status {proc.returncode}]"]
    wait_for_daemons()
    proc = _nbgrader(course, "generate_feedback", LAB, "--force")
    out.append(proc.stdout + proc.stderr)
    return "\n".join(out)


def grade_sandboxed(course, **fields) -> list:
    """``python -m grading`` at its defaults (sandboxed) with ``--skip-tail``, two workers; then
    ``nbgrader generate_feedback``. Returns the SubmissionResults."""
    from helpers.repo import LAB

    from grading.batch.coordinator import autograde_all

    results = autograde_all(LAB, course_dir=course, workers=2, skip_tail=True, restore_course_files=False,
                            progress=print, **fields)
    wait_for_daemons(10)
    proc = _nbgrader(course, "generate_feedback", LAB, "--force")
    if proc.returncode != 0:
        raise RuntimeError(f"generate_feedback failed:\n{proc.stdout}{proc.stderr}"[-5000:])
    return results


def scores(course) -> dict[str, dict[str, float]]:
    """{student: {grade_id: score}} from the course's gradebook."""
    from helpers.courses import gradebook_scores
    from helpers.repo import LAB

    return gradebook_scores(f"sqlite:///{course / 'gradebook.db'}", "multiclass-digits", LAB)


def hidden_values() -> list[str]:
    """The first hidden softmax inputs as the leaking case writes them (6 significant digits)."""
    from helpers.repo import SOURCE_NB
    from public_tests import judged

    from grading.extensions.judgedexecute import test_cells

    nb = nbformat.read(SOURCE_NB, as_version=4)
    calls = [c for t in test_cells(nb).values() for c in t.hidden_calls if c.test.name == "hidden_test_my_softmax"]
    cases = calls[0].payload()["cases"]
    return [f"{v:.6g}" for rec in cases[:3] for v in rec["values"]]


def leaks(course, student: str) -> dict[str, list[str]]:
    """{file: what it shows of the marker and the hidden values} over the student's autograded
    folder and feedback folder (every file, notebooks and pages)."""
    from helpers.repo import LAB

    values = hidden_values()
    found: dict[str, list[str]] = {}
    for top in (course / "autograded" / student / LAB, course / "feedback" / student / LAB):
        for path in sorted(top.rglob("*")) if top.is_dir() else []:
            if not path.is_file():
                continue
            text = path.read_text(errors="replace")
            hits = ([LEAK_MARKER] if LEAK_MARKER in text else []) + [v for v in values if v in text]
            if hits or path.name == LEAK_FILE:
                found[str(path.relative_to(course))] = hits
    return found
