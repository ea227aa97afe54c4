"""The autograde log that reaches the coordinator: nbgrader's own log and what each sandboxed
kernel printed, both bounded.

nbgrader's log (the fork server's child writes it, :mod:`grading.batch.forkserver`) holds only
nbgrader's lines: the kernel never gets its descriptor (:mod:`grading.isolation.launcher` gives
the kernel a pipe of its own, kept in ``kernel-output-N.log``, one per kernel start). Each part
is cut to its first and last bytes here, so that what goes into ``autograded/`` is bounded
whatever happened.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from grading.isolation.launcher import OUTPUT_KEEP, OUTPUT_PREFIX

LOG_KEEP = 256 << 10  # bytes of nbgrader's log kept from its start, and as many from its end
KERNELS_SHOWN = 12  # kernel outputs appended at most (a start and a few restarts per notebook)


def read_ends(path: Path, keep: int) -> bytes:
    """The first and last ``keep`` bytes of the file ``path`` (never a link), with a note of
    what was left out between them; b"" if there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        if size <= 2 * keep:
            return fh.read(2 * keep)
        head = fh.read(keep)
        fh.seek(size - keep)
        tail = fh.read(keep)
    return head + f"\n[... {size - 2 * keep} bytes left out ...]\n".encode() + tail


def last_line(path: Path) -> str:
    """The last non-empty line of the log ``path`` (read from its end only)."""
    lines = read_ends(path, 4096)[-4096:].decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


def kernel_outputs(folder: Path) -> list[Path]:
    """The kernels' output files in ``folder``, in the order the kernels started."""
    found = []
    for path in folder.glob(f"{OUTPUT_PREFIX}*.log") if folder.is_dir() else []:
        m = re.fullmatch(re.escape(OUTPUT_PREFIX) + r"([0-9]+)\.log", path.name)
        if m:
            found.append((int(m[1]), path))
    return [p for _, p in sorted(found)]


def autograde_log(log: Path, outputs: Path | None) -> bytes:
    """nbgrader's log, then each kernel's stdout and stderr, each part bounded (at most
    2 x LOG_KEEP + KERNELS_SHOWN x 2 x OUTPUT_KEEP bytes and the notes)."""
    parts = [read_ends(log, LOG_KEEP)]
    files = kernel_outputs(outputs) if outputs is not None else []
    for n, path in enumerate(files[:KERNELS_SHOWN], 1):
        text = read_ends(path, OUTPUT_KEEP + 512)  # (as the reader kept it, with its note)
        if text:
            parts.append(f"\n---- kernel {n}: its stdout and stderr ----\n".encode() + text)
    if len(files) > KERNELS_SHOWN:
        parts.append(f"\n---- {len(files) - KERNELS_SHOWN} more kernels' output left out ----\n".encode())
    return b"".join(parts)
