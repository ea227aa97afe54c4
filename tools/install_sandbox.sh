#!/usr/bin/env bash
# Install what `python -m grading` sandboxes student kernels with: Debian's bubblewrap
# (/usr/bin/bwrap). Idempotent: does nothing if bwrap is there. Then reports whether the
# memory, pids and cpu cgroups the grader limits submissions with are writable (cgroup v2 on
# systemd machines, v1 `memory` + `pids` + `cpu` elsewhere); without them only
# `--isolation namespaces` or `--isolation none` can grade.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

if command -v bwrap >/dev/null 2>&1; then
    echo "install_sandbox: $(command -v bwrap) already installed ($(bwrap --version))"
else
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q bubblewrap \
        || { $SUDO apt-get update -q && $SUDO apt-get install -y -q bubblewrap; }
    command -v bwrap >/dev/null 2>&1 || { echo "install_sandbox: apt-get finished but bwrap is missing" >&2; exit 1; }
    echo "install_sandbox: installed $(bwrap --version)"
fi

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "install_sandbox: cgroup v2, controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
elif [ -f /sys/fs/cgroup/memory/cgroup.procs ] && [ -f /sys/fs/cgroup/pids/cgroup.procs ] \
        && [ -f /sys/fs/cgroup/cpu/cgroup.procs ]; then
    echo "install_sandbox: cgroup v1 memory, pids and cpu hierarchies present"
else
    echo "install_sandbox: WARNING no memory/pids/cpu cgroups: only --isolation namespaces or none will grade" >&2
fi
