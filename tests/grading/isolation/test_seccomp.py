"""grading.isolation.seccomp: the filter refuses exactly the keyring calls, on x86_64 and
aarch64, with each architecture's own numbers (read from the system's kernel headers, not from
the module), and kills a call of any other architecture. That it is really installed in the
sandbox is checked in test_sandbox.py (a real bubblewrap: Seccomp mode 2, keyctl refused)."""
from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from grading.isolation import seccomp
from helpers.bpf import decode, run

HEADERS = {seccomp.AUDIT_ARCH_X86_64: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
           seccomp.AUDIT_ARCH_AARCH64: "/usr/include/asm-generic/unistd.h"}
KEYRING = ("add_key", "request_key", "keyctl")
AUDIT_ARCH_I386, AUDIT_ARCH_ARM = 0x40000003, 0x40000028
DENY = seccomp.SECCOMP_RET_ERRNO | errno.EPERM


def _numbers(header: str) -> dict[str, int]:
    text = Path(header).read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"#define __NR_(\w+)\s+(\d+)\b", text)}


@pytest.mark.parametrize("arch", list(HEADERS), ids=["x86_64", "aarch64"])
def test_filter_refuses_the_keyring_calls_and_nothing_else(arch):
    numbers = _numbers(HEADERS[arch])  # (linux-libc-dev's headers: the kernel's own numbering)
    assert len(numbers) > 250, HEADERS[arch]
    prog = decode(seccomp.filter_bytes())
    assert prog == seccomp.program()
    keyring = {numbers[name] for name in KEYRING}
    for name, nr in numbers.items():
        want = DENY if nr in keyring else seccomp.SECCOMP_RET_ALLOW
        assert run(prog, arch, nr) == want, (name, nr)


def test_x32_calls_are_refused_and_other_architectures_killed():
    prog = seccomp.program()
    for nr in (0, 1, 59, 250, 512):  # read, write, execve, keyctl, an x32-only number
        assert run(prog, seccomp.AUDIT_ARCH_X86_64, seccomp.X32_SYSCALL_BIT | nr) == DENY, nr
    for arch in (AUDIT_ARCH_I386, AUDIT_ARCH_ARM, 0):
        for nr in (0, 3, 288):  # i386: restart_syscall, read, keyctl
            assert run(prog, arch, nr) == seccomp.SECCOMP_RET_KILL_PROCESS, (hex(arch), nr)
