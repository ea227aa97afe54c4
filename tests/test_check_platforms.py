"""tools/check_platforms.py: requirements.txt resolves on Linux, macOS and Windows.

Fast tests feed the report checks hand-written pip reports (format "1", as pip documents
it) and parse small requirements files; the slow ones ask the package index.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.repo import ROOT, import_tool

cp = import_tool("check_platforms")

LINUX, MACOS, WINDOWS = (next(p for p in cp.PLATFORMS if p.key == k)
                         for k in ("linux", "macos", "windows"))

# What CPython 3.11 on a Linux x86_64 host reports: a dry run "for Windows" whose report
# shows these values evaluated the markers for the wrong machine.
LINUX_HOST_ENV = {"implementation_name": "cpython", "implementation_version": "3.11.7",
                  "os_name": "posix", "platform_machine": "x86_64", "platform_release": "6.1.0",
                  "platform_system": "Linux", "platform_version": "#1 SMP",
                  "python_full_version": "3.11.7", "platform_python_implementation": "CPython",
                  "python_version": "3.11", "sys_platform": "linux"}

PINS = """\
# a comment
tensorflow-cpu==2.21.0; sys_platform == "linux"  # CPU build
tensorflow==2.21.0; sys_platform != "linux"
numpy==2.4.6
-e .
"""


def fake_report(env: dict[str, str], dists: list[tuple[str, str]]) -> dict:
    """A pip installation report (format 1) that installs ``dists`` as (name, version)."""
    return {"version": "1", "pip_version": "26.3", "environment": env,
            "install": [{"metadata": {"name": name, "version": version},
                         "download_info": {"url": f"https://files.example/{name}-{version}.whl"},
                         "requested": True, "is_direct": False, "is_yanked": False}
                        for name, version in dists]}


@pytest.fixture
def pins(tmp_path: Path) -> cp.Requirements:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    (tmp_path / "requirements.txt").write_text(PINS)
    return cp.read_requirements(tmp_path / "requirements.txt")


# ------------------------------------------------------------------ reading the file

def test_local_project_is_left_out_and_said_so(pins):
    assert pins.lines == ['tensorflow-cpu==2.21.0; sys_platform == "linux"',
                          'tensorflow==2.21.0; sys_platform != "linux"', "numpy==2.4.6"]
    assert [str(r) for r in pins.expected] == [
        'tensorflow-cpu==2.21.0; sys_platform == "linux"',
        'tensorflow==2.21.0; sys_platform != "linux"', "numpy==2.4.6"]
    assert len(pins.notes) == 1 and "`-e .`" in pins.notes[0] and "0 dependencies" in pins.notes[0]


def test_project_dependencies_replace_the_local_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["rich>=13"]\n'
        '[project.optional-dependencies]\nplot = ["pillow==11.0.0"]\n')
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n-e .[plot]\n")
    reqs = cp.read_requirements(tmp_path / "requirements.txt")
    assert reqs.lines == ["numpy==2.4.6", "rich>=13", "pillow==11.0.0"]
    assert "rich>=13" in reqs.notes[0]


@pytest.mark.parametrize("text, pyproject, message", [
    ("numpy>=2\n", "", "not pinned exactly"),
    ("numpy==2.*\n", "", "not pinned exactly"),
    ("-r other.txt\n", "", "nested files"),
    ("-e ../elsewhere\n", "", "only `-e .`"),
    ("-e .\n", 'dynamic = ["dependencies"]\n', "dynamic dependencies"),
    ("-e .[gpu]\n", "", "no optional-dependencies 'gpu'"),
    ("numpy=2.4.6\n", "", "requirements.txt:1"),
])
def test_unverifiable_lines_are_rejected(tmp_path, text, pyproject, message):
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = "1"\n{pyproject}')
    (tmp_path / "requirements.txt").write_text(text)
    with pytest.raises(cp.RequirementsError, match=message.replace("[", r"\[").replace("*", r"\*")):
        cp.read_requirements(tmp_path / "requirements.txt")


def test_project_requirements_pick_tensorflow_per_platform():
    """The committed file's markers, evaluated per platform (no index needed)."""
    reqs = cp.read_requirements(ROOT / "requirements.txt")
    chosen = {p.key: sorted(r.name for r in reqs.expected
                            if r.name.startswith("tensorflow") and cp.applies(r, p))
              for p in cp.PLATFORMS}
    assert chosen == {"linux": ["tensorflow-cpu"], "macos": ["tensorflow"],
                      "windows": ["tensorflow"]}


# ------------------------------------------------------------------ checking a report

def test_complete_report_passes(pins):
    report = fake_report(dict(MACOS.markers), [("tensorflow", "2.21.0"), ("numpy", "2.4.6"),
                                                ("appnope", "0.1.4")])
    assert cp.check_report(report, MACOS, pins.expected) == []


def test_missing_pin_fails(pins):
    report = fake_report(dict(LINUX.markers), [("tensorflow-cpu", "2.21.0")])
    assert cp.check_report(report, LINUX, pins.expected) == ["numpy==2.4.6 was not resolved"]


