"""A classic-BPF interpreter for the few instructions of grading.isolation.seccomp's filter:
what the filter answers for a system call of an architecture this machine cannot run."""
from __future__ import annotations

import struct

from grading.isolation import seccomp


def decode(blob: bytes) -> list[tuple[int, int, int, int]]:
    """struct sock_filter records (u16 code, u8 jt, u8 jf, u32 k), native byte order."""
    assert len(blob) % 8 == 0, len(blob)
    return [struct.unpack("=HBBI", blob[i:i + 8]) for i in range(0, len(blob), 8)]


def run(prog: list[tuple[int, int, int, int]], arch: int, nr: int) -> int:
    """The action ``prog`` returns for system call ``nr`` made with ``arch``."""
    data = {seccomp.NR_OFFSET: nr & 0xFFFFFFFF, seccomp.ARCH_OFFSET: arch}
    pc, acc, steps = 0, 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        pc, steps = pc + 1, steps + 1
        assert steps <= len(prog), "a loop: classic BPF only jumps forward"
        if code == seccomp.BPF_LD_W_ABS:
            acc = data[k]
        elif code == seccomp.BPF_JEQ_K:
            pc += jt if acc == k else jf
        elif code == seccomp.BPF_JGE_K:
            pc += jt if acc >= k else jf
        elif code == seccomp.BPF_RET_K:
            return k
        else:
            raise AssertionError(f"instruction {code:#x} not interpreted")
