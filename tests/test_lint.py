"""Lint and types as habits: ruff (lint and format check) and mypy, configured in pyproject.toml,
find nothing in the course's own code (grading/, utils/, public_tests/, tools/). Part of
`make test-fast`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers.repo import ROOT

CHECKED = ("grading", "utils", "public_tests", "tools")


def _tool(name: str, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / name
    return subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    proc = _tool("ruff", "check", *CHECKED)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_changes_nothing():
    """Every file as `ruff format` writes it; a failure lists the files, one a line."""
    proc = _tool("ruff", "format", "--check", "--output-format", "concise", *CHECKED)
    fix = f"(run `ruff format {' '.join(CHECKED)}`, and commit that alone)"
    assert proc.returncode == 0, f"{proc.stdout}{proc.stderr}{fix}"


def test_mypy_finds_nothing():
    proc = _tool("mypy", *CHECKED)
    assert proc.returncode == 0, proc.stdout + proc.stderr