def test_other_version_fails(pins):
    report = fake_report(dict(LINUX.markers), [("tensorflow_cpu", "2.21.0"), ("NumPy", "2.4.5")])
    problems = cp.check_report(report, LINUX, pins.expected)
    assert problems == ["numpy resolved to 2.4.5, requirement is numpy==2.4.6"]


def test_wrong_tensorflow_build_fails(pins):
    # tensorflow-cpu on macOS: the pin for macOS (tensorflow) is missing, and the CPU build
    # the course does not use there is present.
    report = fake_report(dict(MACOS.markers), [("tensorflow-cpu", "2.21.0"), ("numpy", "2.4.6")])
    problems = cp.check_report(report, MACOS, pins.expected)
    assert any("tensorflow==2.21.0" in p and "not resolved" in p for p in problems)
    assert any(p.startswith("tensorflow-cpu is selected") for p in problems)
    assert len(problems) == 3


def test_cuda_packages_fail(pins):
    report = fake_report(dict(LINUX.markers), [("tensorflow-cpu", "2.21.0"), ("numpy", "2.4.6"),
                                                ("nvidia-cudnn-cu12", "9.3.0.75")])
    problems = cp.check_report(report, LINUX, pins.expected)
    assert len(problems) == 1 and "nvidia-cudnn-cu12" in problems[0]


def test_markers_evaluated_for_the_host_fail(pins):
    report = fake_report(LINUX_HOST_ENV, [("tensorflow", "2.21.0"), ("numpy", "2.4.6")])
    problems = cp.check_report(report, WINDOWS, pins.expected)
    assert len(problems) == 1 and "did not take effect" in problems[0]
    assert "'sys_platform': 'linux'" in problems[0]


def test_unknown_report_format_is_an_error(pins):
    report = fake_report(dict(LINUX.markers), [])
    report["version"] = "2"
    with pytest.raises(ValueError, match="report format"):
        cp.check_report(report, LINUX, pins.expected)


def test_failure_exits_non_zero_with_the_reason(tmp_path, pins, monkeypatch, capsys):
    bad = fake_report(dict(WINDOWS.markers), [("tensorflow", "2.21.0")])
    monkeypatch.setattr(cp, "resolve", lambda platform, reqs, workdir: (
        bad, cp.check_report(bad, platform, reqs.expected)))
    (tmp_path / "requirements.txt").write_text(PINS)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    assert cp.main(["--requirements", str(tmp_path / "requirements.txt"),
                    "--platform", "windows"]) == 1
    out, err = capsys.readouterr()
    assert "Windows amd64" in out and "FAIL" in out
    assert "FAILED:\n- Windows amd64: numpy==2.4.6 was not resolved" in err


# ------------------------------------------------------------------ against the index

def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "check_platforms.py"), *args],
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_requirements_resolve_on_every_platform(tmp_path):
    proc = run_check("--keep-reports", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split("  ")[0]: line for line in proc.stdout.splitlines()}
    assert "tensorflow-cpu 2.21.0" in rows[LINUX.label] and rows[LINUX.label].endswith("ok")
    for platform in (MACOS, WINDOWS):
        assert re.search(r"\btensorflow 2\.21\.0 +tensorflow-2\.21\.0-cp311-", rows[platform.label])
        assert rows[platform.label].endswith("ok")

    # Dependency markers were evaluated for each target, not for this machine: ipykernel
    # needs appnope on macOS only; terminado (via jupyter_server) needs pywinpty on
    # Windows and ptyprocess elsewhere.
    def names(key: str) -> set[str]:
        report = json.loads((tmp_path / f"report-{key}.json").read_text())
        return set(cp.installed(report))

    assert "appnope" in names("macos") and "appnope" not in names("linux")
    assert "pywinpty" in names("windows") and "pywinpty" not in names("linux")
    assert "ptyprocess" not in names("windows") and "ptyprocess" in names("macos")


@pytest.mark.slow
def test_cpu_only_pin_without_markers_fails_on_macos(tmp_path):
    """The file before markers: pip finds no tensorflow-cpu wheel for macOS."""
    (tmp_path / "requirements.txt").write_text("tensorflow-cpu==2.21.0\n")
    proc = run_check("--requirements", str(tmp_path / "requirements.txt"), "--platform", "macos")
    assert proc.returncode == 1
    assert "FAIL" in proc.stdout
    assert "No matching distribution found for tensorflow-cpu==2.21.0" in proc.stderr


@pytest.mark.slow
def test_building_the_project_prints_no_warning_and_ships_the_data(tmp_path):
    """pip builds the project as `pip install -r requirements.txt` does (setuptools backend):
    no deprecation or packaging warning, and the digits and the style sheet are in the wheel."""
    import zipfile

    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", str(ROOT),
                           "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    backend = proc.stdout + proc.stderr
    for warning in ("SetuptoolsDeprecationWarning", "BuildBackendWarning", "Package would be ignored"):
        assert warning not in backend, warning
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"utils/data/digits_X.npy", "utils/data/digits_y.npy", "utils/course.mplstyle",
            "grading/batch/forkserver.py", "grading/extensions/__init__.py",
            "grading/isolation/sandbox.py", "public_tests/__init__.py"} <= names
