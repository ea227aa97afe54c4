"""What an unanswered graded cell calls in the student version of the lab."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def _machinery_dirs() -> tuple[str, ...]:
    """Folders whose frames are the notebook's machinery, not the student's code: this package,
    and IPython's and ipykernel's (IPython's run_code frame opens every cell's traceback)."""
    dirs = [_PACKAGE_DIR + os.sep]
    for name in ("IPython", "ipykernel"):
        path = getattr(sys.modules.get(name), "__file__", None)
        if path:
            dirs.append(str(Path(path).resolve().parent) + os.sep)
    return tuple(dirs)


class NotAnsweredError(NotImplementedError):
    """A graded cell still holds ``not_answered_yet()``.

    In IPython/Jupyter it renders as the student's own frames and the message, without
    the frames of this package or of IPython (IPython prints the raising frame even when it is
    marked ``__tracebackhide__``, so the class renders itself through the
    ``_render_traceback_`` hook).
    """

    def _render_traceback_(self) -> list[str]:
        machinery = _machinery_dirs()
        frames = [
            f
            for f in traceback.extract_tb(self.__traceback__)
            if not str(Path(f.filename).resolve()).startswith(machinery)
        ]
        lines = ["Traceback (most recent call last):"] if frames else []
        lines += [line.rstrip("\n") for line in traceback.format_list(frames)]
        lines.append(f"{type(self).__name__}: {self}")
        return lines


def not_answered_yet(*_args: object, **_kwargs: object):
    """Raise NotAnsweredError: nbgrader puts ``not_answered_yet()`` where an answer goes.

    The call is valid both as a statement (in ``my_softmax``) and as the single
    element of the ``Sequential([...])`` list, so every release cell is valid Python.
    """
    raise NotAnsweredError(
        "This graded cell is not answered yet: replace the line `not_answered_yet()` "
        "between '### START CODE HERE ###' and '### END CODE HERE ###' with your code."
    )
