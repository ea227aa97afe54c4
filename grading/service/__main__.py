"""``python -m grading.service``: the course's grading service, started by the hub as root
(``c.JupyterHub.services`` in deploy/jupyterhub_config.py; docs/submit.md).

Its settings are environment variables. From the hub: JUPYTERHUB_SERVICE_URL (where to listen),
JUPYTERHUB_SERVICE_PREFIX, JUPYTERHUB_API_TOKEN and JUPYTERHUB_API_URL. The course's:
COURSE_GRADER_STATE (its records, root only; /srv/jupyterhub/grader), COURSE_EXCHANGE
(/srv/nbgrader/exchange), COURSE_HOME (its nbgrader_config.py: the grader's config), COURSE_DB
(the gradebook, as for deploy/grade.py), the rules (grading.service.policy.from_env:
COURSE_SUBMIT_COUNTING, COURSE_SUBMIT_LIMIT, COURSE_SUBMIT_DEADLINE, COURSE_SUBMIT_MAX_MB) and
the grader's: COURSE_SUBMIT_TIMEOUT (seconds per submission, 600), COURSE_SUBMIT_CELL_TIMEOUT
(120), COURSE_GRADER_WORKERS (number of cores), COURSE_GRADER_SCHEDULER (a Dask scheduler's
tcp:// address instead of the embedded cluster) and COURSE_SUBMIT_SKIP_TAIL (1: the cells after
the last test are not run).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from grading.batch.options import Options
from grading.errors import GradingError
from grading.service import policy as pol
from grading.service.app import Service, make_app
from grading.service.engine import Engine, EngineSettings
from grading.service.store import Store

COURSE_ID = "multiclass-digits"
ASSIGNMENT = "multiclass_digits"
NOTEBOOKS = frozenset({f"{ASSIGNMENT}.ipynb"})
log = logging.getLogger("grading.service")


def _number(env: dict[str, str], name: str, default: str, kind=float):
    try:
        return kind(env.get(name, default))
    except ValueError:
        raise GradingError(f"{name}={env.get(name)!r}: a number") from None


def settings_from_env(env: dict[str, str]) -> EngineSettings:
    db = env.get("COURSE_DB", "").strip()
    workers = env.get("COURSE_GRADER_WORKERS", "").strip()
    opts = Options(
        timeout=_number(env, "COURSE_SUBMIT_TIMEOUT", "600"),
        cell_timeout=_number(env, "COURSE_SUBMIT_CELL_TIMEOUT", "120", int),
        workers=int(workers) if workers else None,
        scheduler=env.get("COURSE_GRADER_SCHEDULER") or None,
        skip_tail=env.get("COURSE_SUBMIT_SKIP_TAIL", "1") != "0",
    )
    exchange = Path(env.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange"))
    # the course's nbgrader config as root installed it, never the instructor's copy (which root
    # would run as Python): tools/install_hub.sh puts it there
    config = Path(env.get("COURSE_HOME", "/opt/multiclass-digits")) / "nbgrader_config.py"
    if not config.is_file():
        raise GradingError(f"no {config}: run tools/install_hub.sh again")
    opts = replace(opts, config_file=config)
    return EngineSettings(
        exchange_course=exchange / COURSE_ID,
        assignment=ASSIGNMENT,
        options=opts,
        default_db_url=db if db.startswith("postgresql") else None,
    )


async def serve(env: dict[str, str]) -> None:
    policy = pol.from_env(env)
    state = Path(env.get("COURSE_GRADER_STATE", "/srv/jupyterhub/grader"))
    os.umask(0o077)
    store = Store(state / "submissions.sqlite")
    engine = Engine(store, policy, settings_from_env(env))
    service = Service(store, policy, engine, NOTEBOOKS, env.get("COURSE_STUDENTS_GROUP", f"{COURSE_ID}-students"))
    url = urlparse(env.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8082"))
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "/services/grader/")
    engine.start()
    app = make_app(service, prefix)
    server = app.listen(url.port or 80, address=url.hostname or "127.0.0.1", max_body_size=4 * policy.max_bytes)
    log.info("grading service on %s%s: %s; %s", url.geturl().rstrip("/"), prefix, policy.describe(), store.counts())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: queued submissions stay queued")
    server.stop()
    engine.stop()
    engine.join(timeout=60)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="[grader %(asctime)s %(levelname)s] %(message)s", stream=sys.stderr)
    if os.geteuid() != 0:
        print("grading service: run as root (the hub does): the sandbox's cgroups need it", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(dict(os.environ)))
    except GradingError as exc:
        print(f"grading service: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
