"""Course-scale autograding: many submissions in parallel, one bad submission never costs
another student their grade.

Run it as ``python -m grading.parallel ASSIGNMENT [--workers N] [--db URL] [--course-dir DIR]``.

How one batch runs
------------------
1. A scratch copy of ``source/ASSIGNMENT`` is put through ``nbgrader generate_assignment``
   twice: once against a private *template* SQLite gradebook, once against the real
   gradebook when that does not know the assignment yet. The scratch release notebook is
   the skeleton every submission is rebuilt on.
2. Every student is graded in a private workspace of its own (a temporary course
   directory): the submitted notebook is *rebuilt* on the release skeleton (only the
   source of solution cells comes from the student; extra cells, edited read-only cells,
   deleted or duplicated test cells and stray files are dropped), a private SQLite
   gradebook is copied from the template, and a private copy of the course packages
   (``utils``, ``public_tests``) goes first on the kernel's ``PYTHONPATH``. ``nbgrader
   autograde`` then runs in that workspace as a subprocess in its own session, with a
   wall-clock limit: on timeout the whole process tree (autograde and its kernel) is
   killed.
3. The kernel runs under :class:`GuardedExecute`: before every test cell it undoes what a
   student cell may have done to the grading environment (rebound names from read-only
   cells such as ``test_my_softmax``, monkeypatched module or class attributes such as
   ``numpy.allclose``, IPython hooks that hide errors), and a kernel that dies
   (``os._exit``) is restarted and the cells before it replayed, so only the part that
   killed it loses its points.
4. Only the parent process writes the real gradebook (SQLite or PostgreSQL), one
   submission at a time as results come in: there are no concurrent writers to lose or
   corrupt grades. SQLite is opened with a busy timeout and writes are retried, in case
   an instructor's formgrader holds the database at the same moment.
5. After every submission the installed course packages and data files are compared
   with the bytes read at the start of the batch; anything changed is restored and the
   submission is flagged. Student code is also scanned for risky constructs
   (monkeypatching, ``os._exit``, file writes, ``get_ipython``) and flagged for review.

The summary (student, score, max, status, seconds, notes) is printed and written as CSV
and Markdown next to the autograded notebooks.
"""
from __future__ import annotations

import argparse
import ast
import copy
import concurrent.futures as cf
import csv
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import nbformat

PROTECTED_PACKAGES: tuple[str, ...] = ("utils", "public_tests")
DEFAULT_TIMEOUT = 900.0  # seconds per submission, whole autograde
DEFAULT_CELL_TIMEOUT = 300  # seconds per cell (nbgrader's own default of 30 s is too short for fit)
NOTES_ENV = "COURSE_GRADER_NOTES"
STATUS_OK = "ok"
STATUS_TIMEOUT = "timeout"
STATUS_ERROR = "error"
STATUS_MISSING = "no notebook"


class GradingError(RuntimeError):
    """A batch cannot start (bad course directory, unknown assignment, bad database URL)."""


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass
class SubmissionResult:
    """The outcome of autograding one student's submission."""

    student: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    grades: dict[str, float | None] = field(default_factory=dict)

    def row(self) -> dict[str, str]:
        """The summary-table row of this result."""
        return {
            "student": self.student,
            "score": f"{self.score:g}",
            "max": f"{self.max_score:g}",
            "status": self.status,
            "seconds": f"{self.seconds:.1f}",
            "notes": "; ".join(self.notes),
        }


SUMMARY_FIELDS = ("student", "score", "max", "status", "seconds", "notes")


def write_summary(results: list[SubmissionResult], csv_path: Path, md_path: Path) -> str:
    """Write the summary table as CSV and Markdown; return the Markdown text."""
    rows = [r.row() for r in sorted(results, key=lambda r: r.student)]
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(SUMMARY_FIELDS) + " |", "|" + "---|" * len(SUMMARY_FIELDS)]
    for row in rows:
        cells = [row[f].replace("|", "\\|") for f in SUMMARY_FIELDS]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    md_path.write_text(text, encoding="utf-8")
    return text


# --------------------------------------------------------------------------------------
# Course configuration and gradebook access (parent process only)
# --------------------------------------------------------------------------------------
def course_id_of(course_dir: Path) -> str:
    """The ``CourseDirectory.course_id`` set in the course's nbgrader_config.py, or nbgrader's default."""
    cfg_file = course_dir / "nbgrader_config.py"
    if cfg_file.is_file():
        from traitlets.config.loader import PyFileConfigLoader

        cfg = PyFileConfigLoader(cfg_file.name, path=str(course_dir)).load_config()
        value = cfg.get("CourseDirectory", {}).get("course_id")
        if isinstance(value, str) and value:
            return value
    return "default_course"


def sqlite_url(path: Path) -> str:
    """An SQLAlchemy URL for the SQLite file ``path``."""
    return f"sqlite:///{Path(path).resolve()}"


def _with_busy_timeout(db_url: str) -> str:
    """Add a 60 s busy timeout to SQLite URLs (pysqlite's ``timeout`` connect argument)."""
    if db_url.startswith("sqlite:") and "timeout=" not in db_url:
        return db_url + ("&" if "?" in db_url else "?") + "timeout=60"
    return db_url


