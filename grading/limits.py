"""How a submission is bounded: the isolation levels, the resource limits of its kernel, and
sizes as people write them (``4G``, ``512M``)."""
from __future__ import annotations

from dataclasses import dataclass

from grading.errors import GradingError

#: isolation levels, strongest first (see grading.isolation.sandbox)
LEVELS = ("sandboxed", "namespaces", "none")

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


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Resource limits of one submission's kernel."""

    memory: int = 4 << 30
    pids: int = 512
    file_size: int = 1 << 30
    cpu_seconds: int = 3600
    threads: int = 1  # compute threads of TensorFlow and BLAS (one core per worker, as Dask's
    #                   nanny gives its workers: more only oversubscribes the cores)
    # what the grader itself reads of a submission, outside any sandbox (JSON and ast.parse
    # of a huge answer take GBs of the worker's memory): larger ones are never parsed
    notebook_bytes: int = 20 << 20  # one submitted notebook file
    cell_chars: int = 1 << 20  # the source of one cell

    def thread_env(self) -> dict[str, str]:
        """The variables that size the kernel's compute thread pools."""
        return {name: str(self.threads) for name in THREAD_VARS}

    def describe(self) -> str:
        return (f"memory {format_size(self.memory)}, pids {self.pids}, cores {self.threads}, "
                f"file size {format_size(self.file_size)}")
