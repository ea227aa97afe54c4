"""grading.batch.logs: the autograde log the coordinator gets is nbgrader's log and each
kernel's output, every part cut to its ends."""
from __future__ import annotations

from grading.batch import logs
from grading.isolation.launcher import OUTPUT_KEEP, OUTPUT_PREFIX


def test_the_log_is_bounded_whatever_its_parts(tmp_path):
    log = tmp_path / "autograde.log"
    log.write_bytes(b"nbgrader starts\n" + b"n" * (5 << 20) + b"\nnbgrader ends\n")
    outputs = tmp_path / "out"
    outputs.mkdir()
    for n in range(1, 21):  # (the reader keeps each one small; here they are not)
        (outputs / f"{OUTPUT_PREFIX}{n}.log").write_bytes(f"kernel {n} starts\n".encode() + b"k" * (1 << 20))
    (outputs / f"{OUTPUT_PREFIX}x.log").write_text("not a kernel's")
    text = logs.autograde_log(log, outputs)
    assert len(text) <= 2 * logs.LOG_KEEP + logs.KERNELS_SHOWN * (2 * OUTPUT_KEEP + 1024) + 4096
    assert text.startswith(b"nbgrader starts\n") and b"nbgrader ends\n" in text
    assert text.count(b"bytes left out") == 1 + logs.KERNELS_SHOWN
    order = [text.index(f"kernel {n} starts".encode()) for n in range(1, logs.KERNELS_SHOWN + 1)]
    assert order == sorted(order) and b"kernel 13 starts" not in text and b"not a kernel's" not in text
    assert text.endswith(b"---- 8 more kernels' output left out ----\n")
    assert logs.last_line(log) == "nbgrader ends"


def test_a_small_log_is_copied_whole_and_a_link_is_not_followed(tmp_path):
    log = tmp_path / "autograde.log"
    log.write_text("one\ntwo\n")
    assert logs.autograde_log(log, tmp_path / "none") == b"one\ntwo\n"
    secret = tmp_path / "secret"
    secret.write_text("secret")
    (tmp_path / "link.log").symlink_to(secret)
    assert logs.read_ends(tmp_path / "link.log", 100) == b""
