"""grading.cleanup: a folder the student locked (chmod 0) is removed all the same by a grader
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

from helpers.repo import ROOT

SCRIPT = textwrap.dedent("""\
    import os, sys
    from grading.cleanup import remove_tree
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


def test_without_cgroups_the_socket_folder_is_on_disk_not_in_host_memory(tmp_path):
    """--isolation namespaces: no memory cgroup would charge what the kernel writes into its
    socket folder, so the folder is in the worker's scratch (disk), not on /dev/shm."""
    from grading.integrity import PackageSnapshot
    from grading.sandbox import Limits
    from grading.workspace import BatchContext, _setup_sandbox

    work = tmp_path / "work"
    work.mkdir()
    ctx = BatchContext(course_dir=tmp_path, assignment="a", db_url="", course_id="c", work=work,
                       template_db=tmp_path / "t.db", release_dir=tmp_path, timeout=60,
                       packages=PackageSnapshot(roots={}, files={}), config_text="",
                       isolation="namespaces", limits=Limits(), bwrap="bwrap", cgroups=None)
    (tmp_path / "ws").mkdir()
    _, env, dirs = _setup_sandbox(ctx, "s", tmp_path / "ws")
    ipc = Path(env["JUPYTER_RUNTIME_DIR"])
    try:
        assert dirs == [] and ipc.parent == work and ipc.is_dir()
    finally:
        shutil.rmtree(ipc, ignore_errors=True)
