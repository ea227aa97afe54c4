"""How a submission is bounded: the isolation levels, the resource limits of its kernel, and
sizes as people write them (``4G``, ``512M``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from grading.errors import GradingError

#: isolation levels, strongest first (see grading.isolation.sandbox), and what each gives
LEVELS = ("sandboxed", "namespaces", "none")
LEVEL_SUMMARY = {
    "sandboxed": "bubblewrap namespaces + cgroup limits",
    "namespaces": "bubblewrap without cgroup limits",
    "none": "no sandbox (trusted code only)",
}


def check_level(level: str) -> str:
    """``level`` if it is an isolation level, else one clear error."""
    if level not in LEVELS:
        raise GradingError(f"unknown isolation level {level!r}: use one of {', '.join(LEVELS)}")
    return level


def check_number(value, name: str, *, least: int | None = None, integer: bool = False, what: str = "") -> None:
    """One clear error naming the option ``name`` unless ``value`` is a finite number (a
    whole one if ``integer``) of at least ``least``, or above 0 if ``least`` is None."""
    number = (
        isinstance(value, int if integer else (int, float))
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )
    if least is None:
        if not (number and value > 0):
            whole = "whole " if integer else ""
            raise GradingError(f"{name} must be a positive {whole}{what or 'number'}")
    elif not (number and value >= least):
        raise GradingError(f"{name} must be at least {least}{what}")


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str | int) -> int:
    """Bytes in a size such as ``4G``, ``512M``, ``64k`` or ``1048576``."""
    if isinstance(text, int):
        return text
    raw = str(text).strip().upper().removesuffix("B").removesuffix("I")
    unit = raw[-1:] if raw[-1:] in _UNITS else ""
    number = raw[: len(raw) - len(unit)]
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        raise GradingError(f"bad size {text!r}: use a number with an optional K, M, G or T") from None
    if value <= 0:
        raise GradingError(f"bad size {text!r}: it must be positive")
    return int(value)


def format_size(n: int) -> str:
    """``4G`` for 4 GiB, ``100M`` for 100 MiB; bytes otherwise."""
    for unit in ("T", "G", "M", "K"):
        if n % _UNITS[unit] == 0:
            return f"{n // _UNITS[unit]}{unit}"
    return str(n)


def cpu_seconds_for(timeout: float) -> int:
    """The kernel's CPU time limit (RLIMIT_CPU) for a submission of ``timeout`` wall-clock
    seconds: four cores busy all the time, and never under four minutes."""
    return int(max(timeout, 60) * 4)


THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Resource limits of one submission's kernel (each checked when made; a field with a
    command-line flag is named by its flag)."""

    memory: int = 4 << 30
    pids: int = 512
    file_size: int = 1 << 30
    cpu_seconds: int | None = None  # None: cpu_seconds_for(the timeout), see for_timeout
    threads: int = 1  # compute threads of TensorFlow and BLAS (one core per worker, as Dask's
    #                   nanny gives its workers: more only oversubscribes the cores)
    # what the grader itself reads of a submission, outside any sandbox (JSON and ast.parse
    # of a huge answer take GBs of the worker's memory): larger ones are never parsed
    notebook_bytes: int = 20 << 20  # one submitted notebook file
    cell_chars: int = 1 << 20  # the source of one cell

    def __post_init__(self) -> None:
        check_number(self.memory, "--memory", integer=True, what="number of bytes")
        check_number(self.pids, "--pids", integer=True, least=1)
        check_number(self.file_size, "--file-size", integer=True, what="number of bytes")
        if self.cpu_seconds is not None:
            check_number(self.cpu_seconds, "cpu_seconds", integer=True, least=1)
        check_number(self.threads, "--kernel-threads", integer=True, least=1)
        check_number(self.notebook_bytes, "notebook_bytes", integer=True, what="number of bytes")
        check_number(self.cell_chars, "cell_chars", integer=True, what="number of characters")

    def for_timeout(self, timeout: float) -> Limits:
        """These limits for a submission of ``timeout`` wall-clock seconds: ``cpu_seconds``
        worked out from it unless it was given."""
        if self.cpu_seconds is not None:
            return self
        return replace(self, cpu_seconds=cpu_seconds_for(timeout))

    def thread_env(self) -> dict[str, str]:
        """The variables that size the kernel's compute thread pools."""
        return {name: str(self.threads) for name in THREAD_VARS}

    def describe(self) -> str:
        return (
            f"memory {format_size(self.memory)}, pids {self.pids}, cores {self.threads}, "
            f"file size {format_size(self.file_size)}"
        )