def check_db_url(db_url: str) -> str:
    """Fail early, with a clear message, on a database URL nbgrader cannot use."""
    if not db_url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg2://")):
        raise GradingError(
            f"unsupported gradebook URL {db_url!r}: use sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
        )
    if db_url.startswith("postgresql"):
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError

        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise GradingError(f"cannot connect to the gradebook {db_url!r}: {exc.orig}") from None
        finally:
            engine.dispose()
    return db_url


def _retry(fn: Callable[[], object], attempts: int = 8) -> object:
    """Run a gradebook transaction, retrying when the database is momentarily locked."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def gradebook_knows(db_url: str, course_id: str, assignment: str) -> bool:
    """Whether the gradebook already has ``assignment`` (with its notebooks)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(_with_busy_timeout(db_url), course_id) as gb:
        try:
            return len(gb.find_assignment(assignment).notebooks) > 0
        except MissingEntry:
            return False


def read_private_grades(db_path: Path, course_id: str, assignment: str, student: str) -> dict:
    """Grades, comments and late penalties nbgrader stored in a private gradebook."""
    from nbgrader.api import Gradebook

    out: dict = {"notebooks": {}, "timestamp": None}
    with Gradebook(sqlite_url(db_path), course_id) as gb:
        sub = gb.find_submission(assignment, student)
        out["timestamp"] = sub.timestamp
        for nb in sub.notebooks:
            out["notebooks"][nb.name] = {
                "late_penalty": nb.late_submission_penalty,
                "grades": {
                    g.name: (g.auto_score, g.needs_manual_grade, g.max_score) for g in nb.grades
                },
                "comments": {c.name: c.auto_comment for c in nb.comments},
            }
    return out


def record_result(
    db_url: str,
    course_id: str,
    assignment: str,
    student: str,
    private: dict | None,
) -> tuple[float, float, dict[str, float | None]]:
    """Write one submission's grades into the real gradebook (parent process, one at a time).

    ``private`` is what :func:`read_private_grades` returned, or ``None`` when the
    submission could not be graded (timeout, crash): then every autograded cell gets 0
    and is marked for manual review. Returns (score, max_score, {grade_id: auto_score}).
    """
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    def transaction() -> tuple[float, float, dict[str, float | None]]:
        with warnings.catch_warnings(), Gradebook(_with_busy_timeout(db_url), course_id) as gb:
            # nbgrader's own update_or_create_submission triggers a harmless SAWarning
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_student(student)
            ts = private["timestamp"] if private else None
            sub = gb.update_or_create_submission(assignment, student, timestamp=ts)
            seen: dict[str, float | None] = {}
            for nb in sub.notebooks:
                info = (private or {}).get("notebooks", {}).get(nb.name)
                if info is not None:
                    nb.late_submission_penalty = info["late_penalty"]
                for grade in nb.grades:
                    if info is not None and grade.name in info["grades"]:
                        auto, needs_manual, _ = info["grades"][grade.name]
                        grade.auto_score = auto
                        grade.needs_manual_grade = needs_manual
                    else:
                        grade.auto_score = 0.0 if grade.cell.max_score else None
                        grade.needs_manual_grade = True
                    seen[grade.name] = grade.auto_score
                for comment in nb.comments:
                    if info is not None and comment.name in info["comments"]:
                        comment.auto_comment = info["comments"][comment.name]
            gb.db.commit()
            sub = gb.find_submission(assignment, student)
            return float(sub.score), float(sub.max_score), seen

    return _retry(transaction)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------
