"""Two pytest workers (pytest-xdist), and the tests of one expensive shared fixture on one of them.

Some fixtures build something expensive once and several tests check it (the graded lab's
batch of 40 sandboxed submissions, a JupyterLab server). Each pytest-xdist worker is its own
pytest session: a test of such a fixture sent to the other worker builds it a second time.

xdist's ``--dist loadgroup`` would keep a group together, but xdist 3.8 marks the group by
rewriting the test's node id, which pytest 9.2 no longer reads (``Node.nodeid`` comes from
``_id``): the groups are silently ignored (each worker built the 8-minute lab batch). Here the
workers, which see the fixtures, write ``{node id: group}`` into a file the controller names
(:data:`GROUPS_ENV`), and the controller's scheduler (:class:`GroupScheduling`) reads it.

The hooks at the end are imported by tests/conftest.py (or loaded with ``-p helpers.xdist_groups``).

Order: the session-wide batch first, then every unit that executes notebooks, grades or drives
a browser, then the quick tests, which fill both cores at the end (longest work first).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

GROUPS_ENV = "COURSE_TEST_GROUPS_FILE"
# fixtures built once for the whole run (scope="session"): one group each
SESSION_SHARED = ("lab_batch", "attack_batch")
# fixtures built once per test package (scope="package"): one group each, run after the session's
PACKAGE_SHARED = ("course_hub",)
# fixtures built once per test module (scope="module"): one group per module that uses them
MODULE_SHARED = frozenset({"red_batch", "toy_batch", "escape_batch", "pg_batch", "student_root",
                           "student_server", "labs_server", "corpus_batch", "lms_course", "forge_batch",
                           "validate_server", "rj_plain_batch"})
HEAVY_MARKERS = ("slow", "sandbox", "browser", "postgres", "hub")


def group_of(item: pytest.Item) -> str | None:
    """The group of a test that uses a shared fixture, else None (it may go anywhere)."""
    names = set(item.fixturenames)
    for name in SESSION_SHARED + PACKAGE_SHARED:
        if name in names:
            return name
    if names & MODULE_SHARED:
        return item.nodeid.split("::")[0]
    return None


def _rank(key: str, tests: list[pytest.Item]) -> int:
    if key in SESSION_SHARED:
        return 0
    heavy = any(t.get_closest_marker(m) for t in tests for m in HEAVY_MARKERS)
    return 1 if heavy else 2


def order_and_group(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Reorder ``items`` (longest units first, a group's tests together in pytest's order);
    on an xdist worker, also write the groups where the controller's scheduler reads them."""
    units: dict[str, list[pytest.Item]] = {}
    groups: dict[str, str] = {}
    for item in items:
        group = group_of(item)
        if group:
            groups[item.nodeid] = group
        units.setdefault(group or item.nodeid, []).append(item)
    order = sorted(units, key=lambda key: _rank(key, units[key]))  # stable within a rank
    items[:] = [item for key in order for item in units[key]]
    target = os.environ.get(GROUPS_ENV)
    if target and hasattr(config, "workerinput"):  # an xdist worker (not a nested pytest)
        tmp = Path(f"{target}.{os.getpid()}")
        tmp.write_text(json.dumps(groups))
        tmp.replace(target)  # every worker collects the same tests: same content


class GroupScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with the workers' groups as scopes: a group is one unit of
    work for one worker; every other test is a unit of its own. Units go out in collection
    order (run pytest with ``--no-loadscope-reorder``)."""

    def __init__(self, config: pytest.Config, log=None) -> None:
        super().__init__(config, log)
        self._groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._groups is None:  # first called once every worker has collected
            path = os.environ.get(GROUPS_ENV)
            text = Path(path).read_text() if path and Path(path).is_file() else ""
            if not text:
                raise RuntimeError(f"the workers wrote no test groups (${GROUPS_ENV} = {path!r})")
            self._groups = json.loads(text)
        return self._groups.get(nodeid, nodeid)


# ---- pytest hooks --------------------------------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        fd, path = tempfile.mkstemp(prefix="course-test-groups-", suffix=".json")
        os.close(fd)
        os.environ[GROUPS_ENV] = path  # the controller's; its workers inherit it


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and os.environ.get(GROUPS_ENV):
        Path(os.environ.pop(GROUPS_ENV)).unlink(missing_ok=True)


def mark_shared_fixture_users_slow(items: list[pytest.Item]) -> None:
    """Mark slow a test that uses a shared fixture (a graded batch, a server) but none of the
    heavy markers: else ``make test-fast`` would build the fixture (an unmarked test of the
    lab batch once cost it 235 s of its 90)."""
    for item in items:
        if group_of(item) and not any(item.get_closest_marker(m) for m in HEAVY_MARKERS):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    mark_shared_fixture_users_slow(items)  # before any other implementation: -m deselects after
    result = yield
    order_and_group(config, items)  # after all of them (pytest's own reordering by fixture scope)
    return result


@pytest.hookimpl(tryfirst=True)  # before xdist's own choice of scheduler
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> GroupScheduling | None:
    return GroupScheduling(config, log) if config.getvalue("dist") == "loadgroup" else None
