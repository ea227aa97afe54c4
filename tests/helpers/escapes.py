"""Escape attempts against the grading sandbox, each one student's submission of the toy
assignment (:func:`helpers.courses.toy_source`), and the plumbing shared with the red-team
attempts (:mod:`helpers.redteam`) and the forgeries (:mod:`helpers.forgeries`).

The attempts test the sandbox, not the lab: the toy's kernel starts in a second where the lab's
imports TensorFlow, and it gets the same sandbox, the same copy of the course packages and the
same limits. Every attempt sits in the toy's first answer cell (:data:`ESCAPE_CELL`), after a
correct ``my_add``, and prints one ``ESCAPE <label>: OK <what it got>`` or
``ESCAPE <label>: BLOCKED <error>`` line per try (:func:`prelude`). The tests
(tests/grading/isolation/test_sandbox.py) read those lines back from the autograded notebook
(:func:`attempt_lines`) and also check the host independently (files unchanged, no
connection accepted by :func:`accept_in_background`, no process left).

The attempts need to know where the real things are (the course folder, the coordinator's
pid, a loopback port that listens): :class:`Targets` carries them into the code, as a
student who guessed right would have them.
"""
from __future__ import annotations

import socket
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.courses import TOY_ADD, toy_submission
from helpers.faults import GOOD_SOFTMAX, Case, answer
from helpers.notebooks import read_cell, stream_text
from helpers.repo import LAB

MARKER = "4242.0917"  # argument of the `sleep` processes the fork bomb leaves behind

TOY = "toy"  # the assignment the escape attempts are handed in for
ESCAPE_CELL = "my_add"  # the answer cell that holds every attempt
ESCAPE_TEST = "test_my_add"  # the test cell that grades that answer
#: the toy's fair scores: the honest my_add and my_mul both count (a contained attempt) ...
TOY_FULL = {"test_my_add": 2.0, "test_my_mul": 3.0}
#: ... or the attempt killed its kernel in the my_add cell: my_add is lost, my_mul still graded
TOY_NO_ADD = {"test_my_add": 0.0, "test_my_mul": 3.0}


def prelude(limit: int) -> str:
    """Kernel code defining ``attempt(label, fn)``: run ``fn`` and print one ESCAPE line,
    OK with its result or BLOCKED with the exception, cut to ``limit`` characters."""
    return f'''
import os, sys, signal, socket, subprocess
def attempt(label, fn):
    try:
        print(f"ESCAPE {{label}}: OK {{fn()!r}}"[:{limit}])
    except BaseException as exc:
        print(f"ESCAPE {{label}}: BLOCKED {{type(exc).__name__}}: {{exc}}"[:{limit}])
'''


def attempt_code(body: str, prelude_code: str, correct: str = GOOD_SOFTMAX) -> str:
    """An answer cell: ``correct`` (the student's answer, by default the lab's my_softmax),
    the prelude, then the attempt."""
    return correct + prelude_code + textwrap.dedent(body)


def attempt_lines(notebook: Path, gid: str = "my_softmax") -> dict[str, str]:
    """{label: outcome} printed by the attempts in cell ``gid`` of an autograded notebook."""
    out = {}
    for line in stream_text(read_cell(notebook, gid)).splitlines():
        if line.startswith("ESCAPE "):
            label, outcome = line[len("ESCAPE "):].split(": ", 1)
            out[label] = outcome
    return out


def accept_in_background(listener: socket.socket) -> list:
    """Accept connections on ``listener`` in a daemon thread until it is closed; return the
    list the accepted ``(connection, address)`` pairs go to (empty: nothing got through)."""
    accepted: list = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept())
            except OSError:  # closed by the test
                return

    threading.Thread(target=accept, daemon=True).start()
    return accepted