# Protecting the installed course packages and data
# --------------------------------------------------------------------------------------
def package_dir(name: str) -> Path:
    """Where the importable package ``name`` lives (found by import, never by cwd)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise GradingError(f"the course package {name!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def _package_files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


@dataclass
class PackageSnapshot:
    """Bytes of every file of the course packages, read at the start of a batch."""

    roots: dict[str, Path]
    files: dict[str, dict[str, bytes]]

    @classmethod
    def take(cls, names: Iterable[str] = PROTECTED_PACKAGES) -> "PackageSnapshot":
        roots, files = {}, {}
        for name in names:
            try:
                root = package_dir(name)
            except GradingError:
                continue
            roots[name] = root
            files[name] = {str(p.relative_to(root)): p.read_bytes() for p in _package_files(root)}
        return cls(roots, files)

    def write_copy(self, dest: Path) -> None:
        """Write a private, importable copy of the packages under ``dest``."""
        for name, members in self.files.items():
            for rel, data in members.items():
                target = dest / name / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

    def restore_changes(self, write: bool = True) -> list[str]:
        """Put back any installed file that changed or vanished; return their names.

        With ``write=False`` only report them.
        """
        changed = []
        for name, members in self.files.items():
            root = self.roots[name]
            for rel, data in members.items():
                path = root / rel
                try:
                    same = path.is_file() and path.read_bytes() == data
                except OSError:
                    same = False
                if not same and not write:
                    changed.append(f"{name}/{rel}")
                elif not same:
                    if path.is_symlink() or path.is_dir():
                        shutil.rmtree(path) if path.is_dir() else path.unlink()
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    changed.append(f"{name}/{rel}")
            for path in _package_files(root):
                rel = str(path.relative_to(root))
                if rel not in members and path.suffix == ".py":
                    if write:
                        path.unlink()  # a planted module has no business in the package
                    changed.append(f"{name}/{rel} (added)")
        return changed


# --------------------------------------------------------------------------------------
# Rebuilding a submission on the release skeleton; static review flags
# --------------------------------------------------------------------------------------
def _nbgrader_meta(cell) -> dict:
    return dict(cell.get("metadata", {}).get("nbgrader", {}) or {})


def rebuild_notebook(release_nb, submitted_nb) -> tuple[object, list[str]]:
    """The notebook to grade: the release notebook with the student's solution-cell sources.

    Only the source of cells that are solution cells in the release (matched by
    ``grade_id``, falling back to the cell id; the last match wins, as in nbgrader's
    DeduplicateIds) comes from the student. Everything else (read-only cells, test
    cells, metadata) comes from the release. Returns (notebook, notes on what changed).
    """
    nb = copy.deepcopy(release_nb)
    by_grade_id: dict[str, object] = {}
    by_cell_id: dict[str, object] = {}
    duplicates: set[str] = set()
    for cell in submitted_nb.cells:
        gid = _nbgrader_meta(cell).get("grade_id")
        if gid:
            if gid in by_grade_id:
                duplicates.add(gid)
            by_grade_id[gid] = cell
        if cell.get("id"):
            by_cell_id[cell["id"]] = cell
    used = set()
    notes: list[str] = []
    release_sources = {}
    for cell in nb.cells:
        meta = _nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if gid:
            release_sources[gid] = cell.source
        if not meta.get("solution"):
            continue
        student_cell = by_grade_id.get(gid) or by_cell_id.get(cell.get("id", ""))
        if student_cell is None:
            notes.append(f"answer cell {gid} missing")
            continue
        used.add(id(student_cell))
        if student_cell.get("cell_type") != cell.cell_type:
            notes.append(f"answer cell {gid} changed type")
        cell.source = student_cell.get("source", "")
    extra = 0
    restored = []
    for cell in submitted_nb.cells:
        if id(cell) in used:
            continue
        gid = _nbgrader_meta(cell).get("grade_id")
        if gid in release_sources:
            if cell.get("source", "") != release_sources[gid]:
                restored.append(gid)
            continue
        extra += 1
    release_gids = {g for g in release_sources}
    submitted_gids = set(by_grade_id)
    missing = sorted(release_gids - submitted_gids)
    if duplicates:
        notes.append("duplicate cells ignored: " + ", ".join(sorted(duplicates)))
    if restored:
        notes.append("edited read-only cells restored: " + ", ".join(sorted(set(restored))))
    if missing:
        notes.append("deleted cells restored: " + ", ".join(missing))
    # Cells without nbgrader metadata that are identical to a release cell are the
    # student's unchanged copies of read-only cells; others are extra cells.
    release_plain = {c.source for c in nb.cells if not _nbgrader_meta(c).get("grade_id")}
    extra_cells = [
        c for c in submitted_nb.cells
        if id(c) not in used and not _nbgrader_meta(c).get("grade_id")
        and c.get("source", "") not in release_plain and c.get("source", "").strip()
    ]
    if extra_cells:
        notes.append(f"{len(extra_cells)} extra cell(s) not graded")
    return nb, notes


RISKY_CALLS = {
    "os._exit": "os._exit",
    "os.kill": "os.kill",
    "sys.exit": "sys.exit",
    "setattr": "setattr",
    "exec": "exec/eval",
    "eval": "exec/eval",
    "__import__": "__import__",
    "get_ipython": "get_ipython",
    "open": "open()",
    "sys.settrace": "settrace",
    "sys.setprofile": "settrace",
    "signal.signal": "signal handler",
}
RISKY_IMPORTS = {"ctypes", "gc", "builtins", "inspect", "signal", "subprocess", "shutil", "threading",
                 "multiprocessing", "importlib", "pathlib", "IPython", "ipykernel", "nbgrader"}


def review_flags(source: str, own_names: set[str] | None = None) -> list[str]:
    """Risky constructs in a student cell, for the instructor to review (not penalised).

    Flags assignments to attributes of objects the cell did not create (monkeypatching),
    redefinitions of test names, and calls/imports that can reach outside the answer.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ["syntax error"]
    flags: set[str] = set()
    local_names = set(own_names or ())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local_names.add(node.name)
            for arg in node.args.args if hasattr(node, "args") else []:
                local_names.add(arg.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local_names.add(node.id)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name.startswith("test"):
                flags.add(f"defines {node.name}")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id.startswith("test"):
            flags.add(f"defines {node.id}")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    base = target.value
                    while isinstance(base, ast.Attribute):
                        base = base.value
                    if not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                        flags.add(f"assigns {ast.unparse(target)}")
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in RISKY_CALLS:
                flags.add(RISKY_CALLS[name])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                top = mod.split(".")[0]
                if top in RISKY_IMPORTS or mod in ("os", "sys"):
                    flags.add(f"imports {mod}")
                if top in PROTECTED_PACKAGES:
                    flags.add(f"imports {mod}")
    return sorted(flags)


# --------------------------------------------------------------------------------------
# The kernel-side guard (executed in hidden cells by GuardedExecute)
# --------------------------------------------------------------------------------------
KERNEL_GUARD = r'''
def _course_guard_install():
    import sys, types, importlib, pkgutil
    FUNC = (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
            types.BuiltinMethodType, staticmethod, classmethod, property)
    MISSING = object()
    ip = get_ipython()
    # rebound by IPython/ipykernel around every execution: never the student's doing
    VOLATILE = {("builtins", k) for k in ("input", "_", "__", "___", "get_ipython", "exit", "quit",
                                          "display")} | {("getpass", "getpass"), ("time", "tzname")}
    HOOK_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
    g = types.ModuleType("_course_guard")
    protected, before, window, changes = {}, {}, {}, []

    def user_module(mod):
        return getattr(mod, "__dict__", None) is ip.user_ns or mod.__name__ in ("__main__", "__mp_main__")

    def snapshot():
        mods, classes = {}, {}
        for name, mod in list(sys.modules.items()):
            if mod is None or name == "sys" or user_module(mod):
                continue
            try:
                d = vars(mod)
            except TypeError:
                continue
            mods[name] = (d, dict(d))
            for value in list(d.values()):
                if isinstance(value, type) and getattr(value, "__module__", None) == name:
                    try:
                        classes[id(value)] = (value, dict(vars(value)))
                    except TypeError:
                        pass
        return {
            "mods": mods, "classes": classes,
            "lists": {k: list(getattr(ip, k)) for k in HOOK_LISTS},
            "custom": (ip.custom_exceptions, ip.CustomTB),
            "events": {k: list(v) for k, v in ip.events.callbacks.items()},
            "streams": (sys.stdout, sys.stderr, sys.displayhook),
            "instances": [(obj, dict(vars(obj))) for obj in (ip, ip.kernel)],
        }

    def before_solution(nonce):
        window.clear()
        window.update(snapshot())
        return "GUARD-OK " + nonce

    def after_solution(nonce):
        # record what the student's cell changed, with the values from before it
        if not window:
            return "GUARD-OK " + nonce
        for name, (d, saved) in window["mods"].items():
            for k, v in saved.items():
                if (name, k) not in VOLATILE and d.get(k, MISSING) is not v:
                    changes.append(("dict", d, k, v, name + "." + k))
        for cls, saved in window["classes"].values():
            cur = vars(cls)
            for k, v in saved.items():
                if cur.get(k, MISSING) is not v:
                    changes.append(("cls", cls, k, v, cls.__name__ + "." + k))
            for k in cur:
                if k not in saved and isinstance(cur[k], FUNC):
                    changes.append(("cls", cls, k, MISSING, cls.__name__ + "." + k))
        for k, v in window["lists"].items():
            for item in getattr(ip, k):
                if not any(item is old for old in v):
                    changes.append(("list", getattr(ip, k), item, None, "IPython " + k))
        if (ip.custom_exceptions, ip.CustomTB) != window["custom"]:
            changes.append(("custom", None, None, window["custom"], "IPython custom exception handler"))
        for k, cbs in ip.events.callbacks.items():
            for cb in cbs:
                if cb not in window["events"].get(k, []):
                    changes.append(("list", cbs, cb, None, "IPython event " + k))
        if (sys.stdout, sys.stderr, sys.displayhook) != window["streams"]:
            changes.append(("streams", None, None, window["streams"], "sys streams"))
        for obj, saved in window["instances"]:
            cur = vars(obj)
            for k in list(cur):
                if (k not in saved and isinstance(cur[k], FUNC)) or \
                        (k in saved and isinstance(saved[k], FUNC) and cur[k] is not saved[k]):
                    changes.append(("dict", cur, k, saved.get(k, MISSING), type(obj).__name__ + "." + k))
        window.clear()
        return "GUARD-OK " + nonce

    def restore(undone):
        for kind, target, key, orig, label in changes:
            if kind == "dict":
                if orig is MISSING:
                    if key in target:
                        del target[key]; undone.append(label)
                elif target.get(key, MISSING) is not orig:
                    target[key] = orig; undone.append(label)
            elif kind == "cls":
                cur = vars(target).get(key, MISSING)
                try:
                    if orig is MISSING and cur is not MISSING:
                        delattr(target, key); undone.append(label)
                    elif orig is not MISSING and cur is not orig:
                        setattr(target, key, orig); undone.append(label)
                except (AttributeError, TypeError):
                    pass
            elif kind == "list":
                while any(x is key for x in target):
                    target.remove(key); undone.append(label)
            elif kind == "custom":
                if (ip.custom_exceptions, ip.CustomTB) != orig:
                    ip.custom_exceptions, ip.CustomTB = orig; undone.append(label)
            elif kind == "streams":
                if (sys.stdout, sys.stderr, sys.displayhook) != orig:
                    sys.stdout, sys.stderr, sys.displayhook = orig; undone.append(label)
        if sys.gettrace() is not None or sys.getprofile() is not None:
            sys.settrace(None); sys.setprofile(None); undone.append("trace/profile hook")
        ns = ip.user_ns
        for k, v in protected.items():
            if ns.get(k, MISSING) is not v:
                ns[k] = v; undone.append(k)

    def before_readonly(nonce):
        before.clear()
        before.update({k: id(v) for k, v in ip.user_ns.items()})
        return "GUARD-OK " + nonce

    def after_readonly(nonce):
        for k, v in ip.user_ns.items():
            if k.startswith("_") or k in ("In", "Out", "get_ipython", "exit", "quit"):
                continue
            if before.get(k) != id(v):
                protected[k] = v
        return "GUARD-OK " + nonce

    def before_test(nonce):
        undone = []
        restore(undone)
        out = "GUARD-OK " + nonce
        if undone:
            out += " GUARD-UNDONE: " + ", ".join(sorted(set(undone)))
        return out

    for name in PRELOAD + WALK:
        try:
            mod = importlib.import_module(name)
        except (Exception, SystemExit):
            continue
        if name not in WALK:
            continue
        for info in pkgutil.walk_packages(getattr(mod, "__path__", []) or [], name + "."):
            try:
                importlib.import_module(info.name)
            except (Exception, SystemExit):
                pass
    for fn in (before_readonly, after_readonly, before_solution, after_solution, before_test):
        setattr(g, fn.__name__, fn)
    sys.modules["_course_guard"] = g

_course_guard_install()
del _course_guard_install
'''



def _is_solution(cell) -> bool:
    return bool(_nbgrader_meta(cell).get("solution"))


def _is_test(cell) -> bool:
    meta = _nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


from traitlets import Bool

from grading.hidden import HiddenTestsLast


class GuardedExecute(HiddenTestsLast):  # type: ignore[misc,valid-type]
    """nbgrader's Execute with a guard against tampering and recovery from a dead kernel.

    Hidden tests run last, as in :class:`grading.hidden.HiddenTestsLast`; the guard undoes
    tampering before each hidden block too.

    Around each answer cell it records what the cell changed in loaded modules and
    classes, IPython's hooks and the kernel objects; around read-only cells, the names
    they bind. Before each test cell it undoes those changes, so an answer cell cannot
    make a test pass by rebinding ``test_my_softmax`` or patching ``numpy.allclose``.
    The guard is called through ``user_expressions`` with a fresh nonce; a guard that
    does not answer means the kernel was tampered with, and the test cell scores 0.
    If a cell kills the kernel, the kernel is restarted, every earlier cell replayed
    silently, and grading goes on: only the cell that killed it shows an error.
    """

    max_restarts = 4
    preload_modules = ("numpy", "numpy.testing")
    skip_after_last_grade = Bool(
        False,
        help="Do not execute the cells after the last graded cell: they cannot change a "
             "grade (faster; the feedback then shows those cells without outputs).",
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        graded = [i for i, c in enumerate(nb.cells) if _nbgrader_meta(c).get("grade")]
        self._last_graded = max(graded) if graded else len(nb.cells) - 1
        self._replay: list = []
        self._restarts = 0
        self._notes: list[str] = []
        self._guard_ready = False
        try:
            return super().preprocess(nb, resources, km)
        finally:
            path = os.environ.get(NOTES_ENV)
            if path:
                with open(path, "a", encoding="utf-8") as fh:
                    for note in self._notes:
                        fh.write(note + "\n")

    def _hidden(self, source: str, index: int) -> str:
        cell = nbformat.v4.new_code_cell(source)
        original = self.nb.cells[index]  # nbclient stores the executed cell at nb.cells[index]
        try:
            self.execute_cell(cell, index, store_history=False)
        except Exception as exc:  # a dead kernel is handled by the caller's next cell
            return f"guard: {type(exc).__name__}"
        finally:
            self.nb.cells[index] = original
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if errors:
            return f"guard error: {errors[0].get('ename')}: {errors[0].get('evalue')}"
        return text.strip()

    def _guard(self, fn: str) -> tuple[bool, str]:
        """Call a guard function through ``user_expressions`` (no input transformers apply).

        Returns (it answered with this call's nonce, what it reported). A kernel whose
        guard does not answer has been tampered with: the caller fails closed.
        """
        nonce = secrets.token_hex(8)
        expr = f"__import__('sys').modules['_course_guard'].{fn}({nonce!r})"
        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"r": expr})
        reply = self.wait_for_reply(msg_id)
        res = ((reply or {}).get("content", {}).get("user_expressions") or {}).get("r", {})
        text = ""
        if res.get("status") == "ok":
            try:
                text = ast.literal_eval(res.get("data", {}).get("text/plain", "''"))
            except (ValueError, SyntaxError):
                text = ""
        head = f"GUARD-OK {nonce}"
        if not isinstance(text, str) or not text.startswith(head):
            return False, f"guard did not answer ({res.get('ename', 'no reply')})"
        return True, text[len(head):].strip()

    def before_hidden_block(self, index: int) -> bool:
        ok, note = self._guard("before_test")
        gid = _nbgrader_meta(self.nb.cells[index]).get("grade_id")
        if note:
            self._notes.append(f"{gid} (hidden tests): {note}")
        return ok

    def _install_guard(self, index: int) -> None:
        src = (f"PRELOAD = {list(self.preload_modules)!r}\nWALK = {list(PROTECTED_PACKAGES)!r}\n"
               + KERNEL_GUARD + "\ndel PRELOAD, WALK\n")
        note = self._hidden(src, index)
        if note:
            self._notes.append(note)
        self._guard_ready = True

    def _restart_and_replay(self, index: int) -> None:
        from jupyter_core.utils import run_sync

        self._restarts += 1
        run_sync(self.km.restart_kernel)(now=True)
        self.wait_for_reply(self.kc.kernel_info())
        self._install_guard(index)
        for old_index, old in self._replay:
            original = self.nb.cells[old_index]
            try:
                self._run_one(copy.deepcopy(old), old_index, replay=True)
            finally:
                self.nb.cells[old_index] = original  # keep the first run's outputs

    def _run_one(self, cell, index: int, replay: bool = False):
        if cell.cell_type != "code":
            return cell
        readonly = not _is_solution(cell) and not _is_test(cell)
        if _is_test(cell):
            ok, note = self._guard("before_test")
            gid = _nbgrader_meta(cell).get("grade_id")
            if note and not replay:
                self._notes.append(f"{gid}: {note}")
            if not ok:  # fail closed: a test that cannot be trusted scores 0
                cell.outputs = [nbformat.v4.new_output(
                    "error", ename="GradingGuardError", evalue=note,
                    traceback=[f"GradingGuardError: the grading environment was tampered with ({note})"])]
                return cell
        elif readonly:
            self._guard("before_readonly")
        else:
            self._guard("before_solution")
        cell = self.execute_cell(cell, index, store_history=not replay)
        if not replay and any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            gid = _nbgrader_meta(cell).get("grade_id") or f"cell {index}"
            self._notes.append(f"timed out and interrupted in {gid}")
        if readonly:
            self._guard("after_readonly")
        elif _is_solution(cell):
            self._guard("after_solution")
        return cell

    def preprocess_cell(self, cell, resources, index):
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        self._check_assign_resources(resources)
        if self.skip_after_last_grade and index > self._last_graded:
            return cell, self.resources
        if not self._guard_ready:
            self._install_guard(index)
        try:
            cell = self._run_one(cell, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            what = "stopped" if isinstance(exc, DeadKernelError) else "hung (not interruptible)"
            cell.outputs = [nbformat.v4.new_output(
                "error", ename=type(exc).__name__,
                evalue=f"this cell {what} the Python kernel; it was restarted for the next cells",
                traceback=[f"{type(exc).__name__}: this cell {what} the Python kernel"],
            )]
            gid = _nbgrader_meta(cell).get("grade_id") or f"cell {index}"
            self._notes.append(f"kernel {'died' if isinstance(exc, DeadKernelError) else 'hung'} in {gid}")
            if self._restarts >= self.max_restarts:
                raise
            self._restart_and_replay(index)
            return cell, self.resources
        if cell.cell_type == "code":
            self._replay.append((index, cell))
        return cell, self.resources


# --------------------------------------------------------------------------------------
# One submission in a private workspace
# --------------------------------------------------------------------------------------
EXTRA_CONFIG = """
# ---- appended by grading.parallel for this private autograde ----
c.Autograde.autograde_preprocessors = [
    "grading.parallel.GuardedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = {cell_timeout}
c.Execute.interrupt_on_timeout = True
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:"]
c.LimitOutput.max_lines = 200
c.GuardedExecute.skip_after_last_grade = {skip_tail}
"""


def kill_tree(pid: int) -> None:
    """Kill a process, its session and every descendant (jupyter starts kernels in new sessions)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        procs = []
    try:
        os.killpg(pid, signal.SIGKILL)  # the autograde's own session (start_new_session=True)
    except (ProcessLookupError, PermissionError):
        pass
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=5)


@dataclass
class BatchContext:
    """Everything a worker needs, prepared once per batch by the parent."""

    course_dir: Path
    assignment: str
    db_url: str
    course_id: str
    work: Path
    template_db: Path
    release_dir: Path
    packages: PackageSnapshot
    timeout: float
    cell_timeout: int
    config_text: str


def _submitted_notebooks(sub_dir: Path) -> list[Path]:
    return sorted(p for p in sub_dir.glob("*.ipynb") if p.is_file())


def grade_one(ctx: BatchContext, student: str) -> tuple[SubmissionResult, dict | None]:
    """Autograde ``student`` in a private workspace. Returns the result and the private grades.

    Never raises for a problem of the submission; the parent records whatever happened.
    """
    start = time.monotonic()
    result = SubmissionResult(student, STATUS_ERROR)
    ws = ctx.work / "students" / student
    if ws.exists():
        shutil.rmtree(ws)
    sub_src = ctx.course_dir / "submitted" / student / ctx.assignment
    sub_dst = ws / "submitted" / student / ctx.assignment
    sub_dst.mkdir(parents=True)
    shutil.copytree(ctx.course_dir / "source" / ctx.assignment, ws / "source" / ctx.assignment)
    (ws / "nbgrader_config.py").write_text(ctx.config_text, encoding="utf-8")
    shutil.copy(ctx.template_db, ws / "gradebook.db")
    ctx.packages.write_copy(ws / "pkgs")
    if (sub_src / "timestamp.txt").is_file():
        shutil.copy(sub_src / "timestamp.txt", sub_dst / "timestamp.txt")
    stray = [p.name for p in sub_src.iterdir() if p.suffix != ".ipynb" and p.name != "timestamp.txt"]
    if stray:
        result.notes.append("files not graded: " + ", ".join(sorted(stray)))
    flags: set[str] = set()
    found = False
    for release_nb_path in sorted(ctx.release_dir.glob("*.ipynb")):
        student_path = sub_src / release_nb_path.name
        if not student_path.is_file():
            continue
        found = True
        release_nb = nbformat.read(release_nb_path, as_version=4)
        try:
            submitted = nbformat.read(student_path, as_version=4)
        except Exception as exc:  # unreadable JSON: grade as the unanswered release
            result.notes.append(f"{student_path.name} unreadable ({type(exc).__name__})")
            submitted = nbformat.v4.new_notebook()
        rebuilt, notes = rebuild_notebook(release_nb, submitted)
        result.notes.extend(notes)
        for cell in rebuilt.cells:
            if _is_solution(cell) and cell.cell_type == "code":
                flags.update(review_flags(cell.source))
        nbformat.write(rebuilt, sub_dst / release_nb_path.name)
    if not found:
        result.status = STATUS_MISSING
        result.seconds = time.monotonic() - start
        return result, None
    if flags:
        result.notes.append("review: " + ", ".join(sorted(flags)))
    notes_file = ws / "guard_notes.txt"
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ws / "pkgs")
    env[NOTES_ENV] = str(notes_file)
    env.pop("JPY_PARENT_PID", None)
    cmd = [
        sys.executable, "-m", "nbgrader", "autograde", ctx.assignment,
        "--student", student, "--force",
        f"--CourseDirectory.root={ws}",
        f"--CourseDirectory.db_url={sqlite_url(ws / 'gradebook.db')}",
        f"--CourseDirectory.course_id={ctx.course_id}",
    ]
    log_path = ws / "autograde.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ws, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout=ctx.timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.wait()
            rc = None
        else:
            kill_tree(proc.pid)  # a kernel or a process the student started must not linger
    if notes_file.is_file():
        result.notes.extend(l for l in notes_file.read_text(encoding="utf-8").splitlines() if l)
    private = None
    if rc is None:
        result.status = STATUS_TIMEOUT
        result.notes.append(f"killed after {ctx.timeout:g} s")
    else:
        try:
            private = read_private_grades(ws / "gradebook.db", ctx.course_id, ctx.assignment, student)
        except Exception as exc:
            result.notes.append(f"no grades ({type(exc).__name__})")
        if rc == 0 and private is not None:
            result.status = STATUS_OK
        else:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
            result.notes.append(f"nbgrader exit {rc}: " + (tail[0][:200] if tail else ""))
            private = None
    out = ctx.course_dir / "autograded" / student / ctx.assignment
    made = ws / "autograded" / student / ctx.assignment
    if made.is_dir():
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(made, out)
        shutil.copy(log_path, out.parent / f"{ctx.assignment}.autograde.log")
    result.seconds = time.monotonic() - start
    return result, private


def prepare_batch(course_dir: Path, assignment: str, db_url: str, work: Path,
                  timeout: float, cell_timeout: int, skip_tail: bool = False) -> BatchContext:
    """Generate the template gradebook and release skeleton; register the assignment if needed."""
    source = course_dir / "source" / assignment
    if not source.is_dir():
        raise GradingError(f"no source folder {source}: is {course_dir} the course directory?")
    course_id = course_id_of(course_dir)
    cfg_file = course_dir / "nbgrader_config.py"
    base_cfg = cfg_file.read_text(encoding="utf-8") if cfg_file.is_file() else "c = get_config()\n"
    config_text = base_cfg + EXTRA_CONFIG.format(cell_timeout=int(cell_timeout),
                                                 skip_tail=bool(skip_tail))
    scratch = work / "template"
    shutil.copytree(source, scratch / "source" / assignment)
    (scratch / "nbgrader_config.py").write_text(base_cfg, encoding="utf-8")
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    template_db = work / "template.db"

    def generate(url: str) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
             f"--CourseDirectory.root={scratch}", f"--CourseDirectory.db_url={url}",
             f"--CourseDirectory.course_id={course_id}"],
            cwd=scratch, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise GradingError(f"nbgrader generate_assignment failed:\n{proc.stdout}{proc.stderr}")

    generate(sqlite_url(template_db))
    main_file = Path(db_url[len("sqlite:///"):].split("?")[0]) if db_url.startswith("sqlite:///") else None
    if main_file is not None and not main_file.exists():
        shutil.copy(template_db, main_file)  # a new SQLite gradebook: same content, no 2nd run
    elif not gradebook_knows(db_url, course_id, assignment):
        generate(db_url)
    _copy_duedate(db_url, sqlite_url(template_db), course_id, assignment)
    return BatchContext(course_dir, assignment, db_url, course_id, work, template_db,
                        scratch / "release" / assignment, PackageSnapshot.take(), timeout,
                        cell_timeout, config_text)


def _copy_duedate(src_url: str, dst_url: str, course_id: str, assignment: str) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(_with_busy_timeout(src_url), course_id) as gb:
        duedate = gb.find_assignment(assignment).duedate
    if duedate is not None:
        with Gradebook(dst_url, course_id) as gb:
            gb.update_or_create_assignment(assignment, duedate=duedate)


def list_students(course_dir: Path, assignment: str) -> list[str]:
    """Students with a ``submitted/<student>/<assignment>/`` folder, sorted."""
    root = course_dir / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / assignment).is_dir())


def autograde_all(
    assignment: str,
    course_dir: Path | str = ".",
    db_url: str | None = None,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    students: list[str] | None = None,
    progress: Callable[[str], None] | None = print,
    restore_course_files: bool = True,
    skip_tail: bool = False,
    stats: dict[str, float] | None = None,
) -> list[SubmissionResult]:
    """Autograde every submission of ``assignment`` with ``workers`` parallel autogrades.

    The gradebook is ``course_dir/gradebook.db`` unless ``db_url`` is given (any
    SQLAlchemy URL nbgrader accepts, e.g. ``postgresql://user:pw@127.0.0.1:5432/db``).
    Returns one :class:`SubmissionResult` per student; the summary table is written to
    ``autograded/<assignment>_summary.csv`` and ``.md`` in the course directory.
    With ``restore_course_files`` (default) an installed course file that changed while
    the batch ran is put back; without it the change is only reported (use that on a
    development checkout that people edit while grading runs).
    ``stats``, if given, receives the wall seconds of the one-off preparation
    (``prepare``) and of the grading itself (``grading``).
    """
    course_dir = Path(course_dir).resolve()
    db_url = check_db_url(db_url or sqlite_url(course_dir / "gradebook.db"))
    workers = max(1, int(workers or os.cpu_count() or 1))
    if timeout <= 0 or cell_timeout <= 0:
        raise GradingError("timeouts must be positive numbers of seconds")
    say = progress or (lambda _msg: None)
    todo = students if students is not None else list_students(course_dir, assignment)
    if not todo:
        raise GradingError(f"no submissions in {course_dir / 'submitted'}/*/{assignment}/")
    results: list[SubmissionResult] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="autograde-") as tmp:
        ctx = prepare_batch(course_dir, assignment, db_url, Path(tmp), timeout, cell_timeout,
                            skip_tail)
        t1 = time.monotonic()
        say(f"autograding {len(todo)} submission(s) of {assignment} with {workers} worker(s)")
        failures = 0
        guard_lock = threading.Lock()
        with cf.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(grade_one, ctx, s): s for s in todo}
            for fut in cf.as_completed(futures):
                student = futures[fut]
                try:
                    res, private = fut.result()
                except Exception as exc:  # a bug of ours must not stop the batch
                    res, private = SubmissionResult(student, STATUS_ERROR,
                                                    notes=[f"{type(exc).__name__}: {exc}"]), None
                with guard_lock:
                    touched = ctx.packages.restore_changes(write=restore_course_files)
                if touched:
                    verb = "restored" if restore_course_files else "NOT restored"
                    res.notes.append(f"course files changed ({verb}): " + ", ".join(touched))
                if res.status != STATUS_MISSING:
                    res.score, res.max_score, res.grades = record_result(
                        db_url, ctx.course_id, assignment, student, private)
                failures += res.status != STATUS_OK
                results.append(res)
                say(f"[{len(results)}/{len(todo)}] {student}: {res.status} "
                    f"{res.score:g}/{res.max_score:g} ({res.seconds:.1f} s) failures={failures}")
    if stats is not None:
        stats.update(prepare=t1 - t0, grading=time.monotonic() - t1)
    out = course_dir / "autograded"
    table = write_summary(results, out / f"{assignment}_summary.csv", out / f"{assignment}_summary.md")
    say(table)
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m grading.parallel ASSIGNMENT [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m grading.parallel",
        description="Autograde all submissions of an nbgrader assignment in parallel.")
    parser.add_argument("assignment")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="parallel autogrades (default: number of cores)")
    parser.add_argument("--db", default=None,
                        help="gradebook URL (default: sqlite:///COURSE_DIR/gradebook.db)")
    parser.add_argument("--course-dir", default=".", help="nbgrader course directory (default: .)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"wall-clock seconds per submission (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--cell-timeout", type=int, default=DEFAULT_CELL_TIMEOUT,
                        help=f"seconds per cell before it is interrupted (default {DEFAULT_CELL_TIMEOUT})")
    parser.add_argument("--student", action="append", default=None,
                        help="grade only this student (repeatable)")
    parser.add_argument("--skip-tail", action="store_true",
                        help="do not run the cells after the last graded cell (faster)")
    parser.add_argument("--no-restore", action="store_true",
                        help="only report changed course files, do not put them back")
    args = parser.parse_args(argv)
    try:
        results = autograde_all(args.assignment, args.course_dir, args.db, args.workers,
                                args.timeout, args.cell_timeout, args.student,
                                restore_course_files=not args.no_restore,
                                skip_tail=args.skip_tail)
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if all(r.status in (STATUS_OK, STATUS_MISSING) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
