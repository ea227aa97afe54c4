"""Benchmark of the graded lab and of course-scale autograding (prints figures; asserts nothing).

    python tools/benchmark.py [--submissions K] [--workers N] [--full-notebook]

Prints, in one run:
1. kernel start, TensorFlow import, fit (40 epochs) and total execution of the solution
   notebook, and the ratio total / (kernel + import + fit);
2. the 64-digit prediction grid: one batched ``predict`` of 64 images vs a loop of 64
   single-image ``predict`` calls (ratio), plus the whole grid cell;
3. autograde seconds per submission, sequential (1 worker) vs N workers (ratio), with
   ``python -m grading`` (grading.batch.coordinator) on K copies of the solution notebook.
   By default the cells after the last test are not run (``--skip-tail``, training is after the tests), so at most one
   training job runs at a time; ``--full-notebook`` grades the whole notebook;
4. sandbox overhead: one solution submission autograded (whole notebook, 1 worker) with
   ``--isolation none`` and with the default sandbox, alternating ``--repeats`` times, and
   the ratio of the medians sandboxed / none.
   ``--sandbox-only`` runs just this part;
5. Dask: submissions per minute with 1 and with N workers of the embedded LocalCluster
   (``--skip-tail``, K solution submissions each; the clock runs from the first task
   submitted to the last result recorded: cluster start and stop, ``generate_assignment``
   and the workers' fork-server imports are one-off costs of a batch, printed apart as
   "whole batch"), against the floor of one submission (a fresh kernel's start + executing
   the cells up to the last test, TensorFlow import included): cost per submission / floor,
   the throughput ratio N workers / 1 worker, the machine's busy CPU seconds per submission
   and the throughput ceiling they imply, and the machine's own ceiling without the grader
   (the floor job alone vs two copies at once). ``--cluster-only`` runs just this part
   (1 and N workers alternating ``--repeats`` times, medians);
6. what ``--skip-tail`` saves: seconds per submission with 1 worker (sandboxed), K correct
   submissions (the solution) and K blank ones (the release), each with and without
   ``--skip-tail``, alternating ``--repeats`` times (medians), and the ratios.
   ``--tail-only`` runs just this part.
Timings depend on the machine and its load: compare runs made on the same machine only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LAB = "multiclass_digits"
SOURCE = ROOT / "source" / LAB / f"{LAB}.ipynb"


def _run(kc, code: str, timeout: float = 900) -> float:
    """Execute ``code`` in the kernel; return wall seconds; raise on error."""
    start = time.perf_counter()
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=lambda msg: None)
    seconds = time.perf_counter() - start
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"benchmark code failed: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    return seconds


def kernel_phases() -> dict[str, float]:
    """Kernel start, TF import, fit, and the grid: batched vs 64 single predicts."""
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
    out = {"kernel start": time.perf_counter() - start}
    try:
        out["tensorflow import"] = _run(kc, "from utils import *\ntf = setup_tensorflow(1234)\nimport tensorflow")
        _run(
            kc,
            "import numpy as np\nX, y = load_data()\n"
            "from tensorflow.keras.models import Sequential\n"
            "from tensorflow.keras.layers import Dense\n"
            "tf.keras.utils.set_random_seed(1234)\n"
            "model = Sequential([tf.keras.Input(shape=(400,)), Dense(25, activation='relu'),"
            " Dense(15, activation='relu'), Dense(10, activation='linear')])\n"
            "model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),"
            " optimizer=tf.keras.optimizers.Adam(learning_rate=0.001))",
        )
        out["fit (40 epochs)"] = _run(kc, "history = model.fit(X, y, epochs=40, verbose=0)")
        _run(
            kc, "idx = np.random.default_rng(2).choice(len(X), 64, replace=False)\nmodel.predict(X[idx[:2]], verbose=0)"
        )  # warm up predict once
        out["grid: 1 batched predict of 64"] = _run(kc, "p = model.predict(X[idx], verbose=0)")
        out["grid: 64 single predicts"] = _run(kc, "p = [model.predict(X[i].reshape(1, 400), verbose=0) for i in idx]")
        out["grid cell (display_predictions_grid)"] = _run(
            kc,
            "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "display_predictions_grid(model, X, y, seed=2)\nplt.close('all')",
        )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return out


def notebook_total() -> float:
    """Wall seconds to execute the whole solution notebook in a fresh kernel."""
    from nbclient import NotebookClient

    nb = nbformat.read(SOURCE, as_version=4)
    client = NotebookClient(
        nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(SOURCE.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


CPU_PER_SUBMISSION: dict[int, float] = {}  # workers -> busy CPU seconds per submission
WHOLE_BATCH: dict[int, float] = {}  # workers -> seconds per submission, cluster start and stop in


def autograde_rates(k: int, workers: int, skip_tail: bool, repeats: int = 1) -> tuple[float, float]:
    """Seconds per submission grading K copies of the solution with 1 worker, then N workers,
    alternating ``repeats`` times (medians; a shared machine's load drifts); CPU_PER_SUBMISSION
    gets the machine's busy CPU seconds per submission (medians too)."""
    from grading.batch.coordinator import autograde_all

    per_sub: dict[int, list[float]] = {1: [], workers: []}
    cpu: dict[int, list[float]] = {1: [], workers: []}
    whole: dict[int, list[float]] = {1: [], workers: []}
    for _ in range(repeats):
        for n in (1, workers):
            with tempfile.TemporaryDirectory(prefix="bench-course-") as tmp:
                course = Path(tmp)
                shutil.copytree(ROOT / "source" / LAB, course / "source" / LAB)
                shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
                for i in range(k):
                    folder = course / "submitted" / f"student{i:03d}" / LAB
                    folder.mkdir(parents=True)
                    shutil.copy(SOURCE, folder / f"{LAB}.ipynb")
                stats: dict[str, float] = {}  # the one-off preparation is not counted
                results = autograde_all(
                    LAB, course_dir=course, workers=n, progress=None, skip_tail=skip_tail, stats=stats
                )
                bad = [r for r in results if r.status != "ok" or r.score != r.max_score]
                if bad:
                    raise RuntimeError(f"the solution did not get full marks: {bad}")
                per_sub[n].append(stats["grading"] / k)
                cpu[n].append(stats["busy_cpu"] / k)
                whole[n].append((stats["prepare"] + stats["grading"] + stats["shutdown"]) / k)
    CPU_PER_SUBMISSION.update({n: statistics.median(v) for n, v in cpu.items()})
    WHOLE_BATCH.update({n: statistics.median(v) for n, v in whole.items()})
    return statistics.median(per_sub[1]), statistics.median(per_sub[workers])


def floor_seconds(threads: int | None = None) -> dict[str, float]:
    """The floor of one submission: kernel start + the solution's cells up to the last test,
    in a plain kernel (no sandbox, no nbgrader); ``threads`` sizes its compute thread pools
    as the grader sizes its kernels' (None: TensorFlow's default, one per core)."""
    from jupyter_client.manager import start_new_kernel
    from nbclient import NotebookClient
    from nbgrader.utils import is_grade, is_solution

    from grading.limits import THREAD_VARS, Limits

    with mock.patch.dict(os.environ):  # the kernel inherits them; restored afterwards
        for name in THREAD_VARS:
            os.environ.pop(name, None)
        if threads is not None:
            os.environ.update(Limits(threads=threads).thread_env())
        start = time.perf_counter()
        km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
        kernel = time.perf_counter() - start
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        nb = nbformat.read(SOURCE, as_version=4)
        last = max(i for i, c in enumerate(nb.cells) if is_grade(c) and not is_solution(c))
        nb.cells = nb.cells[: last + 1]
        client = NotebookClient(
            nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(SOURCE.parent)}}
        )
        with client.setup_kernel():
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            cells = time.perf_counter() - start
    return {"kernel start": kernel, "cells up to the last test (TF import included)": cells, "floor": kernel + cells}


