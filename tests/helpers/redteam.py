"""Red-team escape attempts: each one student's submission of the graded lab.

These go beyond helpers/escapes.py (which reads files, opens loopback ports, kills the
coordinator, fork-bombs and allocates). Every attempt sits in the ``my_softmax`` answer cell
and prints ``ESCAPE <label>: OK <what it got>`` or ``ESCAPE <label>: BLOCKED <error>`` per
try, with the escape cases' prelude; tests/grading/isolation/test_redteam.py reads those lines back from the
autograded notebook and checks the host independently.

Every attempt is bounded: a few hundred MB at most on disk, memory within the test's 1 GiB
limit plus a margin, one busy process for at most two minutes, loopback/abstract sockets only.
"""
from __future__ import annotations

from dataclasses import dataclass

from helpers.escapes import attempt_code, prelude
from helpers.faults import FULL, GOOD_SOFTMAX, NO_SOFTMAX, WRONG_SOFTMAX, Case, answer

#: argument of the processes the lingering attempt leaves behind (found with psutil afterwards)
LINGER_MARKER = "redteam-linger-5150"
#: lines and characters per line of the output bomb (one huge line each: LimitOutput counts lines)
BOMB_LINES, BOMB_CHARS = 6, 16 << 20
#: files and bytes per file written into the shared ipc folder (each below the file-size limit)
FILL_FILES, FILL_BYTES = 4, 48 << 20

PRELUDE = prelude(3000)


@dataclass(frozen=True)
class RedTargets:
    """What the attempts aim at on the grader's machine."""

    secret_name: str  # an environment variable of the grader (the coordinator)
    secret: str  # its value: must never show up in a notebook
    abstract_name: str  # an abstract Unix socket the test listens on (no file behind it)


def _code(body: str, softmax: str = GOOD_SOFTMAX) -> str:
    return attempt_code(body, PRELUDE, softmax)


# a process that ignores SIGTERM/SIGHUP, leaves the session, and keeps changing its pid by
# forking and exiting in a loop ("pid hopping"): a killer that reads pids then signals them
# keeps shooting at processes that are already gone. Bounded: it stops after 120 s.
HOPPER = '''
import os, signal, time
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(s, signal.SIG_IGN)
os.setsid()
end = time.time() + 120
while time.time() < end:
    try:
        pid = os.fork()
    except OSError:
        time.sleep(0.001)
        continue
    if pid:
        os._exit(0)
'''

# a double-forked sleeper in its own session that ignores SIGTERM (re-parented to init)
SLEEPER = '''
import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
time.sleep(150)
'''


#: a submission whose notebook is a symlink to the instructor's source notebook (solutions):
#: planted by the test in submitted/ (an archive or rsync that keeps symlinks brings it there)
SYMLINK_STUDENT = "rt_symlink_notebook"


