"""The install prints no warning: ``pip install -e .`` (the line of requirements.txt that
installs this repository) into a fresh environment, as ``make lab`` and ``make instructor`` do.

setuptools' editable install used to print a "BuildBackendWarning: Editable installation" box
(its meta path finder); pyproject.toml's ``package-dir`` gives it a plain .pth file instead.
"""
from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from helpers.repo import ROOT

# This machine's own pip configuration may name package folders that do not exist; that is
# pip telling about its configuration, not about the course.
MACHINE_CONFIG = re.compile(r"^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$")


@pytest.mark.slow
def test_editable_install_prints_no_warning(tmp_path: Path) -> None:
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--no-deps", "--progress-bar", "off", "-e", str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if not MACHINE_CONFIG.match(line)]
    warnings = [line for line in lines if re.search(r"warning|deprecat|!!", line, re.I)]
    assert not warnings, "\n".join(lines[-40:])
    # the packages import from this repository in the new environment
    where = subprocess.run([str(python), "-c", "import importlib.util as u; "
                            "print(*(u.find_spec(n).submodule_search_locations[0] "
                            "for n in ('utils', 'public_tests', 'grading')))"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert where.returncode == 0, where.stderr
    assert where.stdout.split() == [str(ROOT / n) for n in ("utils", "public_tests", "grading")]
