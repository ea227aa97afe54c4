"""Benchmark of the grading guard's walk in a lab kernel (prints figures; asserts nothing).

    python tools/bench_guard.py [--repeats N]

The guard (grading.isolation.guard) imports the course packages before a lab's first cell.
This prints, alternating ``--repeats`` times in fresh interpreters, the seconds of
``install`` with every submodule walked and with the modules no kernel runs left out
(grading.extensions.guardedexecute.UNWALKED_MODULES), their medians and the ratio. Each
run imports what a lab kernel has loaded by then (IPython, numpy) before the clock starts.
Timings depend on the machine and its load: compare figures of one run only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grading.extensions.guardedexecute import UNWALKED_MODULES, GuardedExecute  # noqa: E402
from grading.isolation.integrity import PROTECTED_PACKAGES  # noqa: E402

SCRIPT = """
import time
from IPython.core.interactiveshell import InteractiveShell
InteractiveShell.instance()
import numpy
import grading.isolation.guard as guard
start = time.perf_counter()
guard.install({preload!r}, {walk!r}, {skip!r})
print(time.perf_counter() - start)
"""


def install_seconds(skip: list[str]) -> float:
    """Seconds of one guard install in a fresh interpreter, ``skip`` left out of the walk."""
    code = SCRIPT.format(preload=list(GuardedExecute.preload_modules), walk=list(PROTECTED_PACKAGES), skip=skip)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each kind, alternating (default 3)")
    args = parser.parse_args(argv)
    every: list[float] = []
    skipped: list[float] = []
    for _ in range(args.repeats):
        every.append(install_seconds([]))
        skipped.append(install_seconds(list(UNWALKED_MODULES)))
    full, lean = statistics.median(every), statistics.median(skipped)
    print(f"guard install, every submodule walked:   {full:.2f} s (runs: {', '.join(f'{s:.2f}' for s in every)})")
    print(
        f"guard install, {len(UNWALKED_MODULES)} modules left out:   {lean:.2f} s "
        f"(runs: {', '.join(f'{s:.2f}' for s in skipped)})"
    )
    print(f"ratio every / left out: {full / lean:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
