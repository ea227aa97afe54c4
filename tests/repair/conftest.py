"""Fixtures of the repair tests: the corpus of foreign and damaged notebooks graded once by a real
``nbgrader autograde`` on the plain path (helpers.plain_batch), checked by several tests."""
from __future__ import annotations

import pytest

from helpers.foreign import CASES
from helpers.plain_batch import CorpusBatch, grade_corpus


@pytest.fixture(scope="module")
def corpus_batch(tmp_path_factory: pytest.TempPathFactory) -> CorpusBatch:
    """Every case of helpers.foreign and the clean twins of their answers, in one batch."""
    batch = grade_corpus(tmp_path_factory.mktemp("corpus"), list(CASES.values()))
    print(f"\n[corpus] {len(batch.where)} submissions graded in {batch.seconds:.0f} s")
    return batch
