"""The Validate button for a notebook whose graded cell was split or copied: one sentence, not a traceback.

JupyterLab's Split Cell (Ctrl+Shift+-) copies a cell's nbgrader id into every piece, and a pasted
copy keeps it too; nbgrader's Validate then stops with a raw traceback ending "Notebook failed to
validate; the nbgrader metadata may be corrupted". This jupyter_server extension answers the
Validate button in place of nbgrader's ``validate_assignment`` one (same URLs, same replies):
for a notebook nbgrader can read, nbgrader's own validation runs unchanged; for one with a
duplicated nbgrader cell (or metadata nbgrader cannot read), the notebook is validated as the
graders grade it (the release with the student's graded-cell code, :mod:`utils.repair`), and the
reply starts with one sentence saying which cell is duplicated and how to undo it.

Enabled by ``jupyter-config/jupyter_server_config.d/nbgrader_validate_repaired.json`` (installed
with the course's packages), which also disables nbgrader's own handler.
"""

from __future__ import annotations

import html
import os
import textwrap
from collections import Counter
from pathlib import Path

import nbformat
from jupyter_server.utils import url_path_join
from nbgrader.server_extensions.validate_assignment.handlers import (
    NbGraderVersionHandler,
    ValidateAssignmentHandler,
)
from nbgrader.validator import Validator
from tornado import web

from utils.refresh import find_release
from utils.repair import MAX_NOTEBOOK_BYTES, parse_submission, repair_submission
from utils.repair.reading import read_cells

WIDTH = 88  # characters per line of the sentence (nbgrader's Validate wraps its text at 90)
DAMAGED = ("nbgrader metadata", "ValidationError", "SchemaTooOld", "Duplicate grade id")


def duplicated(notebook: object) -> tuple[str, int, bool, bool] | None:
    """The first nbgrader cell found more than once: (grade_id, times, all next to each other, graded)."""
    cells = read_cells(notebook).cells
    counts = Counter(c.grade_id for c in cells if c.grade_id)
    for gid, n in counts.items():
        if n > 1:
            where = [c.position for c in cells if c.grade_id == gid]
            solution = any(c.solution for c in cells if c.grade_id == gid)
            return gid, n, where == list(range(where[0], where[0] + n)), solution
    return None


def sentence(notebook: Path, found: tuple[str, int, bool, bool] | None) -> str:
    """What the student reads first: which cell is duplicated and how to undo it."""
    refresh = f"run `python -m utils.refresh {notebook.name}` in a terminal for a fresh copy that keeps your answers"
    if found is None:
        return (
            f"This notebook's nbgrader metadata is damaged (saved by another editor?), so it was checked "
            f"the way the graders grade it: to repair it, {refresh}."
        )
    gid, n, adjacent, graded = found
    what = f"The graded cell {gid}" if graded else f"The locked cell {gid}"
    if adjacent:
        how, undo = (
            f"is split into {n} cells (Split Cell copies its nbgrader id into each piece)",
            "undo it with Edit > Undo (or merge the pieces back)",
        )
    else:
        how, undo = (
            f"appears {n} times (a pasted copy keeps its nbgrader id)",
            "delete the extra copy (Edit > Undo right after pasting)",
        )
    return f"{what} {how}, so it was checked the way the graders grade it: {undo}, or {refresh}."


class RepairingValidateHandler(ValidateAssignmentHandler):
    """nbgrader's Validate handler; a notebook with duplicated or damaged nbgrader metadata is
    validated as the graders grade it, with one sentence first."""

    def validate_notebook(self, path: str) -> dict:
        root = Path(self.root_dir).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPError(403, "Access denied: path outside allowed directory")
        with open(target, "rb") as f:
            submitted = parse_submission(f.read(MAX_NOTEBOOK_BYTES + 1))
        found = duplicated(submitted)
        if found is None:
            reply = super().validate_notebook(path)
            if reply["success"] or not any(word in str(reply["value"]) for word in DAMAGED):
                return reply
        return self._as_graded(target, submitted, found)

    def _as_graded(self, target: Path, submitted: object, found: tuple[str, int, bool, bool] | None) -> dict:
        first = sentence(target, found)
        release = find_release(target)
        if release is None:
            return {
                "success": False,
                "value": first + " (The assignment's release was not found, so the tests could not run.)",
            }
        result = repair_submission(nbformat.read(release, as_version=4), submitted)
        tmp = target.with_name(f".{target.stem}.validating-{os.getpid()}-{os.urandom(3).hex()}.ipynb")
        nbformat.write(result.notebook, tmp)
        try:
            value = Validator(config=self.load_config()).validate(str(tmp))
        except Exception as exc:  # as nbgrader's handler: the error text for the dialog
            return {"success": False, "value": f"{first}\n\n{type(exc).__name__}: {exc}"}
        finally:
            tmp.unlink(missing_ok=True)
        header = target.name
        for cell in result.notebook.cells:
            if found and cell.metadata.get("nbgrader", {}).get("grade_id") == found[0]:
                header = "\n".join(cell.source.split("\n")[:2])
        shown = textwrap.fill(first, WIDTH)  # the dialog shows it in a <pre>: wrapped here
        entry = {"source": header, "error": html.escape(shown), "raw_error": shown}
        for key in ("type_changed", "changed", "passed"):
            value.pop(key, None)
        value["failed"] = [entry] + list(value.get("failed", []))
        return {"success": True, "value": value}


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "utils.validate_server"}]


def _load_jupyter_server_extension(serverapp) -> None:
    webapp = serverapp.web_app
    webapp.settings["root_dir"] = serverapp.root_dir
    base = webapp.settings["base_url"]
    webapp.add_handlers(
        ".*$",
        [
            (url_path_join(base, "/assignments/validate"), RepairingValidateHandler),
            (url_path_join(base, "/nbgrader_version"), NbGraderVersionHandler),
        ],
    )
    serverapp.log.info("Validate: nbgrader's, with split or copied graded cells checked as the graders grade them")