def machine_scaling(repeats: int = 3) -> tuple[float, float]:
    """The machine's own limit, without the grader: wall seconds of the floor job (a plain
    kernel, one compute thread) run alone and two copies at once, in separate processes,
    alternating ``repeats`` times; medians (alone, two at once: the slower copy)."""
    import subprocess

    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from tools.benchmark import "
        "floor_seconds; from grading.limits import Limits; "
        "floor_seconds(Limits().threads)"
    )
    cmd = [sys.executable, "-c", code, str(ROOT)]
    alone: list[float] = []
    both: list[float] = []
    for _ in range(repeats):
        for copies, out in ((1, alone), (2, both)):
            start = time.perf_counter()
            procs = [
                subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(copies)
            ]
            if any(p.wait() != 0 for p in procs):
                raise RuntimeError("the floor job failed (run floor_seconds() to see why)")
            out.append(time.perf_counter() - start)
    return statistics.median(alone), statistics.median(both)


def print_cluster(k: int, workers: int, rates: tuple[float, float] | None = None, repeats: int = 1) -> None:
    """Part 5; ``rates`` reuses part 3's --skip-tail (1 worker, N workers) s/submission."""
    from grading.limits import Limits

    threads = Limits().threads
    runs = [(floor_seconds(threads), floor_seconds()) for _ in range(3)]  # alternating: load drifts
    floor = {name: statistics.median(r[0][name] for r in runs) for name in runs[0][0]}
    floor_default = statistics.median(r[1]["floor"] for r in runs)
    one, many = rates or autograde_rates(k, workers, skip_tail=True, repeats=repeats)
    alone, both = machine_scaling()
    print(
        f"\n== Dask embedded LocalCluster, {k} solution submissions, --skip-tail, "
        f"{threads} compute thread(s) per kernel (--kernel-threads) =="
    )
    for name, value in floor.items():
        print(f"{name:<48} {value:8.2f} s")
    print(f"{'floor with TensorFlow default threads (per core)':<48} {floor_default:8.2f} s")
    print("(floors: medians of 3 alternating runs)")
    print(f"{'1 worker: s/submission (cost per submission)':<48} {one:8.2f}")
    print(f"{f'{workers} workers: s/submission':<48} {many:8.2f}")
    print(f"{'1 worker: submissions per minute':<48} {60 / one:8.2f}")
    print(f"{f'{workers} workers: submissions per minute':<48} {60 / many:8.2f}")
    print(f"{'ratio cost / floor (goal <= 1.3)':<48} {one / floor['floor']:8.2f}")
    print(f"{'ratio cost / floor with default threads':<48} {one / floor_default:8.2f}")
    print(f"{f'ratio throughput {workers} / 1 workers (goal >= 1.9)':<48} {one / many:8.2f}")
    if 1 in CPU_PER_SUBMISSION:  # why the throughput ratio is what it is
        cpu = CPU_PER_SUBMISSION[1]
        cores = os.cpu_count() or 1
        print(f"{'1 worker: busy CPU s/submission (all processes)':<48} {cpu:8.2f}")
        print(f"{'1 worker: cores in use on average':<48} {cpu / one:8.2f}")
        print(
            f"{f'throughput ceiling on {cores} cores = {cores} x s / CPU s':<48} {min(workers, cores) * one / cpu:8.2f}"
        )
        if workers in CPU_PER_SUBMISSION:
            print(f"{f'{workers} workers: busy CPU s/submission':<48} {CPU_PER_SUBMISSION[workers]:8.2f}")
    print("the machine without the grader (floor job in fresh processes, medians of 3):")
    print(f"{'  one copy alone, s':<48} {alone:8.2f}")
    print(f"{'  two copies at once, s':<48} {both:8.2f}")
    print(f"{'  throughput ceiling of 2 processes = 2 x alone / two':<48} {2 * alone / both:8.2f}")
    if 1 in WHOLE_BATCH and workers in WHOLE_BATCH:  # what one small batch costs end to end
        print(f"whole batch of {k} (cluster start, generate_assignment and cluster stop in):")
        print(f"{'  1 worker: s/submission':<48} {WHOLE_BATCH[1]:8.2f}")
        print(f"{f'  {workers} workers: s/submission':<48} {WHOLE_BATCH[workers]:8.2f}")
        print(f"{f'  ratio {workers} / 1 workers':<48} {WHOLE_BATCH[1] / WHOLE_BATCH[workers]:8.2f}")


