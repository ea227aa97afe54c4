"""The seccomp filter every sandbox runs under: the kernel keyring system calls refused.

Linux keyrings are not namespaced by bubblewrap: a process inherits its parent's session
keyring across fork, exec and a new user namespace, and the sandbox's uid is the grader's
outside, so a kernel could read the keys of a grader that runs in a session keyring of its
own (pam_keyinit, a systemd service), leave keys there for the submissions graded after it,
or make the host run ``/sbin/request-key`` as root (``request_key`` with a callout). Here
``add_key``, ``request_key`` and ``keyctl`` fail with EPERM, on every architecture the grader
runs on; everything else is allowed (the namespaces, the read-only mounts and the cgroups do
the rest).

The filter is a classic BPF program, the form ``bwrap --seccomp FD`` reads (what libseccomp's
``seccomp_export_bpf`` writes), built here without libseccomp: it checks the architecture
first, since system call numbers differ between them. x86_64 (and the x32 calls a 64-bit
process can also make, refused as a whole) and aarch64 are allowed with their own numbers;
a system call of any other architecture (i386's ``int 0x80`` on x86_64, 32-bit ARM) kills
the process.
"""

from __future__ import annotations

import errno
import struct

# classic BPF (linux/filter.h, linux/bpf_common.h)
BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
BPF_RET_K = 0x06  # BPF_RET | BPF_K
# linux/seccomp.h
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
# offsets in struct seccomp_data
NR_OFFSET, ARCH_OFFSET = 0, 4
# linux/audit.h
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
X32_SYSCALL_BIT = 0x40000000  # x32 ABI calls, made with the x86_64 arch

#: the keyring calls (add_key, request_key, keyctl) of each architecture, from its unistd.h
#: (x86_64: asm/unistd_64.h; aarch64: asm-generic/unistd.h)
KEYRING_CALLS = {
    AUDIT_ARCH_X86_64: (248, 249, 250),
    AUDIT_ARCH_AARCH64: (217, 218, 219),
}
#: calls refused as a whole, by architecture: numbers at or above this
REFUSED_FROM = {AUDIT_ARCH_X86_64: X32_SYSCALL_BIT}
DENY = SECCOMP_RET_ERRNO | errno.EPERM


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> tuple[int, int, int, int]:
    return code, jt, jf, k


def program() -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions."""
    # layout: [load arch] [one test per arch] [kill] then per arch: [load nr] [tests] [allow]
    # and one shared [deny] at the end; jumps are counted from the next instruction
    arches = list(KEYRING_CALLS)
    blocks = []
    for arch in arches:
        tests = [(BPF_JGE_K, REFUSED_FROM[arch])] if arch in REFUSED_FROM else []
        tests += [(BPF_JEQ_K, nr) for nr in KEYRING_CALLS[arch]]
        blocks.append(tests)
    head = 1 + len(arches) + 1
    starts, at = [], head
    for tests in blocks:
        starts.append(at)
        at += 1 + len(tests) + 1
    deny_at = at
    prog = [_insn(BPF_LD_W_ABS, ARCH_OFFSET)]
    for i, arch in enumerate(arches):
        here = 1 + i
        prog.append(_insn(BPF_JEQ_K, arch, jt=starts[i] - here - 1))
    prog.append(_insn(BPF_RET_K, SECCOMP_RET_KILL_PROCESS))
    for tests in blocks:
        prog.append(_insn(BPF_LD_W_ABS, NR_OFFSET))
        for code, k in tests:
            prog.append(_insn(code, k, jt=deny_at - len(prog) - 1))
        prog.append(_insn(BPF_RET_K, SECCOMP_RET_ALLOW))
    prog.append(_insn(BPF_RET_K, DENY))
    if any(not 0 <= jt <= 255 for _, jt, _, _ in prog):  # (a u8: a few dozen calls at most)
        raise ValueError("a seccomp jump is out of range: too many refused calls")
    return prog


def filter_bytes() -> bytes:
    """The filter as ``bwrap --seccomp`` reads it: struct sock_filter (u16, u8, u8, u32) each,
    in this machine's byte order."""
    return b"".join(struct.pack("=HBBI", *insn) for insn in program())
