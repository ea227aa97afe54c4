"""grading.isolation.guard: the kernel-side guard, exercised in a real IPython shell (in a subprocess,
so that the shell's hooks never touch the test process)."""
from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r'''
import json
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
import grading.isolation.guard as guard
g = guard.install(["numpy"], ["json"])
out = {"registered": __import__("sys").modules["_course_guard"] is g}
ip.run_cell("import numpy")
g.before_readonly("r1")
ip.run_cell("def test_x():\n    assert numpy.allclose(1, 2)")
g.after_readonly("r1")
g.before_solution("s1")
ip.run_cell("def helper(x):\n    return x")  # honest answer: nothing to undo
g.after_solution("s1")
out["honest"] = g.before_test("t1")
g.before_solution("s2")
ip.run_cell("numpy.allclose = lambda *a, **k: True\ntest_x = lambda: None\n"
            "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
            "import json\njson.dumps = lambda *a, **k: 'forged'")
g.after_solution("s2")
out["cheat"] = g.before_test("t2")
out["test_raised"] = type(ip.run_cell("test_x()").error_in_exec).__name__
out["json_restored"] = json.dumps([1]) == "[1]"
print("RESULT" + json.dumps(out))
'''


# pyzmq sets a module global on its first zero-copy send (here in the answer cell, as a flood
# of output does in a kernel): the library's own doing, not the student's
LAZY_SCRIPT = r'''
import json
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
import zmq.backend.cython._zmq as backend
out = {"lazy": backend._gc is None}
import grading.isolation.guard as guard
g = guard.install([], [])
g.before_solution("s1")
ip.run_cell("import zmq\nctx = zmq.Context()\na = ctx.socket(zmq.PAIR); a.bind('inproc://t')\n"
            "b = ctx.socket(zmq.PAIR); b.connect('inproc://t')\n"
            "a.send(b'x' * 200000, copy=False); got = len(b.recv())")
g.after_solution("s1")
out["got"] = ip.user_ns["got"]
out["verdict"] = g.before_test("t1")
print("RESULT" + json.dumps(out))
'''


def run_guard_script(script: str = SCRIPT) -> dict:
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT")]
    assert line, proc.stdout + proc.stderr
    return json.loads(line[0][len("RESULT"):])


def test_guard_undoes_only_what_an_answer_cell_changed():
    out = run_guard_script()
    assert out["registered"]
    assert out["honest"] == "GUARD-OK t1"  # silent for honest work
    assert out["cheat"].startswith("GUARD-OK t2 GUARD-UNDONE: ")
    undone = out["cheat"].split("GUARD-UNDONE: ")[1].split(", ")
    for what in ("numpy.allclose", "test_x", "IPython custom exception handler", "json.dumps"):
        assert what in undone, (what, undone)
    assert out["test_raised"] == "AssertionError"  # the real test ran with the real numpy
    assert out["json_restored"]


def test_guard_leaves_pyzmq_lazy_global_alone():
    out = run_guard_script(LAZY_SCRIPT)
    assert out["lazy"] and out["got"] == 200000  # the send really went through pyzmq's lazy path
    assert out["verdict"] == "GUARD-OK t1"


# the walk imports every submodule of a walked package, but the skipped ones and theirs
WALK_SCRIPT = r'''
import json, sys
from IPython.core.interactiveshell import InteractiveShell
InteractiveShell.instance()
import grading.isolation.guard as guard
guard.install([], ["utils"], SKIP)
print("RESULT" + json.dumps(sorted(m for m in sys.modules if m.startswith("utils."))))
'''


def test_guard_walks_every_submodule_but_the_skipped_ones():
    walked = run_guard_script(WALK_SCRIPT.replace("SKIP", "[]"))
    assert {"utils.heldout", "utils.repair.core", "utils.validate_server"} <= set(walked)
    skipped = run_guard_script(WALK_SCRIPT.replace("SKIP", "['utils.repair', 'utils.validate_server']"))
    assert "utils.heldout" in skipped and "utils.refresh" in skipped  # refresh imports repair itself
    assert "utils.validate_server" not in skipped
    assert set(walked) - set(skipped) == {"utils.validate_server"}