def sandbox_overhead(repeats: int) -> dict[str, list[float]]:
    """Seconds to autograde one solution submission (whole notebook), unsandboxed and
    sandboxed, alternating ``repeats`` times (a shared machine's load drifts)."""
    from grading.batch.coordinator import autograde_all

    out: dict[str, list[float]] = {"none": [], "sandboxed": []}
    for _ in range(repeats):
        for level in out:
            with tempfile.TemporaryDirectory(prefix="bench-course-") as tmp:
                course = Path(tmp)
                shutil.copytree(ROOT / "source" / LAB, course / "source" / LAB)
                shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
                folder = course / "submitted" / "student" / LAB
                folder.mkdir(parents=True)
                shutil.copy(SOURCE, folder / f"{LAB}.ipynb")
                (res,) = autograde_all(LAB, course_dir=course, workers=1, progress=None, isolation=level)
                if res.status != "ok" or res.score != res.max_score:
                    raise RuntimeError(f"the solution did not get full marks ({level}): {res}")
                out[level].append(res.seconds)
    return out


def print_sandbox_overhead(repeats: int) -> None:
    times = sandbox_overhead(repeats)
    none, boxed = statistics.median(times["none"]), statistics.median(times["sandboxed"])
    print(
        f"\n== sandbox overhead, one solution submission, whole notebook, 1 worker, "
        f"{repeats} alternating run(s) each =="
    )
    for level, label in (("none", "--isolation none"), ("sandboxed", "--isolation sandboxed")):
        runs = " ".join(f"{t:.1f}" for t in times[level])
        print(f"{label + ', s (median)':<40} {statistics.median(times[level]):8.2f}   runs: {runs}")
    print(f"{'ratio sandboxed / none (medians)':<40} {boxed / none:8.3f}")


