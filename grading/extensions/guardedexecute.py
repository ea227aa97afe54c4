"""GuardedExecute: nbgrader's Execute preprocessor with the tamper guard and dead-kernel recovery."""

from __future__ import annotations

import copy
import os
import re
import secrets
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.utils import is_solution

from grading.extensions.cells import grade_id, is_test
from grading.extensions.judgedexecute import JudgedExecute
from grading.isolation.integrity import PROTECTED_PACKAGES

#: file the preprocessor appends its notes to (set by the workspace for each autograde)
NOTES_ENV = "COURSE_GRADER_NOTES"
#: name under which grading/isolation/guard.py is importable in the kernel (copied with the packages)
GUARD_MODULE = "course_guard"
#: the ``pids.events`` file of the submission's cgroup (set by the workspace when sandboxed)
PIDS_EVENTS_ENV = "COURSE_GRADER_PIDS_EVENTS"


def pids_refused(path: str | None) -> int:
    """How many times the cgroup's process limit refused a fork or a thread (``max N`` in
    ``pids.events``, cgroup v1 and v2); 0 without the file."""
    if not path:
        return 0
    try:
        with open(path, encoding="ascii") as fh:
            fields = dict(line.split(None, 1) for line in fh.read(4096).splitlines() if " " in line)
        return int(fields.get("max", "0"))
    except (OSError, ValueError):
        return 0


# Course modules that serve the grader and the student's Validate button, never a kernel: no
# test imports them (tests/grading/extensions/test_guardedexecute.py checks it), and the
# guard's walk leaves them out, sparing each lab kernel their imports (nbformat, nbgrader,
# tornado: about 2 s of its 9).
UNWALKED_MODULES: tuple[str, ...] = ("utils.repair", "utils.refresh", "utils.validate_server")


def course_packages_named(nb: NotebookNode) -> list[str]:
    """The course packages the guard imports whole before the first cell: every one of
    :data:`PROTECTED_PACKAGES` if any code cell names one of them (the lab: its tests call
    ``public_tests``, which uses ``utils``), none for an assignment that never does (its
    tests cannot depend on them, and its kernel is spared their imports, TensorFlow's 6 s)."""
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    named = any(re.search(rf"\b{name}\b", src) for src in sources for name in PROTECTED_PACKAGES)
    return list(PROTECTED_PACKAGES) if named else []


