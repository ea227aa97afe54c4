"""grading.isolation.cleanup: a folder the student locked (chmod 0) is removed all the same by a grader
without root's powers, and a symbolic link in it changes nothing outside.

Run as root, the removal runs without capabilities (``setpriv``, util-linux): root's uid then
gets the permission checks of an ordinary owner (another uid might not even be able to start
this Python, if it is installed in root's private home folder)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from helpers.repo import ROOT

from grading.isolation.cleanup import remove_tree

SCRIPT = textwrap.dedent("""\
    import os, sys
    from grading.isolation.cleanup import remove_tree
    top, outside = sys.argv[1], sys.argv[2]
    box = os.path.join(top, "ipc")
    os.makedirs(os.path.join(box, "locked", "deeper"))
    for name in ("locked/deeper/data", "locked/data", "readonly_file"):
        with open(os.path.join(box, name), "w") as fh:
            fh.write("x" * 1000)
    os.symlink(outside, os.path.join(box, "locked", "link"))  # a folder of the grader
    os.chmod(os.path.join(box, "readonly_file"), 0)
    os.chmod(os.path.join(box, "locked", "deeper"), 0)
    os.chmod(os.path.join(box, "locked"), 0)
    print(remove_tree(box), os.path.exists(box), oct(os.stat(outside).st_mode & 0o777))
""")


def test_a_folder_locked_by_the_student_is_removed_and_links_are_not_followed():
    # as root every permission is bypassed: the removal must run without capabilities
    top = Path(tempfile.mkdtemp(prefix="cleanup-test-"))
    try:
        outside = top / "grader-folder"
        outside.mkdir(mode=0o500)
        powerless = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"] \
            if os.geteuid() == 0 else []
        proc = subprocess.run([*powerless, sys.executable, "-c", SCRIPT, str(top), str(outside)],
                              capture_output=True, text=True, timeout=60, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["True", "False", "0o500"]  # gone; the link's target untouched
    finally:
        shutil.rmtree(top, ignore_errors=True)  # as root (tests run as root in CI)


def _scratch(tmp_path: Path) -> Path:
    """A scratch folder on /dev/shm when it can be (where the socket folder is, and fast)."""
    shm = Path("/dev/shm")
    where = shm if os.access(shm, os.W_OK) else tmp_path
    return Path(tempfile.mkdtemp(prefix="cleanup-test-", dir=where))


def test_a_tree_deeper_than_the_recursion_limit_is_removed(tmp_path):
    """os.walk and shutil.rmtree recurse (Python 3.11): a socket folder nested a few
    thousand levels deep stopped them with a RecursionError and stayed (in host memory)."""
    top = _scratch(tmp_path)
    try:
        depth = sys.getrecursionlimit() + 200
        fd = os.open(top, os.O_RDONLY)
        for _ in range(depth):  # relative to a descriptor: no path grows past PATH_MAX
            os.mkdir("d", dir_fd=fd)
            with open(os.open("f", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "w") as fh:
                fh.write("x")
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        os.symlink("/", "root", dir_fd=fd)
        os.close(fd)
        assert remove_tree(top) is True
        assert not top.exists()
    finally:
        if top.exists():
            subprocess.run(["rm", "-rf", str(top)], check=False)


def test_a_folder_swapped_for_a_link_before_its_chmod_changes_nothing_outside(tmp_path, monkeypatch):
    """remove_tree gives a locked folder its permissions back. A process still running in the
    tree could swap the folder for a link between the check and the chmod: the chmod must
    land on the folder that was checked, never on what the link points at."""
    outside = tmp_path / "grader-file"
    outside.write_text("secret")
    outside.chmod(0o600)
    top = tmp_path / "ipc"
    (top / "locked").mkdir(parents=True)
    (top / "locked").chmod(0o055)  # the owner's bits missing: remove_tree restores them
    real_chmod, swapped = os.chmod, []

    def racing_chmod(path, mode, *args, **kwargs):
        if not swapped:  # the student's process wins the race right before the first chmod
            os.rename(top / "locked", top / "moved")
            os.symlink(outside, top / "locked")
            swapped.append(path)
        return real_chmod(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "chmod", racing_chmod)
    gone = remove_tree(top)
    monkeypatch.undo()
    assert swapped, "the folder was never given its permissions back"
    assert oct(outside.stat().st_mode & 0o777) == "0o600" and outside.read_text() == "secret"
    assert gone and not top.exists()


# What a grader in its own pid namespace sees when /proc was left from the outer namespace
# (``unshare --pid --fork`` without --mount-proc, a container started without its own /proc):
# a live process of its namespace whose pid is no process in that /proc, judged by name.
LIVE_IN_OUTER_PROC = textwrap.dedent("""\
    import os, subprocess
    from grading.isolation.cleanup import owner_gone, scope
    # a pid free in the outer namespace's /proc, given to a live process of this namespace
    pid = next(p for p in range(30000, 2, -1) if not os.path.exists(f"/proc/{p}"))
    with open("/proc/sys/kernel/ns_last_pid", "w") as fh:  # this namespace's next pid
        fh.write(str(pid - 1))
    child = subprocess.Popen(["sleep", "60"])
    try:
        assert child.pid == pid and not os.path.exists(f"/proc/{pid}"), (child.pid, pid)
        print(owner_gone(f"grading-task-{pid}-{scope()}-abc", "grading-task-"))
    finally:
        child.kill()
""")


@pytest.mark.sandbox
def test_a_live_process_is_not_judged_gone_when_proc_is_another_namespaces():
    got = subprocess.run(["unshare", "--pid", "--fork", sys.executable, "-c", LIVE_IN_OUTER_PROC],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["False"]


NO_PROC = textwrap.dedent("""\
    import os
    from grading.isolation.cleanup import owned_prefix, owner_gone, scope
    assert not os.path.exists("/proc/self")
    # another grader without /proc, in another pid namespace, writes the same scope: its pid
    # (not ours to look up) is not judged
    print(owner_gone(f"grading-task-999999999-{scope()}-abc", "grading-task-"),
          owned_prefix("grading-task-").endswith(f"-{scope()}-"))
""")


@pytest.mark.sandbox
def test_without_proc_no_name_is_judged():
    """Without /proc this process cannot tell its pid namespace from another's."""
    got = subprocess.run(["unshare", "--mount", "--pid", "--fork", "sh", "-c",
                          'umount -l /proc && exec "$0" -c "$1"', sys.executable, NO_PROC],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["False", "True"]


def test_a_name_with_a_number_no_pid_can_be_is_not_judged():
    """A pid is a C int: kill() cannot even be asked about a larger number (OverflowError
    would stop the sweep, and with it the task); no grader makes such a name."""
    from grading.isolation.cleanup import owner_gone, scope

    for pid in (2**31, 10**30):
        assert not owner_gone(f"grading-task-{pid}-{scope()}-abc", "grading-task-")
    assert owner_gone(f"grading-task-{2**31 - 1}-{scope()}-abc", "grading-task-")  # no such pid
