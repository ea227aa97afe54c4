"""What root writes in folders another account controls (the instructor's home, the exchange's
course folder), for deploy/roster.py: every step goes through a directory file descriptor
opened without following a link (``O_NOFOLLOW | O_DIRECTORY``), names are looked up relative
to it, and ownership and modes are set with ``fchown``/``fchmod`` on the open file. A link or a
file of somebody else's where a folder is expected is refused with an :class:`UnsafePath`,
before anything is written in it; renaming a folder meanwhile only moves what root writes
elsewhere inside the same account's folder, never outside.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
SKIP = {".ipynb_checkpoints", "__pycache__"}


class UnsafePath(ValueError):
    """A link, a file or another account's folder where root was to write; nothing written there."""


def open_dir(path: Path | str, name: str | None = None, *, dir_fd: int | None = None) -> int:
    """``dir_fd``/``name`` (or ``path``) as a directory fd, refusing a link or a non-folder."""
    where = str(path if name is None else Path(path) / name)
    try:
        return os.open(where if name is None else name, DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafePath(f"{where} is a link or not a folder: remove it (root) and run again") from None
        raise UnsafePath(f"cannot open {where}: {exc.strerror}") from None


def owned_dir(parent: int, name: str, where: Path, uid: int, gid: int, mode: int, *, create: bool = True) -> int:
    """The folder ``name`` in the open folder ``parent``, made if missing (``create``), owned by
    ``uid:gid`` with ``mode``; an existing one must already be ``uid``'s (root's only if root
    just made it). Returns its fd (the caller closes it)."""
    made = False
    if create:
        try:
            os.mkdir(name, 0o700, dir_fd=parent)
            made = True
        except FileExistsError:
            pass
    fd = open_dir(where, name, dir_fd=parent)
    try:
        owner = os.fstat(fd).st_uid
        if owner != uid and not (made and owner == 0):
            raise UnsafePath(
                f"{where / name} is not the account's own folder (owner uid {owner}): remove it (root) and run again"
            )
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_file(parent: int, name: str, data: bytes, uid: int, gid: int, mode: int) -> None:
    """Replace ``name`` in the open folder ``parent`` by a new file (made under a fresh name,
    then renamed over it: a link or hard link there is replaced, never written through)."""
    tmp = f".{name}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent)
    try:
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    try:
        os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
    except OSError as exc:
        os.unlink(tmp, dir_fd=parent)
        raise UnsafePath(f"cannot put {name} in place: {exc.strerror}") from None


def copy_tree(src: Path, parent: int, name: str, uid: int, gid: int) -> None:
    """Copy the folder ``src`` (root's) to a new folder ``name`` in the open folder ``parent``:
    each folder is made by root 0700 (nobody else can enter it while it is filled) and given to
    ``uid:gid`` with its source's mode once its content is in; files keep mode and times."""
    os.mkdir(name, 0o700, dir_fd=parent)
    fd = open_dir(src, name, dir_fd=parent)
    try:
        for entry in sorted(os.scandir(src), key=lambda e: e.name):
            if entry.name in SKIP or entry.is_symlink():
                continue
            if entry.is_dir():
                copy_tree(Path(entry.path), fd, entry.name, uid, gid)
            elif entry.is_file():
                copy_file(Path(entry.path), fd, entry.name, uid, gid)
        info = os.stat(src)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, stat.S_IMODE(info.st_mode))
    finally:
        os.close(fd)


def copy_file(src: Path, parent: int, name: str, uid: int, gid: int) -> None:
    """Copy the file ``src`` to the new file ``name`` in the open folder ``parent``."""
    info = os.stat(src)
    out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent)
    try:
        with open(src, "rb") as fh_in, os.fdopen(out, "wb", closefd=False) as fh_out:
            while chunk := fh_in.read(1 << 20):
                fh_out.write(chunk)
        os.fchown(out, uid, gid)
        os.fchmod(out, stat.S_IMODE(info.st_mode))
        os.utime(out, ns=(info.st_atime_ns, info.st_mtime_ns))
    finally:
        os.close(out)
