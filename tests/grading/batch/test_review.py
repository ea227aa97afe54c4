"""grading.batch.review: static flags for the instructor."""
from __future__ import annotations

from helpers.faults import GOOD_MODEL, GOOD_SOFTMAX

from grading.batch.review import review_flags


def test_review_flags_spot_monkeypatching_and_escapes():
    assert review_flags(GOOD_SOFTMAX) == []
    assert review_flags(GOOD_MODEL) == []
    flags = review_flags("import numpy\nnumpy.allclose = lambda *a: True\n")
    assert "assigns numpy.allclose" in flags
    assert "defines test_my_softmax" in review_flags("def test_my_softmax(f):\n    pass\n")
    assert "os._exit" in review_flags("import os\nos._exit(1)\n")
    assert "get_ipython" in review_flags("get_ipython().set_custom_exc((Exception,), None)\n")
    assert review_flags("def f(:\n") == ["syntax error"]
    # a method assigning its own attributes is not monkeypatching
    assert review_flags("class A:\n    def f(self):\n        self.x = 1\n") == []
