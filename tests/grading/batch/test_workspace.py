"""grading.batch.workspace: the kernel's socket folder (where, how named, removed when). What the
workspace's rebuild reads of a submission is tested in test_submission.py."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from grading.batch.scan import submitted_task
from grading.batch.tasks import Task
from grading.batch.worker import sweep_scratch
from grading.errors import GradingError
from grading.filetree import read_tree
from grading.isolation.cleanup import owned_prefix, remove_tree
from grading.limits import Limits


def _task(course: Path, student: str) -> Task:
    """The task the coordinator makes of ``student``'s submitted folder (default size limit)."""
    return submitted_task(course, "toy", student, max_bytes=Limits().notebook_bytes,
                          graded=frozenset({"toy.ipynb"}))


def test_a_socket_folder_on_dev_shm_is_named_for_its_worker(tmp_path):
    from grading.batch.workspace import BatchContext, _setup_sandbox
    from grading.isolation.integrity import PackageSnapshot
    from grading.limits import Limits

    class Cgroups:
        def create(self, key, limits):
            return []

    ctx = BatchContext(assignment="a", course_id="c", work=tmp_path, source={}, release={},
                       template_db=b"", timeout=60, packages=PackageSnapshot(roots={}, files={}),
                       config_text="", isolation="sandboxed", limits=Limits(), bwrap="bwrap", cgroups=Cgroups())
    (tmp_path / "ws").mkdir()
    _, env, _, ipc = _setup_sandbox(ctx, "s", tmp_path / "ws")
    try:  # (with cgroups the grader runs as root: /dev/shm is writable)
        assert ipc.parent == Path("/dev/shm") and ipc.name.startswith(owned_prefix("course-ipc-"))
        # the connection files are the grader's, in the workspace, never in the kernel's folder
        assert Path(env["JUPYTER_RUNTIME_DIR"]) == tmp_path / "ws" / "box" / "runtime"
        assert ipc not in sweep_scratch(tmp_path / "none")  # this worker is alive: kept
        assert ipc.is_dir()
    finally:
        remove_tree(ipc)


def test_without_cgroups_the_socket_folder_is_on_disk_not_in_host_memory(tmp_path):
    """--isolation namespaces: no memory cgroup would charge what the kernel writes into its
    socket folder, so the folder is in the worker's scratch (disk), not on /dev/shm."""
    from grading.batch.workspace import BatchContext, _setup_sandbox
    from grading.isolation.integrity import PackageSnapshot
    from grading.limits import Limits

    work = tmp_path / "work"
    work.mkdir()
    ctx = BatchContext(assignment="a", course_id="c", work=work, source={}, release={},
                       template_db=b"", timeout=60,
                       packages=PackageSnapshot(roots={}, files={}), config_text="",
                       isolation="namespaces", limits=Limits(), bwrap="bwrap", cgroups=None)
    (tmp_path / "ws").mkdir()
    _, env, dirs, ipc = _setup_sandbox(ctx, "s", tmp_path / "ws")
    try:
        assert dirs == [] and ipc.parent == work and ipc.is_dir()
    finally:
        shutil.rmtree(ipc, ignore_errors=True)


def test_the_socket_folder_is_removed_only_after_the_submissions_cgroup_is_killed(tmp_path, monkeypatch):
    """The kernel can write its socket folder while any process of the submission runs: the
    cgroup (every such process) is killed first, then the folder removed, never the reverse."""
    import nbformat
    from helpers.courses import make_course, submit, toy_source, toy_submission

    from grading.batch import workspace
    from grading.batch.workspace import BatchContext, grade_one
    from grading.isolation.integrity import PackageSnapshot
    from grading.limits import Limits

    order: list[str] = []

    class Cgroups:  # records what the grader does with the submission's cgroup
        def create(self, key, limits):
            return [tmp_path / "cgroup"]

        def members(self, dirs):
            return set()

        def remove(self, dirs):
            order.append("cgroup killed")

    def autograde(argv, *, cwd, env, log, timeout, on_end):
        Path(log).write_text("the autograde ran\n")
        order.append("autograde")
        return 1

    real_remove = workspace.remove_tree

    def remove(path):
        if "course-ipc-" in str(path):
            order.append("socket folder removed")
        return real_remove(path)

    monkeypatch.setattr(workspace, "run_nbgrader", autograde)
    monkeypatch.setattr(workspace, "remove_tree", remove)
    course = make_course(tmp_path / "course", "toy", toy_source())
    submit(course, "toy", "s", toy_submission())
    (tmp_path / "work").mkdir()
    ctx = BatchContext(assignment="toy", course_id="course", work=tmp_path / "work",
                       source=read_tree(course / "source" / "toy"),
                       release={"toy.ipynb": nbformat.writes(toy_source()).encode()},
                       template_db=b"", timeout=60, config_text="", isolation="namespaces",
                       packages=PackageSnapshot(roots={}, files={"course_pkg": {"__init__.py": b""}}),
                       limits=Limits(), bwrap="bwrap", cgroups=Cgroups())
    out = grade_one(ctx, _task(course, "s"))
    assert order == ["autograde", "cgroup killed", "socket folder removed"]
    # what goes back to the coordinator: the autograde log (nothing was autograded)
    assert out.autograded == {"toy.autograde.log": b"the autograde ran\n"}


def test_a_temporary_folder_too_long_for_the_kernels_sockets_is_refused_up_front(monkeypatch):
    """Without cgroups the socket folder is on disk, in the worker's temporary folder: from a
    TMPDIR too long on, the kernel's socket paths pass the 107 bytes of a Unix socket, it
    cannot bind them, and every submission of the batch failed with a dead kernel."""
    from grading.batch.worker import SCRATCH_PREFIX
    from grading.batch.workspace import BatchContext, _setup_sandbox
    from grading.isolation import sandbox
    from grading.isolation.cleanup import SCOPE_LEN
    from grading.isolation.integrity import PackageSnapshot
    from grading.limits import Limits

    base = Path(tempfile.mkdtemp(prefix="s", dir="/tmp"))
    try:
        room = sandbox.SOCKET_PATH_MAX - sandbox.SOCKET_TAIL
        longest = base / ("t" * (room - len(str(base)) - 1))
        longest.mkdir()
        assert len(str(longest)) == room
        # the folders a task makes there (grading.batch.worker.grade_task, then the workspace's)
        # the longest pid and scope (grading.isolation.cleanup.owned_prefix)
        scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}4194304-{'f' * SCOPE_LEN}-",
                                        dir=longest))
        (scratch / "work" / "ws").mkdir(parents=True)
        ctx = BatchContext(assignment="a", course_id="c", work=scratch / "work", source={},
                           release={}, template_db=b"", timeout=60,
                           packages=PackageSnapshot(roots={}, files={}), config_text="",
                           isolation="namespaces", limits=Limits(), bwrap="bwrap", cgroups=None)
        _, _, _, ipc = _setup_sandbox(ctx, "s", scratch / "work" / "ws")
        assert len(os.fsencode(str(ipc) + "/k-9")) <= sandbox.SOCKET_PATH_MAX
        monkeypatch.setattr(tempfile, "tempdir", str(longest))
        assert sandbox.check_host("namespaces")[0]
        monkeypatch.setattr(tempfile, "tempdir", str(longest) + "t")
        with pytest.raises(GradingError, match=f"set TMPDIR to a folder of at most {room} bytes"):
            sandbox.check_host("namespaces")
    finally:
        shutil.rmtree(base, ignore_errors=True)
