"""A fresh copy of the graded lab that keeps your answers: ``python -m utils.refresh NOTEBOOK``.

For a notebook that got broken (a cell deleted, split, copied or retyped, its nbgrader metadata
lost by another editor) or that predates a corrected release: the notebook is rewritten as the
current release with the code of your graded cells put back, found the way the graders find it
(:mod:`utils.repair`); the old file is kept next to it as ``NAME.backup-DATE-TIME.ipynb``.
Outputs are not kept: run the notebook again from the top.

The release is found next to this package (``release/<assignment>/`` of the course folder), in
nbgrader's exchange (JupyterHub courses), or given with ``--release``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from utils.repair import MAX_NOTEBOOK_BYTES, STATUS_UNREADABLE, Repair, parse_submission, repair_submission

COURSE_ROOT = Path(__file__).resolve().parents[1]  # the course folder holding utils/ and release/
_COPY_NAME = re.compile(r"^(?:Copy of )?(.*?)(?: \(\d+\)|-\d+)?$")  # Colab, browsers, Canvas


def _exchange_releases(notebook: Path) -> list[Path]:
    """The notebook's release in nbgrader's exchange, if an ``nbgrader_config.py`` (next to the
    notebook, in the current folder or in Jupyter's config folders) names the course."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config.loader import Config, PyFileConfigLoader

    config = Config()
    for folder in reversed([str(notebook.parent), os.getcwd(), *jupyter_config_path()]):
        if (Path(folder) / "nbgrader_config.py").is_file():
            try:
                config.merge(PyFileConfigLoader("nbgrader_config.py", path=folder).load_config())
            except Exception:  # a config that does not load names no exchange
                continue
    course = config.get("CourseDirectory", {}).get("course_id") or config.get("Exchange", {}).get("course_id")
    if not course:
        return []
    root = config.get("Exchange", {}).get("root") or "/srv/nbgrader/exchange"
    return [Path(root) / course / "outbound" / notebook.parent.name / notebook.name]


def find_release(notebook: Path) -> Path | None:
    """The current release of ``notebook``: same name (a "Copy of" or "(1)" suffix dropped) under
    the course's release/, else in nbgrader's exchange, else the course's only release notebook."""
    stem = _COPY_NAME.match(notebook.stem)
    name = f"{stem.group(1) if stem else notebook.stem}.ipynb"
    releases = sorted((COURSE_ROOT / "release").glob("*/*.ipynb"))
    for path in [p for p in releases if p.name == name]:
        return path
    for path in _exchange_releases(notebook.with_name(name)):
        if path.is_file() and path.resolve() != notebook.resolve():
            return path
    return releases[0] if len(releases) == 1 else None


def backup_path(notebook: Path, now: float | None = None) -> Path:
    """A name next to ``notebook`` for its backup that no file has yet."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    path = notebook.with_name(f"{notebook.stem}.backup-{stamp}.ipynb")
    n = 2
    while path.exists():
        path = notebook.with_name(f"{notebook.stem}.backup-{stamp}-{n}.ipynb")
        n += 1
    return path


def refresh(notebook: Path, release: Path) -> tuple[Repair, Path]:
    """Rewrite ``notebook`` as ``release`` with its graded-cell code; return (repair, backup)."""
    with open(notebook, "rb") as f:
        raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    result = repair_submission(nbformat.read(release, as_version=4), parse_submission(raw))
    backup = backup_path(notebook)
    shutil.copy2(notebook, backup)
    fd, tmp = tempfile.mkstemp(prefix=f".{notebook.stem}-", suffix=".ipynb", dir=notebook.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(result.notebook, f)
        os.replace(tmp, notebook)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result, backup


def report(notebook: Path, release: Path, result: Repair, backup: Path) -> str:
    """What a student reads after a refresh."""
    kept = [g for g in result.found if g not in result.missing]
    lines = [f"Refreshed {notebook.name} from the current release ({release})."]
    if kept:
        lines.append(f"Your code is back in the graded cell{'s' if len(kept) > 1 else ''}: {', '.join(kept)}.")
    if result.missing:
        lines.append(
            f"NOT FOUND in your notebook: {', '.join(result.missing)}. Those cells are the release's "
            f"unanswered ones now: copy your code from the backup if it is there."
        )
    if result.status == STATUS_UNREADABLE:
        lines.append(f"Your notebook could not be read ({result.note}): this is a fresh copy of the release.")
    elif result.note:
        lines.append(f"What was repaired: {result.note}.")
    lines.append(f"Your old notebook is kept as {backup.name} (nothing was deleted).")
    lines.append(
        "Outputs are not kept: reload the notebook (File > Reload Notebook from Disk) and run it "
        "from the top (Run > Run All Cells)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.refresh", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path, help="your notebook, e.g. my-work/multiclass_digits.ipynb")
    parser.add_argument("--release", type=Path, help="the release notebook (default: found as described)")
    args = parser.parse_args(argv)
    notebook: Path = args.notebook
    if not notebook.is_file():
        print(f"error: no notebook {notebook}", file=sys.stderr)
        return 2
    release = args.release or find_release(notebook)
    if release is None or not release.is_file():
        print(f"error: the release of {notebook.name} was not found: give it with --release PATH", file=sys.stderr)
        return 2
    result, backup = refresh(notebook, release)
    print(report(notebook, release, result, backup))
    return 0 if result.complete else 1


if __name__ == "__main__":
    sys.exit(main())
