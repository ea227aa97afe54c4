"""A real Dask cluster on loopback: ``dask scheduler`` and two ``dask worker`` processes started
with the stock commands, a batch of the graded lab graded with ``scheduler=``, and one
worker's whole process group killed after the first result. Every student must be graded
exactly once with the right score. Then a TLS-only cluster (self-signed certificate made
with openssl) grades only with the certificates passed through. Everything started here is
stopped by pid afterwards.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from helpers.courses import gradebook_scores, kill_group, lab_course, submit
from helpers.repo import LAB
from helpers.submissions import EXPECTED_SCORES, filled_release

from grading.batch.coordinator import autograde_all
from grading.batch.gradebook import sqlite_url

KINDS = ("reference", "wrong_softmax", "softmax_output", "blank")
BIN = Path(sys.executable).parent


def _start(args: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, PATH=str(BIN) + os.pathsep + os.environ["PATH"])
    with open(log, "wb") as fh:  # own process group: killed as a whole, like a lost machine
        return subprocess.Popen([str(BIN / "dask"), *args], stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)



def _wait_for(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:g} s")
        time.sleep(0.5)


@pytest.fixture
def cluster(tmp_path):
    """(scheduler address, {worker name: Popen}); stopped by pid afterwards."""
    sched_file = tmp_path / "scheduler.json"
    procs: list[subprocess.Popen] = []
    workers: dict[str, subprocess.Popen] = {}
    try:
        procs.append(_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                             "--scheduler-file", str(sched_file)], tmp_path / "scheduler.log"))
        _wait_for(sched_file.is_file, 120, "dask scheduler")
        time.sleep(0.5)  # the file is written whole, but give the writer a moment
        address = json.loads(sched_file.read_text())["address"]
        for name in ("w1", "w2"):
            workers[name] = _start(["worker", address, "--name", name, "--nthreads", "1",
                                    "--nworkers", "1", "--host", "127.0.0.1", "--no-dashboard",
                                    "--memory-limit", "0"], tmp_path / f"{name}.log")
            procs.append(workers[name])
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=180)
        yield address, workers
    finally:
        every = []
        for proc in procs:
            try:
                every += psutil.Process(proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
        for proc in reversed(procs):
            kill_group(proc)
        left = psutil.wait_procs(every, timeout=30)[1]
        assert left == [], f"cluster processes left running: {left}"


@pytest.mark.slow
@pytest.mark.sandbox
def test_real_cluster_worker_killed_mid_batch_loses_nothing(tmp_path, cluster):
    address, workers = cluster
    course = lab_course(tmp_path / "course", mechanics=True)
    for kind in KINDS:
        submit(course, LAB, kind, filled_release(kind, mechanics=True))
    lines: list[str] = []
    killed: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        print(line, flush=True)
        if line.startswith("[1/") and not killed:
            # the worker that did NOT send the first result is still on its first task
            victim = "w2" if " on w1@" in line else "w1"
            killed.append(victim)
            os.killpg(workers[victim].pid, signal.SIGKILL)

    results = autograde_all(LAB, course_dir=course, scheduler=address, timeout=1200,
                            cell_timeout=120, skip_tail=True, restore_course_files=False,
                            progress=progress)
    assert killed, "the first result never came"
    assert lines[0].startswith(f"autograding 4 submission(s) of {LAB} with 2 worker(s) on {address}")
    assert sorted(r.student for r in results) == sorted(KINDS)  # each exactly once
    result_lines = [l for l in lines if l.startswith("[")]
    assert sorted(l.split("] ")[1].split(":")[0] for l in result_lines) == sorted(KINDS)
    survivor = "w1" if killed == ["w2"] else "w2"
    for res in results:
        assert res.status == "ok", (res.student, res.notes)
        assert res.grades == EXPECTED_SCORES[res.student], res.student
        assert res.worker.split("@")[0] in ("w1", "w2")
    # after the first result, only the survivor graded: the killed worker's task was rerun
    assert all(f" on {survivor}@" in l for l in result_lines[1:]), result_lines
    stored = gradebook_scores(sqlite_url(course / "gradebook.db"), "multiclass-digits", LAB)
    assert stored == {k: EXPECTED_SCORES[k] for k in KINDS}


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, made with openssl."""
    cert, key = tmp_path / "tls-cert.pem", tmp_path / "tls-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.mark.slow
@pytest.mark.sandbox
def test_tls_cluster_needs_the_certificates_and_grades_with_them(tmp_path):
    from helpers.courses import make_course, toy_source, toy_submission

    from grading.errors import GradingError

    cert, key = _self_signed(tmp_path)
    tls = ["--tls-ca-file", cert, "--tls-cert", cert, "--tls-key", key]
    sched_file = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(_start(["scheduler", "--host", "tls://127.0.0.1", "--port", "0",
                             "--no-dashboard", "--scheduler-file", str(sched_file), *tls],
                            tmp_path / "scheduler.log"))
        _wait_for(sched_file.is_file, 120, "dask scheduler")
        time.sleep(0.5)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tls://")
        procs.append(_start(["worker", address, "--name", "tls1", "--nthreads", "1",
                             "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0", *tls],
                            tmp_path / "worker.log"))
        course = make_course(tmp_path / "course", "toy", toy_source())
        submit(course, "toy", "alice", toy_submission())
        with pytest.raises(GradingError, match="needs --tls-ca-file"):
            autograde_all("toy", course_dir=course, scheduler=address, progress=None)
        (res,) = autograde_all("toy", course_dir=course, scheduler=address, tls_ca_file=cert,
                               tls_cert=cert, tls_key=key, timeout=300, cell_timeout=60,
                               progress=print, restore_course_files=False)
        assert (res.status, res.score, res.worker.split("@")[0]) == ("ok", 5.0, "tls1")
    finally:
        for proc in reversed(procs):
            kill_group(proc)
