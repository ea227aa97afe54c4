"""The coordinator's Dask client: an embedded ``LocalCluster``, or an existing cluster.

Without a scheduler address the coordinator starts an embedded ``LocalCluster`` of
single-threaded worker processes; with one (``tcp://`` or ``tls://``) it connects to a
cluster started with the stock ``dask scheduler`` / ``dask worker`` commands, whose workers
need only this project and its requirements (what they run: :mod:`grading.batch.worker`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grading.errors import GradingError

if TYPE_CHECKING:
    from distributed import Client

#: Dask settings for long single-threaded tasks, applied to the embedded cluster (its workers
#: inherit them through their nanny) and to the coordinator's own process. Dask's defaults
#: serve interactive analysis with a dashboard: an event-loop tick every 20 ms, a sampling
#: profiler every 10 ms while a task runs and a system monitor every 0.5 s, in every process.
#: Measured here with 2 workers busy: 7.6-11 % of a core in all (up to 0.6 CPU s per
#: submission, taken from the kernels), 1.1-1.3 % with these. None of them changes what is
#: graded, where a task runs or how a lost worker's task is rerun (worker loss is seen from
#: its closed connection and heartbeats, which keep their intervals). Work stealing stays
#: on: every task needs the bundle, which first lives on one worker; stealing is what spreads
#: the students over the others. A setting given in the environment (``DASK_...``) wins.
QUIET_DASK = {
    "distributed.admin.tick.interval": "1s",  # only detects a blocked event loop
    "distributed.worker.profile.enabled": False,  # the dashboard's profile (not shown: no dashboard)
    "distributed.admin.system-monitor.interval": "5s",  # the dashboard's CPU/memory plots
}


@dataclass(frozen=True, kw_only=True)
class ClusterOptions:
    """Where the tasks run: an embedded LocalCluster, or an existing scheduler."""

    scheduler: str | None = None  # tcp://HOST:PORT or tls://HOST:PORT; None: embedded
    workers: int | None = None  # embedded cluster only; default: number of cores
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    connect_timeout: float = 30.0  # seconds to reach the scheduler

    def describe(self, n_workers: int) -> str:
        where = self.scheduler or "an embedded local cluster"
        return f"{n_workers} worker(s) on {where}"


def _security(opts: ClusterOptions):
    ca_file, cert, key = opts.tls_ca_file, opts.tls_cert, opts.tls_key
    if not (ca_file or cert or key):
        if opts.scheduler and opts.scheduler.startswith("tls://"):
            raise GradingError("a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key")
        return None
    if not (ca_file and cert and key):
        raise GradingError("TLS needs all three of --tls-ca-file, --tls-cert and --tls-key")
    for path in (ca_file, cert, key):
        if not Path(path).is_file():
            raise GradingError(f"TLS file {path} does not exist")
    from distributed.security import Security

    return Security(
        tls_ca_file=opts.tls_ca_file,
        tls_client_cert=opts.tls_cert,
        tls_client_key=opts.tls_key,
        require_encryption=True,
    )


#: the embedded cluster's workers each have one; a grading task takes it, so that a task waits at
#: the scheduler, never queued behind another on a worker (a submission that kills its worker
#: would take every task queued there with it)
SLOT = "autograde-slot"


def grading_resources(client) -> dict[str, int] | None:
    """What a grading task asks of a worker: the slot on the embedded cluster, nothing elsewhere
    (a scheduler's workers were not started with it)."""
    return {SLOT: 1} if getattr(client, "cluster", None) is not None else None


@contextlib.contextmanager
def open_client(opts: ClusterOptions) -> Iterator[tuple[Client, int]]:
    """A Dask client (and the number of worker threads it reaches), closed on exit."""
    import dask
    import distributed  # noqa: F401  first: registers its defaults, which config.set's undo
    # would otherwise remove with the keys it set

    chosen = dask.config.collect_env()  # an instructor's DASK_... variables (e.g. to profile)
    quiet = {k: v for k, v in QUIET_DASK.items() if dask.config.get(k, None, config=chosen) is None}
    with dask.config.set(quiet):
        yield from _open_client(opts)


def _open_client(opts: ClusterOptions) -> Iterator[tuple[Client, int]]:
    from distributed import Client, LocalCluster

    security = _security(opts)
    if opts.scheduler is not None:
        if not opts.scheduler.startswith(("tcp://", "tls://")):
            raise GradingError(f"bad scheduler address {opts.scheduler!r}: use tcp://HOST:PORT or tls://HOST:PORT")
        try:
            client = Client(opts.scheduler, security=security, timeout=opts.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise GradingError(f"cannot reach the Dask scheduler {opts.scheduler}: {exc}") from None
        with client:
            if not client.nthreads():  # workers started with the scheduler may still be joining
                try:
                    client.wait_for_workers(1, timeout=opts.connect_timeout)
                except (OSError, TimeoutError):
                    raise GradingError(
                        f"the Dask scheduler {opts.scheduler} has no workers (waited {opts.connect_timeout:g} s)"
                    ) from None
            threads = sum(client.nthreads().values())
            yield client, threads
        return
    n = max(1, int(opts.workers or os.cpu_count() or 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "port 8787 in use" and similar dashboard chatter
        # memory_limit=0: the nanny must not kill a worker for its memory; each submission's
        # kernel has its own limit (cgroups) in the sandbox
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=0,
            silence_logs=logging.ERROR,
            host="127.0.0.1",
            resources={SLOT: 1},  # one autograde at a time each, the others wait at the scheduler
        )
    with cluster, Client(cluster) as client:
        yield client, n