def redteam_cases(t: RedTargets) -> list[Case]:
    """One Case per attempt. ``extra['blocked']`` lists labels that must print BLOCKED."""
    return [
        Case("rt_honest", "an honest student graded in the same batch", [], FULL),
        Case("rt_pid1_environ", "reads the grader's environment from the sandbox's pid 1 (bwrap's init)",
             [answer("my_softmax", _code(f'''
            def grep_secret():
                env = open("/proc/1/environ", "rb").read().split(b"\\0")
                return [v.decode() for v in env if v.startswith(b"{t.secret_name}=")]
            attempt("pid1 environ", grep_secret)
            attempt("pid1 cmdline", lambda: open("/proc/1/cmdline", "rb").read().count(b"\\0"))
            def seize():
                import ctypes
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.ptrace(0x4206, 1, 0, 0) != 0:  # PTRACE_SEIZE: attach without stopping it
                    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
                libc.ptrace(17, 1, 0, 0)  # PTRACE_DETACH
                return "seized pid 1"
            attempt("pid1 ptrace", seize)
            '''))], FULL, extra={"blocked": ["pid1 ptrace"]}),
        Case("rt_hijack_tests", "wrong softmax; replaces the kernel's execute_request handler so the "
             "test cell's code is swapped for `pass` before it runs (a forged 'ok' reply)",
             [answer("my_softmax", WRONG_SOFTMAX + '''
_kernel = get_ipython().kernel
_real = _kernel.shell_handlers["execute_request"]
def _hijack(stream, ident, parent):
    if "test_my_softmax(" in parent["content"].get("code", ""):
        parent["content"]["code"] = "pass"
    return _real(stream, ident, parent)
_kernel.shell_handlers["execute_request"] = _hijack
''')], NO_SOFTMAX),
        Case("rt_forge_replies", "wrong softmax; wraps the kernel's Session.send so error outputs "
             "are dropped and error replies are sent as 'ok' (forged messages to nbgrader's client)",
             [answer("my_softmax", WRONG_SOFTMAX + '''
_kernel = get_ipython().kernel
_send = _kernel.session.send
def _forge(stream, msg_or_type, content=None, parent=None, *args, **kwargs):
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type["header"]["msg_type"]
    if kind == "error":
        return None
    if kind == "execute_reply" and isinstance(content, dict) and content.get("status") == "error":
        content = {"status": "ok", "execution_count": content.get("execution_count"),
                   "user_expressions": {}, "payload": []}
    return _send(stream, msg_or_type, content, parent, *args, **kwargs)
_kernel.session.send = _forge
''')], NO_SOFTMAX),
        Case("rt_ipc_fill", "writes files into the ipc socket folder, the one host folder bound "
             "writable into the sandbox (host disk, not the size-limited tmpfs)",
             [answer("my_softmax", _code(f'''
            from ipykernel.connect import get_connection_file
            ipc = os.path.dirname(get_connection_file())
            def fill():
                total = 0
                for i in range({FILL_FILES}):
                    with open(os.path.join(ipc, f"fill-{{i}}.bin"), "wb") as fh:
                        for _ in range({FILL_BYTES} >> 20):
                            fh.write(b"x" * (1 << 20))
                    total += os.path.getsize(os.path.join(ipc, f"fill-{{i}}.bin"))
                return total
            attempt("ipc fill", fill)
            attempt("ipc filesystem size", lambda: os.statvfs(ipc).f_blocks * os.statvfs(ipc).f_frsize)
            attempt("ipc folder", lambda: ipc)
            '''))], FULL),
        Case("rt_output_bomb", "prints a few huge single-line outputs (a notebook-size bomb for the "
             "coordinator and the autograded/ folder)",
             [answer("my_softmax", _code(f'''
            for _ in range({BOMB_LINES}):
                print("x" * {BOMB_CHARS})
            '''))], FULL),
        Case("rt_linger", "starts a pid-hopping process and a double-forked sleeper, both in new "
             "sessions and ignoring SIGTERM, meant to outlive the batch",
             [answer("my_softmax", _code(f'''
            def spawn(src):
                return subprocess.Popen([sys.executable, "-c", src, "{LINGER_MARKER}"],
                                        start_new_session=True, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
            attempt("hopper", lambda: spawn({HOPPER!r}))
            attempt("sleeper", lambda: spawn({SLEEPER!r}))
            '''))], FULL, extra={"ok": ["hopper", "sleeper"]}),
        Case("rt_abstract_socket", "connects to an abstract Unix socket of the host (no file: "
             "only the network namespace separates it)",
             [answer("my_softmax", _code(f'''
            def connect(name):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(3)
                s.connect(name)
                s.sendall(b"escaped")
                return "connected"
            attempt("abstract", lambda: connect("\\0" + {t.abstract_name!r}))
            attempt("abstract dgram", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    .sendto(b"escaped", "\\0" + {t.abstract_name!r}))
            '''))], FULL, extra={"blocked": ["abstract", "abstract dgram"]}),
        Case("rt_dev_shm", "fills /dev/shm (bubblewrap's /dev tmpfs has no size option) past the "
             "memory limit", [answer("my_softmax", _code('''
            def shm():
                total = 0
                for i in range(48):  # 1.5 GiB in 32 MiB files, over the 1 GiB limit
                    with open(f"/dev/shm/redteam-{i}", "wb") as fh:
                        fh.write(b"x" * (32 << 20))
                    total += 32
                return f"wrote {total} MB"
            attempt("dev shm", shm)
            '''))], NO_SOFTMAX, extra={"blocked": ["dev shm"]}),
        Case("rt_rlimits", "raises its own rlimits back (file size, core dumps, CPU) and writes past "
             "the file-size limit", [answer("my_softmax", _code('''
            import resource
            inf = resource.RLIM_INFINITY
            attempt("raise fsize", lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (inf, inf)))
            attempt("raise core", lambda: resource.setrlimit(resource.RLIMIT_CORE, (inf, inf)))
            attempt("raise cpu", lambda: resource.setrlimit(resource.RLIMIT_CPU, (inf, inf)))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            def big():
                with open("/tmp/big.bin", "wb") as fh:
                    for _ in range(80):
                        fh.write(b"x" * (1 << 20))
                return os.path.getsize("/tmp/big.bin")
            attempt("big file", big)
            '''))], FULL, extra={"blocked": ["raise fsize", "raise core", "raise cpu", "big file"]}),
        Case("rt_setuid", "uses the setuid-root binaries of the read-only system (mount, su)",
             [answer("my_softmax", _code('''
            def run(*cmd):
                os.makedirs("/tmp/m", exist_ok=True)
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
                if p.returncode != 0:
                    raise PermissionError(f"exit {p.returncode}: {p.stderr.strip()[:200]}")
                return p.stdout
            attempt("mount", lambda: run("/usr/bin/mount", "-t", "tmpfs", "none", "/tmp/m"))
            attempt("su", lambda: run("/usr/bin/su", "-c", "id -u"))
            attempt("no_new_privs", lambda: [l for l in open("/proc/self/status") if l.startswith("NoNewPrivs")])
            '''))], FULL, extra={"blocked": ["mount", "su"]}),
    ]
