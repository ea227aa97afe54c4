#!/usr/bin/env bash
# Install the browser the browser tests drive (tests/browser, `pytest -m browser`):
# Debian's chromium at /usr/bin/chromium. Idempotent: does nothing if it is there.
# The Python side (the playwright package) comes from requirements-dev.txt; Playwright's
# own browser download (`playwright install`) is not used.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "install_browser: $CHROMIUM already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium

if [ ! -x "$CHROMIUM" ]; then
    echo "install_browser: apt-get finished but $CHROMIUM is missing" >&2
    exit 1
fi
echo "install_browser: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
