"""Set up and open this course's JupyterLab, in one command (Python 3.11, standard library only).

    python lab.py               # first run: creates .venv and installs requirements.txt, then
                                # opens JupyterLab here; later runs open it at once
    python lab.py --setup-only  # install, do not open (e.g. to prepare a lab machine)
    python lab.py --here        # use the Python running this script instead of .venv
    python lab.py -- --port 8890  # anything after -- goes to `jupyter lab`

JupyterLab starts in this folder with the settings of ./jupyter/ (the Validate button, none of
the instructor's nbgrader tools) and ./nbgrader_config.py (Validate's cell timeout).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
SETTINGS = HERE / "jupyter"
STAMP = VENV / ".installed"  # holds the digest of the requirements.txt last installed
PYTHON = (3, 11)
# Measured on Linux x86_64 into an empty .venv, pip's cache off: 414 MB of wheels, 2.0 GB
# installed, 292 s from a package mirror on a busy 2-core machine.
INSTALL_NOTE = ("about 400 MB to download and 2 GB installed, TensorFlow most of it; about "
                "5 minutes, up to 15 on a slow connection")


class SetupError(Exception):
    """A step failed; the message says what to do."""


def say(message: str) -> None:
    print(f"[lab.py] {message}", flush=True)


def venv_python(root: Path = VENV) -> Path:
    """The interpreter of the environment at ``root`` (Windows keeps it in Scripts\\)."""
    if os.name == "nt":
        return root / "Scripts" / "python.exe"
    return root / "bin" / "python"


def check_python(version: tuple[int, ...] | None = None) -> None:
    """The course's packages are pinned for Python 3.11: refuse any other version."""
    version = tuple(sys.version_info[:2]) if version is None else version
    if tuple(version[:2]) != PYTHON:
        found = ".".join(map(str, version[:2]))
        how = "py -3.11 lab.py" if os.name == "nt" else "python3.11 lab.py"
        raise SetupError(f"this course needs Python 3.11; this is Python {found} ({sys.executable}). "
                         f"Install Python 3.11 (python.org), then run: {how}")


def requirements_digest() -> str:
    if not REQUIREMENTS.is_file():
        raise SetupError(f"{REQUIREMENTS.name} is missing from {HERE}: download the course kit again")
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def create_venv() -> None:
    say(f"Creating the Python environment {VENV.name}/ in {HERE} (a few seconds) ...")
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SetupError(f"could not create {VENV}: {exc}. On Debian or Ubuntu install the "
                         "python3.11-venv package first") from None


def install(python: Path) -> None:
    """pip install -r requirements.txt into ``python``'s environment, showing pip's progress."""
    say(f"Installing the course's packages from {REQUIREMENTS.name}: {INSTALL_NOTE}. "
        "pip lists each package as it goes ...")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    start = time.monotonic()
    done = subprocess.run([str(python), "-m", "pip", "install", "--progress-bar", "on",
                           "-r", str(REQUIREMENTS)], cwd=HERE, env=env)
    if done.returncode != 0:
        raise SetupError("pip could not install the packages (its message is above). Check the "
                         "internet connection and run `python lab.py` again: it resumes")
    say(f"Installed in {time.monotonic() - start:.0f} s.")


def set_up(here: bool) -> Path:
    """Make sure an environment with the course's packages exists; return its interpreter."""
    if here:
        check_python()
        return Path(sys.executable)
    python = venv_python()
    digest = requirements_digest()
    if python.is_file() and STAMP.is_file() and STAMP.read_text().strip() == digest:
        return python
    check_python()
    if not python.is_file():
        create_venv()
    install(python)
    STAMP.write_text(digest + "\n")
    return python


def lab_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment JupyterLab runs in: ./jupyter/ first among Jupyter's config folders, and
    this folder on the server's import path (its Validate button is ``utils.validate_server``)."""
    env = dict(os.environ if base is None else base)
    extra = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = str(SETTINGS) + (os.pathsep + extra if extra else "")
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(HERE) + (os.pathsep + path if path else "")
    return env


def lab_command(python: Path, extra: list[str]) -> list[str]:
    command = [str(python), "-m", "jupyterlab", *extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        command.append("--allow-root")  # containers often run as root; Jupyter refuses without it
    return command


def open_lab(python: Path, extra: list[str]) -> int:
    check = subprocess.run([str(python), "-c", "import jupyterlab, nbgrader"], capture_output=True)
    if check.returncode != 0:
        raise SetupError(f"JupyterLab or nbgrader is missing from {python}: "
                         "run `python lab.py` without --here, or pip install -r requirements.txt")
    say(f"Opening JupyterLab in {HERE} (the browser opens by itself; stop with Ctrl-C twice) ...")
    proc = subprocess.Popen(lab_command(python, extra), cwd=HERE, env=lab_env())
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:  # Jupyter asks for confirmation itself; keep waiting for it
            continue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup-only", action="store_true", help="install, do not open JupyterLab")
    parser.add_argument("--here", action="store_true",
                        help="use the Python running this script (its packages must be installed)")
    parser.add_argument("lab_args", nargs="*", help="after --: arguments for `jupyter lab`")
    args = parser.parse_args(argv)
    try:
        python = set_up(args.here)
        if args.setup_only:
            say(f"Set up. Open the lab with: python {Path(__file__).name}")
            return 0
        return open_lab(python, args.lab_args)
    except SetupError as exc:
        say(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