# file helpers of the sandbox escape attempts, after the prelude
FILE_HELPERS = '''def read(path):
    with open(path, "rb") as fh:
        return len(fh.read())
def write(path):
    with open(path, "w") as fh:
        fh.write("escaped")
    return path
def find(suffix, roots=("/",), skip=("/proc", "/sys", "/usr", "/dev")):
    skip = tuple(skip) + (sys.prefix, sys.base_prefix)
    hits = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not os.path.join(folder, d).startswith(skip)]
            hits += [os.path.join(folder, f) for f in files if f.endswith(suffix)]
    return hits
'''
PRELUDE = prelude(5000) + FILE_HELPERS


@dataclass(frozen=True)
class Targets:
    """What the attempts aim at, as absolute paths and numbers on the grader's machine."""

    course: str  # the course directory of the batch
    repo: str  # the repository (release/, the installed packages)
    utils_dir: str  # the installed utils package
    site_packages: str  # the grader's virtual environment
    coordinator: int  # pid of the process running the batch
    loopback_port: int  # a port the test listens on at 127.0.0.1
    secret_name: str  # an environment variable of the grader


def _code(body: str) -> str:
    return attempt_code(body, PRELUDE, TOY_ADD)


def escape_notebook(case: Case) -> nbformat.NotebookNode:
    """The toy submission of ``case``: correct answers, then the case's edits."""
    nb = toy_submission()
    for edit in case.edits:
        edit(nb)
    return nb


