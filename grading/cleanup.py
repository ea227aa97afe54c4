"""Removing a folder a submission could write into, whatever permissions it left there.

With ``--isolation namespaces`` run by an ordinary user, the kernel's uid 4242 is the grader's
own uid seen from outside the sandbox: a folder it made unreadable (``chmod 0``) holds files
the grader cannot list, and ``shutil.rmtree`` leaves it behind. As their owner the grader can
give itself the permissions back first. (Run as root the grader needs none of this.)
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


def _restore(path: str) -> None:
    """u+rwx on the folder ``path`` (never through a symbolic link: it could point anywhere)."""
    try:
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o700 != 0o700:
            os.chmod(path, stat.S_IMODE(st.st_mode) | 0o700)
    except OSError:
        pass


def remove_tree(path: str | Path) -> bool:
    """Remove ``path`` and everything under it; True if it is gone.

    Call it once the processes that could write there are dead (a link swapped in between
    the check and the chmod is then impossible). Folders are opened to the owner top-down
    (``os.walk`` descends into a folder after this loop has fixed it), then removed.
    """
    path = str(path)
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        _restore(path)
        for root, dirs, _files in os.walk(path):
            for name in dirs:
                _restore(os.path.join(root, name))
        shutil.rmtree(path, ignore_errors=True)
    return not os.path.lexists(path)
