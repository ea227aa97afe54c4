"""Benchmark of Submit for grading on a real course hub (prints figures; asserts nothing).

    sudo .venv/bin/python tools/benchmark_submit.py [--students 20] [--repeats 3]

Needs root and the course environment (tools/install_hub.sh). Starts the course's JupyterHub on
free loopback ports with its grading service (tools/start_hub.sh), makes an instructor and
``--students`` real accounts with deploy/roster.py (removed at the end), logs each in for a
real API token, and prints, in one run:

1. the floor of one submission (as tools/benchmark.py measures it: a fresh kernel's start + the
   solution's cells up to the last test, TensorFlow import included, the grader's thread sizes);
2. empty queue: seconds from the API call to the score readable by the student, for one
   submission at a time (``--repeats``, median), and the ratio to the floor (goal <= 1.5);
3. a burst: every student submits at once (one thread each, through the service's HTTP API):
   each graded exactly once with the right score, p50 and p95 of the latency, the burst's
   throughput; then the batch grader (python -m grading, the same machine, the same number of
   workers, ``--skip-tail`` as the service) on as many copies, and the ratio of throughputs
   (goal >= 0.9).
Timings depend on the machine and its load: compare figures of one run only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tools")]

from helpers.hub import Account, Hub, HubUser, run_deploy  # noqa: E402

LAB = "multiclass_digits"
API = "services/grader/api/submissions"


def solution_upload() -> bytes:
    """The released notebook with the solution's two answers, as a student saves it."""
    from helpers.faults import GOOD_MODEL, GOOD_SOFTMAX, answer

    nb = copy.deepcopy(nbformat.read(ROOT / "release" / LAB / f"{LAB}.ipynb", as_version=4))
    answer("my_softmax", GOOD_SOFTMAX)(nb)
    answer("my_model", GOOD_MODEL)(nb)
    return nbformat.writes(nb).encode()


def submit_and_wait(user: HubUser, body: bytes, timeout: float = 1800) -> tuple[float, dict]:
    """POST the notebook, poll until graded; (seconds from the call to the result, result)."""
    start = time.perf_counter()
    r = user.api(
        "POST",
        API,
        params={"notebook": f"{LAB}.ipynb"},
        data=body,
        headers={"Content-Type": "application/x-ipynb+json"},
    )
    if r.status_code != 202:
        raise RuntimeError(f"not taken: {r.status_code} {r.text}")
    sid = r.json()["id"]
    while time.perf_counter() - start < timeout:
        sub = user.api("GET", f"{API}/{sid}").json()
        if sub["status"] in ("graded", "error"):
            return time.perf_counter() - start, sub
        time.sleep(0.1)
    raise TimeoutError(f"{sid} not graded in {timeout:.0f} s")


def batch_seconds(k: int, workers: int) -> float:
    """python -m grading on K copies of the solution notebook: seconds of its grading (first
    task submitted to last result recorded; its one-off preparation not counted)."""
    from grading.batch.coordinator import autograde_all

    with tempfile.TemporaryDirectory(prefix="bench-course-") as tmp:
        course = Path(tmp)
        shutil.copytree(ROOT / "source" / LAB, course / "source" / LAB)
        shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        body = solution_upload()
        for i in range(k):
            folder = course / "submitted" / f"student{i:03d}" / LAB
            folder.mkdir(parents=True)
            (folder / f"{LAB}.ipynb").write_bytes(body)
        stats: dict[str, float] = {}
        results = autograde_all(
            LAB,
            course_dir=course,
            workers=workers,
            progress=None,
            skip_tail=True,
            timeout=600,
            cell_timeout=120,
            stats=stats,
        )
        bad = [r for r in results if r.status != "ok" or r.score != r.max_score]
        if bad:
            raise RuntimeError(f"the batch did not give full marks: {bad}")
        return stats["grading"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3, help="single submissions on an empty queue (median)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("run as root (real accounts, the hub)", file=sys.stderr)
        return 2
    from benchmark import floor_seconds

    from grading.limits import Limits

    workers = os.cpu_count() or 2
    floor = floor_seconds(Limits().threads)["floor"]
    tag = uuid.uuid4().hex[:5]
    folder = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    roster = folder / "roster.csv"
    names = [f"hb{tag}-s{i:02d}" for i in range(args.students)]
    passwords = {n: uuid.uuid4().hex for n in names}
    roster.write_text(
        "username,name,role,password\n"
        + f"hb{tag}-instr,Bench Instructor,instructor,\n"
        + "".join(f"{n},Bench Student{i},student,{passwords[n]}\n" for i, n in enumerate(names))
    )
    # the service as a course runs it (its defaults), but no rate limit in the benchmark's way
    hub = Hub(
        folder,
        {
            "COURSE_SUBMIT_LIMIT": "1000/h",
            "COURSE_GRADER_WORKERS": str(workers),
            "COURSE_SUBMIT_MAX_MB": "8",
            "COURSE_SUBMIT_TIMEOUT": "600",
            "COURSE_SUBMIT_CELL_TIMEOUT": "120",
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "3",
        },
    )
    try:
        made = time.perf_counter()
        run_deploy("roster.py", str(roster))
        print(f"{args.students} student accounts and the instructor made in {time.perf_counter() - made:.1f} s")
        started = time.perf_counter()
        hub.start()
        print(f"hub started in {time.perf_counter() - started:.1f} s")
        users = [HubUser(hub, Account(n, passwords[n], "student")) for n in names]
        for u in users:
            u.login()
        body = solution_upload()
        first, sub = submit_and_wait(users[0], body)  # includes the service's first preparation
        print(
            f"first submission after the hub's start (one-off preparation included): {first:.1f} s, "
            f"{sub['status']} {sub['score']}/{sub['max_score']}"
        )
        alone = []
        for i in range(args.repeats):
            seconds, sub = submit_and_wait(users[1 + i % (len(users) - 1)], body)
            if sub["score"] != 20.0:
                raise RuntimeError(f"wrong score: {sub}")
            alone.append(seconds)
        empty = statistics.median(alone)
        print(f"{'floor (kernel + cells up to the last test)':<52} {floor:8.2f} s")
        print(f"{f'empty queue: call to score shown (median of {args.repeats})':<52} {empty:8.2f} s")
        print(f"{'ratio empty queue / floor (goal <= 1.5)':<52} {empty / floor:8.2f}")
        burst_start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(users)) as pool:
            done = list(pool.map(lambda u: submit_and_wait(u, body), users))
        burst = time.perf_counter() - burst_start
        latencies = sorted(s for s, _ in done)
        scores = [sub["score"] for _, sub in done]
        once = all(
            len([s for s in u.api("GET", API).json()["submissions"] if s["id"] == sub["id"]]) == 1
            for u, (_, sub) in zip(users, done, strict=True)
        )
        print(
            f"burst of {len(users)}: all graded {all(sub['status'] == 'graded' for _, sub in done)}, "
            f"right scores {scores.count(20.0)}/{len(users)}, each once {once}"
        )
        p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
        print(f"{'burst latency p50 / p95':<52} {statistics.median(latencies):8.2f} / {p95:.2f} s")
        print(f"{'burst: seconds per submission (wall / n)':<52} {burst / len(users):8.2f} s")
    finally:
        hub.stop()
        run_deploy("roster.py", "--remove", str(roster))
        shutil.rmtree(folder, ignore_errors=True)
    batch = batch_seconds(len(users), workers)
    print(f"{f'batch grader, {workers} workers: seconds per submission':<52} {batch / len(users):8.2f} s")
    print(f"{'throughput service / batch (goal >= 0.9)':<52} {batch / burst:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