class GuardedExecute(JudgedExecute):
    """nbgrader's Execute with judged test cells, a guard that undoes tampering, and recovery
    from a dead kernel.

    Test cells are judged in the grader's process, hidden calls last, as in
    :class:`~grading.extensions.judgedexecute.JudgedExecute`: the guard is not what makes a
    verdict trustworthy. It makes the probes run against the course's own code and names
    what an answer cell changed (review notes), so that an honest answer's messages stay
    clear.

    Around each answer cell it records what the cell changed in loaded modules and
    classes, IPython's hooks and the kernel objects; around read-only cells, the names
    they bind. Before each test cell and each hidden probe it undoes those changes and
    notes them. It is called through ``user_expressions`` with a fresh nonce; a guard that
    does not answer is noted for review (the verdicts do not depend on it).
    If a cell kills the kernel, the kernel is restarted, every earlier cell replayed
    silently, and grading goes on: only the cell that killed it shows an error. A cell during
    which the submission hits its process limit is treated the same way (the processes it
    left would hold the limit, and a kernel that cannot start threads cannot answer): its
    outputs get an error, and the next cells run in a restarted kernel, which has the whole
    limit again (the launcher kills what is left of the old one first).
    """

    max_restarts = 4
    preload_modules = ("numpy", "numpy.testing")

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
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
        try:
            cell = self.run_aside(source, index)
        except Exception as exc:  # a dead kernel is handled by the caller's next cell
            return f"guard: {type(exc).__name__}"
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if errors:
            return f"guard error: {errors[0].get('ename')}: {errors[0].get('evalue')}"
        return text.strip()

    def _guard(self, fn: str) -> tuple[bool, str]:
        """Call a guard function through ``user_expressions`` (no input transformers apply).

        Returns (it answered with this call's nonce, what it reported).
        """
        nonce = secrets.token_hex(8)
        text = self.user_expression(f"__import__('sys').modules['_course_guard'].{fn}({nonce!r})")
        head = f"GUARD-OK {nonce}"
        if text is None or not text.startswith(head):
            return False, "the grading guard did not answer (replaced by the notebook?)"
        return True, text[len(head) :].strip()

    def before_probe(self, index: int) -> None:
        _, note = self._guard("before_test")
        if note:
            self._notes.append(f"{self._tests[index].grade_id} (hidden tests): {note}")

    def _install_guard(self, index: int) -> None:
        src = (
            f"__import__({GUARD_MODULE!r}).install({list(self.preload_modules)!r}, "
            f"{course_packages_named(self.nb)!r}, {list(UNWALKED_MODULES)!r})\npass\n"
        )
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
        readonly = not is_solution(cell) and not is_test(cell)
        if is_test(cell):
            _, note = self._guard("before_test")
            if note and not replay:
                self._notes.append(f"{grade_id(cell)}: {note}")
            if index in self._tests:
                cell = self.judge_test_cell(cell, index, keep_verdict=not replay)
                if not replay and self._tests[index].public.rule == "timeout":
                    self._notes.append(f"timed out and interrupted in {grade_id(cell)}")
                return cell
            # (else a test cell left to the kernel: JudgedExecute.kernel_verdicts)
        else:
            self._guard_around(cell, index, "before_readonly" if readonly else "before_solution", replay)
        cell = self.execute_cell(cell, index, store_history=not replay)
        if not replay and any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            gid = grade_id(cell) or f"cell {index}"
            self._notes.append(f"timed out and interrupted in {gid}")
        if readonly:
            self._guard_around(cell, index, "after_readonly", replay)
        elif is_solution(cell):
            self._guard_around(cell, index, "after_solution", replay)
        return cell

    def _guard_around(self, cell, index: int, fn: str, replay: bool) -> None:
        """Call the guard around a cell; note it once per cell if it did not answer (what the
        cell changes could then go unrecorded)."""
        answered, note = self._guard(fn)
        if not answered and not replay:
            gid = grade_id(cell) or f"cell {index}"
            text = f"{gid}: {note}"
            if text not in self._notes:
                self._notes.append(text)

    def preprocess_cell(self, cell, resources, index):
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        self._check_assign_resources(resources)
        if self.skipped(index):
            return cell, self.resources
        if not self._guard_ready:
            self._install_guard(index)
        events = os.environ.get(PIDS_EVENTS_ENV)
        refused = pids_refused(events)
        try:
            cell = self._run_one(cell, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            what = "stopped" if isinstance(exc, DeadKernelError) else "hung (not interruptible)"
            cell.outputs = [
                nbformat.v4.new_output(
                    "error",
                    ename=type(exc).__name__,
                    evalue=f"this cell {what} the Python kernel; it was restarted for the next cells",
                    traceback=[f"{type(exc).__name__}: this cell {what} the Python kernel"],
                )
            ]
            gid = grade_id(cell) or f"cell {index}"
            self._notes.append(f"kernel {'died' if isinstance(exc, DeadKernelError) else 'hung'} in {gid}")
            if self._restarts >= self.max_restarts:
                raise
            self._restart_and_replay(index)
            return cell, self.resources
        except Exception:  # e.g. messages broken by a kernel that could not start a thread
            if pids_refused(events) == refused:
                raise
        if cell.cell_type == "code" and pids_refused(events) > refused:
            self._process_limit_hit(cell, index)
            return cell, self.resources
        if cell.cell_type == "code":
            self._replay.append((index, cell))
        return cell, self.resources

    def _process_limit_hit(self, cell, index: int) -> None:
        """The submission hit its process limit during ``cell``: an error after its outputs, a
        note, and the next cells in a restarted kernel (``cell`` is not replayed)."""
        limit = Path(os.environ[PIDS_EVENTS_ENV]).with_name("pids.max")
        try:
            shown = f"its limit of {int(limit.read_text(encoding='ascii'))} processes and threads"
        except (OSError, ValueError):
            shown = "its process limit"
        gid = grade_id(cell) or f"cell {index}"
        message = f"this cell reached {shown}; the kernel was restarted for the next cells"
        cell.outputs = list(cell.get("outputs", [])) + [
            nbformat.v4.new_output(
                "error", ename="ProcessLimitReached", evalue=message, traceback=[f"ProcessLimitReached: {message}"]
            )
        ]
        self._notes.append(f"process limit reached in {gid}")
        if self._restarts >= self.max_restarts:
            raise RuntimeError(f"the process limit was reached again in {gid} after {self._restarts} restarts")
        self._restart_and_replay(index)
