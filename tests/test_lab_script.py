"""student/lab.py, the student kit's one-command set-up: it says what it does, installs once
(again when requirements.txt changes), refuses another Python than 3.11 with a way out, and
starts JupyterLab with the kit's settings first.

The set-up runs for real, in a copy of lab.py next to a requirements file that needs nothing
from the index (the full install is measured by hand: docs/students.md); opening the lab is
tests/browser/test_student_lab.py.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.repo import ROOT

SCRIPT = ROOT / "student" / "lab.py"


def run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(folder / "lab.py"), *args], cwd=folder,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture()
def lab_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("student_lab_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_another_python_is_refused_with_the_command_to_use(lab_module) -> None:
    with pytest.raises(lab_module.SetupError, match=r"needs Python 3\.11; this is Python 3\.12.*"
                       r"(python3\.11|py -3\.11) lab\.py"):
        lab_module.check_python((3, 12))
    lab_module.check_python((3, 11))


def test_jupyter_finds_the_kit_settings_first(lab_module) -> None:
    env = lab_module.lab_env({"JUPYTER_CONFIG_PATH": "/elsewhere", "HOME": "/home/s"})
    assert env["JUPYTER_CONFIG_PATH"] == f"{ROOT / 'student' / 'jupyter'}{os.pathsep}/elsewhere"
    assert lab_module.lab_env({})["JUPYTER_CONFIG_PATH"] == str(ROOT / "student" / "jupyter")
    # the kit's folder (lab.py's own) on the server's import path: the Validate button's handler
    # is utils.validate_server, which the kit holds there
    assert lab_module.lab_env({"PYTHONPATH": "/p"})["PYTHONPATH"] == f"{ROOT / 'student'}{os.pathsep}/p"
    assert lab_module.lab_env({})["PYTHONPATH"] == str(ROOT / "student")
    assert lab_module.lab_command(Path("/p/python"), ["--port", "1"])[:5] == ["/p/python", "-m", "jupyterlab", "--port", "1"]


@pytest.mark.slow
def test_setup_creates_the_environment_once_and_again_when_requirements_change(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit.mkdir()
    shutil.copy2(SCRIPT, kit / "lab.py")
    (kit / "requirements.txt").write_text("# nothing to install\n")
    first = run(kit, "--setup-only")
    assert first.returncode == 0, first.stdout + first.stderr
    said = first.stdout
    assert "Creating the Python environment .venv/" in said and "Installing the course's packages" in said
    assert "400 MB to download" in said and "Installed in" in said and "Set up." in said
    assert (kit / ".venv" / "bin" / "python").is_file() and (kit / ".venv" / ".installed").is_file()
    assert "warning" not in (first.stdout + first.stderr).lower(), first.stdout + first.stderr

    again = run(kit, "--setup-only")
    assert again.returncode == 0 and "Installing" not in again.stdout and "Set up." in again.stdout

    (kit / "requirements.txt").write_text("# nothing to install, but a new file\n")
    changed = run(kit, "--setup-only")
    assert "Installing the course's packages" in changed.stdout and "Creating" not in changed.stdout

    (kit / "requirements.txt").unlink()
    missing = run(kit, "--setup-only")
    assert missing.returncode == 1 and "requirements.txt is missing" in missing.stdout


@pytest.mark.slow
def test_a_failed_install_says_so_and_is_tried_again(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit.mkdir()
    shutil.copy2(SCRIPT, kit / "lab.py")
    (kit / "requirements.txt").write_text("--no-index\nno-such-course-package==1.0\n")
    failed = run(kit, "--setup-only")
    assert failed.returncode == 1
    assert "pip could not install the packages" in failed.stdout and "run `python lab.py` again" in failed.stdout
    assert not (kit / ".venv" / ".installed").exists()
