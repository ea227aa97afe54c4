"""grading.batch.client: bad cluster options, a scheduler without workers, the embedded cluster's
quiet Dask settings (and the README's for hand-started clusters).

Loopback only."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import time

import dask
import pytest
from helpers.repo import ROOT

from grading.batch.client import ClusterOptions, open_client
from grading.errors import GradingError


def test_bad_cluster_options_give_clear_errors():
    with pytest.raises(GradingError, match="tcp://HOST:PORT"):
        with open_client(ClusterOptions(scheduler="127.0.0.1:8786")):
            pass
    with pytest.raises(GradingError, match="needs --tls-ca-file"):
        with open_client(ClusterOptions(scheduler="tls://127.0.0.1:8786")):
            pass
    with pytest.raises(GradingError, match="all three"):
        with open_client(ClusterOptions(scheduler="tls://127.0.0.1:8786", tls_cert="x.pem")):
            pass
    with pytest.raises(GradingError, match="cannot reach"):
        with socket_closed_port() as port, open_client(
                ClusterOptions(scheduler=f"tcp://127.0.0.1:{port}", connect_timeout=3)):
            pass


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # Dask's dashboard port
def test_a_scheduler_without_workers_is_waited_for_then_a_clear_error():
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None, protocol="tcp",
                      host="127.0.0.1") as empty:
        start = time.monotonic()
        with pytest.raises(GradingError, match=r"has no workers \(waited 2 s\)"):
            with open_client(ClusterOptions(scheduler=empty.scheduler_address, connect_timeout=2)):
                pass
        assert time.monotonic() - start >= 2  # it waited for workers still joining


@pytest.mark.slow
def test_embedded_cluster_runs_without_dasks_interactive_monitors():
    """The embedded cluster's scheduler and workers are built with QUIET_DASK (no 10 ms task
    profiler, a 1 s tick, a 5 s system monitor); the coordinator's own settings are Dask's
    again afterwards, also when the batch raises; a DASK_... variable wins."""
    import distributed  # noqa: F401  (registers Dask's distributed defaults)

    from grading.batch.client import QUIET_DASK

    def settings() -> dict:
        import dask as d

        return {key: d.config.get(key) for key in QUIET_DASK}

    def built(dask_worker=None, dask_scheduler=None) -> dict:
        server = dask_worker or dask_scheduler
        pcs = server.periodic_callbacks
        return {"profile": "profile" in pcs, "tick": pcs["tick"].callback_time,
                "monitor": pcs["monitor"].callback_time}

    before = settings()
    assert before["distributed.worker.profile.enabled"] is True  # Dask's default
    with pytest.raises(RuntimeError, match="batch failed"):
        with open_client(ClusterOptions(workers=2)) as (client, threads):
            on_workers = client.run(built)
            on_scheduler = client.run_on_scheduler(built)
            extensions = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.extensions))
            raise RuntimeError("batch failed")
    assert threads == 2 and len(on_workers) == 2
    for seen in on_workers.values():
        assert seen == {"profile": False, "tick": 1000, "monitor": 5000}
    assert on_scheduler == {"profile": False, "tick": 1000, "monitor": 5000}
    assert "stealing" in extensions  # spreads the tasks (see test_local_cluster_batch_equals...)
    assert settings() == before
    # in a fresh process (distributed not imported yet), leaving the block keeps Dask's
    # defaults: a second batch in the same process still finds them; and an instructor's
    # DASK_ variable is not overridden
    code = ("import dask\nfrom grading.batch.client import ClusterOptions, open_client\n"
            "with open_client(ClusterOptions(workers=1)) as (client, _):\n"
            "    print(client.run(lambda dask_worker: dask_worker.periodic_callbacks['tick'].callback_time))\n"
            "print(dask.config.get('distributed.comm.timeouts.connect'))\n")
    env = dict(os.environ, DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL="250ms")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    ticks, connect = out.stdout.strip().splitlines()[-2:]
    assert set(ast.literal_eval(ticks).values()) == {250.0} and connect == "30s", out.stdout


def test_docs_give_hand_started_clusters_the_same_quiet_settings():
    """docs/cluster.md's ``export DASK_...`` lines, read by Dask's own parser, are QUIET_DASK."""
    import re

    from grading.batch.client import QUIET_DASK

    text = (ROOT / "docs" / "cluster.md").read_text(encoding="utf-8")
    block = re.search(r"\n +export (DASK_.*?)\n\n", text, re.S)
    assert block, "docs/cluster.md's export DASK_... block is gone"
    pairs = dict(re.findall(r"\b(DASK_[A-Z_]+)=(\S+)", block.group(1)))
    collected = dask.config.collect_env(pairs)
    assert len(pairs) == len(QUIET_DASK)
    for key, value in QUIET_DASK.items():
        assert dask.config.get(key, config=collected) == value, key


class socket_closed_port:
    """A loopback port nothing listens on (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc) -> None:
        return None
