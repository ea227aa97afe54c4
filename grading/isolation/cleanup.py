"""Removing a folder a submission could write into, whatever it left there.

With ``--isolation namespaces`` run by an ordinary user, the kernel's uid 4242 is the grader's
own uid seen from outside the sandbox: a folder it made unreadable (``chmod 0``) holds files
the grader cannot list, and ``shutil.rmtree`` leaves it behind. As their owner the grader can
give itself the permissions back first. (Run as root the grader needs none of this.)

Nothing in the folder is trusted. Every folder is opened relative to its parent's descriptor
and never through a symbolic link (``O_NOFOLLOW``), and permissions are given back on the
folder actually opened, not on a path that could meanwhile be swapped for a link. Nor does
the depth matter: Python 3.11's ``os.walk`` and ``shutil.rmtree`` recurse, and a tree a
few thousand folders deep stops them with a RecursionError (the folder, maybe gigabytes of
host memory on /dev/shm, then stays). Here a subfolder is moved up into the top folder (under
a random name) before it is emptied: the work list stays flat, two folders open at a time.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import itertools
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

_HANDLE = os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
PASSES = 3  # full passes over the top folder before giving up on what still will not go


MKDTEMP_TAIL = "[a-z0-9_]+"  # the random letters tempfile.mkdtemp puts after its prefix
BOOT_ID = "/proc/sys/kernel/random/boot_id"  # this machine's, since its kernel started
SCOPE_LEN = 12  # hex digits of a scope (see scope): 48 bits
UNKNOWN_SCOPE = "0"  # no pid namespace known: names made there are never judged
PID_T_MAX = 2**31 - 1  # a pid is a C int: a name with a larger number is not a grader's


@functools.cache
def scope() -> str:
    """This process's pid namespace on this machine: :data:`SCOPE_LEN` hex digits of a digest
    of the machine's boot id and the namespace's inode (``readlink /proc/self/ns/pid``).

    A pid means something only there. Workers in other containers (other pid namespaces)
    can share /tmp, /dev/shm or the cgroup tree with this one (a privileged pod sees its
    node's), workers on other machines a TMPDIR on a network file system (where the inode
    alone is no help: every machine's initial pid namespace has the same one, and machines
    set up alike hand out the same ones to their containers): their names carry another
    scope, and this process never judges them gone. Without /proc (or with another
    namespace's, where this process is no pid) it is :data:`UNKNOWN_SCOPE`: the names still
    carry it, but none is judged.
    """
    try:
        inode = os.stat("/proc/self/ns/pid").st_ino
        with open(BOOT_ID, encoding="ascii") as fh:
            boot = fh.read().strip()
    except (OSError, ValueError):  # every grader without /proc would write this same scope
        return UNKNOWN_SCOPE
    if not boot:
        return UNKNOWN_SCOPE
    return hashlib.sha256(f"{boot}/{inode}".encode()).hexdigest()[:SCOPE_LEN]


def owned_prefix(prefix: str) -> str:
    """``PREFIX<pid>-<scope>-``: how a name :func:`owner_gone` may judge starts."""
    return f"{prefix}{os.getpid()}-{scope()}-"


def owner_gone(name: str, prefix: str, tail: str = MKDTEMP_TAIL) -> bool:
    """True if ``name`` is ``PREFIX<pid>-<scope>-<tail>`` as the grader makes them (see
    :func:`owned_prefix`: the pid as os.getpid() writes it, this process's scope, ``tail``
    a regular expression) and no process ``pid`` runs: the process that made the folder (a
    grader, a worker) died before removing it. Any other name sharing the prefix (leading
    zeros, other digits, another scope or tail) is not ours: never gone, since what is gone
    is removed and, for a cgroup, every process in it killed.

    The pid is looked up with ``kill(pid, 0)``, in this process's own pid namespace: /proc
    may be another namespace's (a container started without its own), where the same number
    is another process or none, or hide other users' processes (``hidepid``)."""
    here = scope()
    if here == UNKNOWN_SCOPE:
        return False
    found = re.fullmatch(re.escape(prefix) + "([1-9][0-9]*)-" + here + "-" + tail, name)
    return found is not None and int(found[1]) <= PID_T_MAX and not _pid_alive(int(found[1]))


def _pid_alive(pid: int) -> bool:
    """True unless no process (or zombie) ``pid`` exists in this process's pid namespace."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _open_dir(name: str, dir_fd: int | None) -> int | None:
    """A descriptor listing the folder ``name`` (never a link), after giving its owner u+rwx;
    None if it is not a folder or cannot be opened."""
    try:
        handle = os.open(name, _HANDLE, dir_fd=dir_fd)  # needs no permission on the folder
    except OSError:
        return None
    this = f"/proc/self/fd/{handle}"  # this very folder, whatever its name points at now
    try:
        mode = stat.S_IMODE(os.fstat(handle).st_mode)
        if mode & 0o700 != 0o700:
            os.chmod(this, mode | 0o700)
        return os.open(this, _READ)
    except OSError:
        try:  # no /proc: as root, permissions do not matter
            return os.open(name, _READ | os.O_NOFOLLOW, dir_fd=dir_fd)
        except OSError:
            return None
    finally:
        os.close(handle)


def _empty(fd: int, top: int, todo: list[str], names: Iterator[str]) -> None:
    """Unlink the files of folder ``fd``; its subfolders move up into ``top`` and join ``todo``."""
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                if not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.name, dir_fd=fd)
                elif fd == top:
                    todo.append(entry.name)
                else:
                    sub = _open_dir(entry.name, fd)  # u+w: moving a folder rewrites its '..'
                    if sub is not None:
                        os.close(sub)
                    for _ in range(10):  # (the student cannot guess the names: see remove_tree)
                        new = next(names)
                        try:
                            os.rename(entry.name, new, src_dir_fd=fd, dst_dir_fd=top)
                        except OSError as exc:
                            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                                continue  # the name is taken
                            raise
                        todo.append(new)
                        break
            except OSError:
                pass  # gone already, or left for the next pass


def _clear(path: str, names: Iterator[str]) -> bool:
    """One pass emptying the folder ``path`` (see :func:`remove_tree`); False if it is not a
    folder that can be opened."""
    top = _open_dir(path, None)
    if top is None:
        return False
    try:
        todo = [""]  # "" is the top folder itself; the others are names in it
        while todo:
            name = todo.pop()
            fd = top if not name else _open_dir(name, top)
            if fd is None:  # not a folder (any more)
                try:
                    os.unlink(name, dir_fd=top)
                except OSError:
                    pass
                continue
            try:
                _empty(fd, top, todo, names)
            except OSError:
                pass  # (not listable): the rmdir below fails, the next pass tries again
            finally:
                if fd != top:
                    os.close(fd)
            if name:
                try:
                    os.rmdir(name, dir_fd=top)
                except OSError:
                    pass  # not empty after all: the next pass finds it again
    finally:
        os.close(top)
    return True


def _names() -> Iterator[str]:
    tag = os.urandom(6).hex()
    return (f".removing-{tag}-{i}" for i in itertools.count())


def remove_tree(path: str | Path) -> bool:
    """Remove ``path`` and everything under it; True if it is gone.

    Call it once the processes that could write there are dead: it does not follow links
    either way, but a writer could keep adding files.
    """
    path = os.fspath(path)
    if not os.path.lexists(path):
        return True
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return not os.path.lexists(path)
    names = _names()
    for _ in range(PASSES):
        if not _clear(path, names):
            break
        try:
            os.rmdir(path)
            break
        except OSError:
            continue
    return not os.path.lexists(path)


def empty_tree(path: str | Path) -> bool:
    """Remove everything in the folder ``path`` (not a link), keeping the folder; True if it
    is empty afterwards. The same rules as :func:`remove_tree`."""
    path = os.fspath(path)
    names = _names()
    for _ in range(PASSES):
        if not _clear(path, names):
            return False
        fd = _open_dir(path, None)
        if fd is None:
            return False
        try:
            with os.scandir(fd) as entries:
                if next(entries, None) is None:
                    return True
        finally:
            os.close(fd)
    return False