def tail_cost(k: int, repeats: int) -> dict[tuple[str, bool], list[float]]:
    """Part 6: seconds per submission, 1 worker, for (kind, skip_tail), alternating runs."""
    from grading.batch.coordinator import autograde_all

    notebooks = {"correct": SOURCE, "blank": ROOT / "release" / LAB / f"{LAB}.ipynb"}
    out: dict[tuple[str, bool], list[float]] = {(kind, skip): [] for kind in notebooks for skip in (True, False)}
    for _ in range(repeats):
        for kind, skip in out:
            with tempfile.TemporaryDirectory(prefix="bench-course-") as tmp:
                course = Path(tmp)
                shutil.copytree(ROOT / "source" / LAB, course / "source" / LAB)
                shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
                for i in range(k):
                    folder = course / "submitted" / f"student{i:03d}" / LAB
                    folder.mkdir(parents=True)
                    shutil.copy(notebooks[kind], folder / f"{LAB}.ipynb")
                stats: dict[str, float] = {}
                results = autograde_all(LAB, course_dir=course, workers=1, progress=None, skip_tail=skip, stats=stats)
                want = {"correct": lambda r: r.score == r.max_score, "blank": lambda r: r.score == 0}
                if not all(want[kind](r) for r in results):
                    raise RuntimeError(f"unexpected scores for the {kind} submissions: {results}")
                out[(kind, skip)].append(stats["grading"] / k)
    return out


def print_tail_cost(k: int, repeats: int) -> None:
    times = {key: statistics.median(v) for key, v in tail_cost(k, repeats).items()}
    print(
        f"\n== --skip-tail, {k} correct and {k} blank submissions, 1 worker, sandboxed, "
        f"{repeats} alternating run(s) each (medians) =="
    )
    for kind in ("correct", "blank"):
        for skip, label in ((True, "--skip-tail"), (False, "default (whole notebook)")):
            print(f"{f'{kind}, {label}, s/submission':<48} {times[(kind, skip)]:8.2f}")
    for kind in ("correct", "blank"):
        print(f"{f'ratio default / --skip-tail, {kind}':<48} {times[(kind, False)] / times[(kind, True)]:8.2f}")
    print(f"{'ratio correct / blank, default':<48} {times[('correct', False)] / times[('blank', False)]:8.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=4, help="K submissions (default 4)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="N parallel autogrades (default: number of cores)"
    )
    parser.add_argument(
        "--full-notebook",
        action="store_true",
        help="autograde whole notebooks (training included) instead of --skip-tail",
    )
    parser.add_argument("--sandbox-only", action="store_true", help="measure only the sandbox overhead (part 4)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="alternating runs per isolation level for part 4 and per worker count for --cluster-only (default 3)",
    )
    parser.add_argument(
        "--cluster-only", action="store_true", help="measure only Dask throughput against the floor (part 5)"
    )
    parser.add_argument("--tail-only", action="store_true", help="measure only what --skip-tail saves (part 6)")
    args = parser.parse_args(argv)
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    if args.cluster_only or args.tail_only or args.sandbox_only:  # one part only
        if args.cluster_only:
            print_cluster(args.submissions, args.workers, repeats=args.repeats)
        elif args.tail_only:
            print_tail_cost(args.submissions, args.repeats)
        else:
            print_sandbox_overhead(args.repeats)
        print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
        return 0

    phases = kernel_phases()
    total = notebook_total()
    core = phases["kernel start"] + phases["tensorflow import"] + phases["fit (40 epochs)"]
    print("\n== solution notebook ==")
    for name in ("kernel start", "tensorflow import", "fit (40 epochs)"):
        print(f"{name:<40} {phases[name]:8.2f} s")
    print(f"{'total execution of the notebook':<40} {total:8.2f} s")
    print(f"{'ratio total / (kernel + import + fit)':<40} {total / core:8.2f}")

    print("\n== 64-digit prediction grid ==")
    batched, single = phases["grid: 1 batched predict of 64"], phases["grid: 64 single predicts"]
    print(f"{'1 batched predict of 64 images':<40} {batched:8.3f} s")
    print(f"{'loop of 64 single-image predicts':<40} {single:8.3f} s")
    print(f"{'ratio loop / batched':<40} {single / batched:8.1f}")
    print(f"{'whole grid cell (predict + 64 images)':<40} {phases['grid cell (display_predictions_grid)']:8.3f} s")

    mode = "whole notebook" if args.full_notebook else "--skip-tail (cells up to the last test)"
    print(f"\n== autograde, {args.submissions} solution submissions, {mode} ==")
    seq, par = autograde_rates(args.submissions, args.workers, not args.full_notebook)
    print(f"{'sequential (1 worker), s/submission':<40} {seq:8.2f}")
    print(f"{f'{args.workers} workers, s/submission':<40} {par:8.2f}")
    print(f"{'ratio sequential / parallel':<40} {seq / par:8.2f}")
    print_sandbox_overhead(args.repeats)
    print_cluster(args.submissions, args.workers, None if args.full_notebook else (seq, par))
    print_tail_cost(args.submissions, args.repeats)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
