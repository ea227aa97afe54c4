"""How a batch is graded: :class:`Options`, the one place its defaults live and where each
value is checked (the command line takes its defaults from here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grading.batch.client import ClusterOptions
from grading.errors import GradingError
from grading.limits import Limits, check_level, check_number


@dataclass(frozen=True, kw_only=True)
class Options:
    """How a batch is graded; every field has the command line's default, and a bad value
    is one clear :class:`~grading.errors.GradingError` when the options are made (also by
    :func:`dataclasses.replace`)."""

    course_dir: Path | str = "."
    db_url: str | None = None  # default: sqlite:///COURSE_DIR/gradebook.db
    config_file: Path | str | None = None  # the nbgrader config (Python); default: COURSE_DIR/nbgrader_config.py
    workers: int | None = None  # embedded cluster's worker processes; default: number of cores
    scheduler: str | None = None  # tcp:// or tls:// address of an existing Dask scheduler
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    timeout: float = 900.0  # seconds per submission, whole autograde
    cell_timeout: int = 300  # seconds per cell (nbgrader's own default of 30 s is too short for fit)
    students: list[str] | None = None  # default: everyone with a submission
    regrade: bool = False  # grade students the gradebook already has a result for
    restore_course_files: bool = True
    skip_tail: bool = False
    isolation: str = "sandboxed"  # one of grading.limits.LEVELS
    limits: Limits = field(default_factory=Limits)  # checked when made (Limits.__post_init__)

    def __post_init__(self) -> None:
        check_number(self.timeout, "--timeout", what="number of seconds")
        check_number(self.cell_timeout, "--cell-timeout", least=1, what=" second")
        if self.workers is not None:
            check_number(self.workers, "--workers", integer=True, least=1)
        for flag in ("regrade", "restore_course_files", "skip_tail"):
            if not isinstance(getattr(self, flag), bool):
                raise GradingError(f"{flag} must be True or False, not {getattr(self, flag)!r}")
        check_level(self.isolation)
        if not isinstance(self.limits, Limits):
            raise GradingError(f"limits must be a grading.limits.Limits, not {type(self.limits).__name__}")

    @property
    def kernel_limits(self) -> Limits:
        """What each kernel gets: ``limits``, its CPU time worked out from ``timeout`` unless
        ``limits.cpu_seconds`` was given."""
        return self.limits.for_timeout(self.timeout)

    def cluster(self) -> ClusterOptions:
        return ClusterOptions(
            scheduler=self.scheduler,
            workers=self.workers,
            tls_ca_file=self.tls_ca_file,
            tls_cert=self.tls_cert,
            tls_key=self.tls_key,
        )