def escape_cases(t: Targets) -> list[Case]:
    """One Case per attempt; ``extra['blocked']`` lists the labels that must print BLOCKED,
    ``extra['empty']`` those that must print ``OK []`` (found nothing), ``extra['ok']`` those
    that run (harmlessly). ``extra['self_harm']``: the attempt may cost the submission its own
    points (the fork bomb's sleeping children hold its process quota, so its kernel may fail
    to start threads for the tests, or nbgrader may fail it for manual grading); ``expected``
    is then the most it can get. The repository's own files aimed at are the graded lab's
    (its source and release folders: the toy has none there)."""
    toy, lab, cell = TOY, LAB, ESCAPE_CELL
    return [
        Case("esc_read_solution", "reads the solution notebook and hidden tests", [answer(cell, _code(f'''
            attempt("course source", lambda: read({t.course!r} + "/source/{toy}/{toy}.ipynb"))
            attempt("workspace source", lambda: read("../../../source/{toy}/{toy}.ipynb"))
            attempt("repo source", lambda: read({t.repo!r} + "/source/{lab}/{lab}.ipynb"))
            attempt("own notebook, hidden tests restored", lambda: read("{toy}.ipynb"))
            attempt("any notebook", lambda: find(".ipynb"))
            '''))], TOY_FULL, extra={"blocked": ["course source", "workspace source", "repo source",
                                             "own notebook, hidden tests restored"],
                                 "empty": ["any notebook"]}),
        Case("esc_read_gradebook", "reads the real and the private gradebook", [answer(cell, _code(f'''
            attempt("course gradebook", lambda: read({t.course!r} + "/gradebook.db"))
            attempt("workspace gradebook", lambda: read("../../../gradebook.db"))
            attempt("any database", lambda: find(".db"))
            '''))], TOY_FULL, extra={"blocked": ["course gradebook", "workspace gradebook"],
                                 "empty": ["any database"]}),
        Case("esc_read_other", "reads another student's submission", [answer(cell, _code(f'''
            attempt("submitted", lambda: os.listdir({t.course!r} + "/submitted"))
            attempt("other student", lambda: read({t.course!r} + "/submitted/good/{toy}/{toy}.ipynb"))
            attempt("workspaces", lambda: os.listdir("../../../.."))
            '''))], TOY_FULL, extra={"blocked": ["submitted", "other student"]}),
        Case("esc_write", "writes into the course folder, release/, the packages, the venv",
             [answer(cell, _code(f'''
            attempt("course folder", lambda: write({t.course!r} + "/escaped.txt"))
            attempt("release", lambda: write({t.repo!r} + "/release/{lab}/escaped.txt"))
            attempt("installed utils", lambda: write({t.utils_dir!r} + "/escaped.py"))
            attempt("venv", lambda: write({t.site_packages!r} + "/escaped.py"))
            attempt("root", lambda: write("/escaped.txt"))
            attempt("usr", lambda: write("/usr/escaped.txt"))
            '''))], TOY_FULL, extra={"blocked": ["course folder", "release", "installed utils", "venv",
                                             "root", "usr"]}),
        Case("esc_network", "connects to PostgreSQL, a listening loopback port, the internet",
             [answer(cell, _code(f'''
            def connect(host, port):
                with socket.create_connection((host, port), timeout=3):
                    return "connected"
            attempt("postgres", lambda: connect("127.0.0.1", 5432))
            attempt("loopback port", lambda: connect("127.0.0.1", {t.loopback_port}))
            attempt("loopback ipv6", lambda: connect("::1", {t.loopback_port}))
            attempt("internet", lambda: connect("1.1.1.1", 53))
            attempt("postgres socket", lambda: os.listdir("/var/run/postgresql"))
            '''))], TOY_FULL, extra={"blocked": ["postgres", "loopback port", "loopback ipv6", "internet",
                                             "postgres socket"]}),
        Case("esc_secrets", "reads secrets from its environment and the coordinator's /proc",
             [answer(cell, _code(f'''
            attempt("environ", lambda: sorted(os.environ.items()))
            attempt("secret", lambda: os.environ[{t.secret_name!r}])
            attempt("coordinator cmdline", lambda: open("/proc/{t.coordinator}/cmdline").read())
            attempt("coordinator environ", lambda: open("/proc/{t.coordinator}/environ").read())
            attempt("all cmdlines", lambda: [open(f"/proc/{{p}}/cmdline").read().replace(chr(0), " ")
                                             for p in os.listdir("/proc") if p.isdigit()])
            '''))], TOY_FULL, extra={"blocked": ["secret", "coordinator cmdline", "coordinator environ"]}),
        Case("esc_kill", "kills the coordinator and every process it can see",
             [answer(cell, _code(f'''
            attempt("coordinator", lambda: os.kill({t.coordinator}, signal.SIGKILL))
            attempt("parent", lambda: (os.getppid(), os.kill(os.getppid(), signal.SIGKILL)))
            attempt("visible pids", lambda: sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
            '''))], TOY_FULL, extra={"blocked": ["coordinator"], "ok": ["parent"]}),
        Case("esc_kill_all", "kill(-1, SIGKILL): every process it may signal",
             [answer(cell, _code('''
            attempt("everyone", lambda: os.kill(-1, signal.SIGKILL))
            '''))], TOY_FULL, extra={"blocked": ["everyone"]}),
        Case("esc_fork_bomb", "forks hundreds of detached processes (setsid) that would outlive it",
             [answer(cell, _code(f'''
            def bomb():
                made = refused = 0
                for _ in range(600):
                    try:
                        pid = os.fork()
                    except OSError:
                        refused += 1
                        continue
                    if pid == 0:
                        os.setsid()
                        os.execv("/bin/sleep", ["sleep", "{MARKER}"])
                    made += 1
                return f"made {{made}} refused {{refused}}"
            attempt("fork", bomb)
            '''))], TOY_FULL, extra={"ok": ["fork"], "self_harm": True}),
        Case("esc_memory", "allocates past the memory limit", [answer(cell, _code('''
            hog = []
            for _ in range(400):
                hog.append(b"x" * (100 << 20))
            print("ESCAPE memory: OK allocated", len(hog) * 100, "MB")
            '''))], TOY_NO_ADD, notes=(f"kernel died in {cell}",)),
        Case("esc_big_file", "writes a file past the size limit", [answer(cell, _code('''
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            def big(path):
                with open(path, "wb") as fh:
                    for _ in range(40):
                        fh.write(b"x" * (10 << 20))
                return os.path.getsize(path)
            attempt("big file here", lambda: big("big.bin"))
            attempt("big file tmp", lambda: big("/tmp/big.bin"))
            '''))], TOY_FULL, extra={"blocked": ["big file here", "big file tmp"]}),
    ]
