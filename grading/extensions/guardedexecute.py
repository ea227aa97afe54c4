"""GuardedExecute: nbgrader's Execute preprocessor with the tamper guard and dead-kernel recovery."""
from __future__ import annotations

import ast
import copy
import os
import secrets

import nbformat
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool

from grading.extensions.cells import grade_id, is_test
from grading.extensions.hiddentestslast import HiddenTestsLast
from grading.isolation.integrity import PROTECTED_PACKAGES

#: file the preprocessor appends its notes to (set by the workspace for each autograde)
NOTES_ENV = "COURSE_GRADER_NOTES"
#: name under which grading/isolation/guard.py is importable in the kernel (copied with the packages)
GUARD_MODULE = "course_guard"


class GuardedExecute(HiddenTestsLast):  # type: ignore[misc,valid-type]
    """nbgrader's Execute with a guard against tampering and recovery from a dead kernel.

    Hidden tests run last, as in :class:`~grading.extensions.hiddentestslast.HiddenTestsLast`; the guard undoes
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
        graded = [i for i, c in enumerate(nb.cells) if is_grade(c)]
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
        if note:
            self._notes.append(f"{grade_id(self.nb.cells[index])} (hidden tests): {note}")
        return ok

    def _install_guard(self, index: int) -> None:
        src = (f"__import__({GUARD_MODULE!r}).install({list(self.preload_modules)!r}, "
               f"{list(PROTECTED_PACKAGES)!r})\npass\n")
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
            ok, note = self._guard("before_test")
            gid = grade_id(cell)
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
            gid = grade_id(cell) or f"cell {index}"
            self._notes.append(f"timed out and interrupted in {gid}")
        if readonly:
            self._guard("after_readonly")
        elif is_solution(cell):
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
            gid = grade_id(cell) or f"cell {index}"
            self._notes.append(f"kernel {'died' if isinstance(exc, DeadKernelError) else 'hung'} in {gid}")
            if self._restarts >= self.max_restarts:
                raise
            self._restart_and_replay(index)
            return cell, self.resources
        if cell.cell_type == "code":
            self._replay.append((index, cell))
        return cell, self.resources
