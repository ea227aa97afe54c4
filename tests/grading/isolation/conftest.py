"""Fixtures of the isolation tests: the red team's attempts and issue 26's forgeries graded in
ONE sandboxed batch per session (helpers.attack_batch), checked by test_redteam.py and
test_forgeries.py."""
from __future__ import annotations

import os

import pytest
from helpers.attack_batch import AttackBatch, grade_attacks


@pytest.fixture(scope="session")
def attack_batch(tmp_path_factory: pytest.TempPathFactory) -> AttackBatch:
    batch = grade_attacks(tmp_path_factory.mktemp("attacks"))
    yield batch
    for pid in batch.escaped():  # an escaped process is ours to clean up (it started in our batch)
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
