"""Check that requirements.txt installs from wheels on every platform students use.

For each target (Linux x86_64, macOS on Apple silicon, 64-bit Windows; Python 3.11) pip
resolves the file as a student's ``pip install -r requirements.txt`` would there, without
installing or downloading anything:

    pip install --dry-run --report R.json --ignore-installed --only-binary=:all:
        --platform TAG... --python-version 3.11 --implementation cp -r FILTERED

and the JSON report is checked: every pin that applies to the platform resolved to its
pinned version, TensorFlow is ``tensorflow-cpu`` on Linux and ``tensorflow`` elsewhere,
and no CUDA (nvidia-*) package comes along.

Two details make this an honest check:

- ``--platform``/``--python-version`` choose wheel tags, but pip evaluates environment
  markers (``sys_platform == "linux"``, and those inside every dependency's metadata) for
  the machine running pip (pypa/pip#6117, #10050). So pip runs here with the marker
  environment of the target platform patched in, and the report's ``environment`` must
  show the target's values, or the check fails.
- ``-e .`` (this repository) is not a wheel on an index and cannot be resolved for another
  platform. It is left out of the file pip sees and replaced by the dependencies that
  pyproject.toml declares (none today: the packages are pure Python).

    python tools/check_platforms.py                  # table; exit 1 if any platform fails
    python tools/check_platforms.py --wheels         # also the wheel chosen for every pin
    python tools/check_platforms.py --platform macos --keep-reports reports/
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "3.11"
# Marker values for Python 3.11 on the target: 3.11.9 is the last 3.11 release with
# python.org installers for macOS and Windows. platform_release/platform_version below are
# representative values of each OS (markers seldom name them).
PYTHON_FULL = "3.11.9"


def _markers(os_name: str, sys_platform: str, system: str, machine: str, release: str, version: str) -> dict[str, str]:
    """The PEP 508 marker environment of CPython 3.11 on one platform."""
    return {
        "implementation_name": "cpython",
        "implementation_version": PYTHON_FULL,
        "os_name": os_name,
        "platform_machine": machine,
        "platform_release": release,
        "platform_system": system,
        "platform_version": version,
        "python_full_version": PYTHON_FULL,
        "platform_python_implementation": "CPython",
        "python_version": PYTHON,
        "sys_platform": sys_platform,
    }


@dataclass(frozen=True)
class Platform:
    """A platform students install on: wheel tags to accept and marker values to use."""

    key: str
    label: str
    tags: tuple[str, ...]
    markers: dict[str, str] = field(hash=False)
    tensorflow: str  # the TensorFlow distribution requirements.txt must select there


# glibc 2.27 or later (TensorFlow 2.21's Linux wheels are manylinux_2_27); pip does not
# expand manylinux_2_x tags to older ones, so list them (manylinux2014 adds 2010 and 1).
_LINUX_TAGS = tuple(f"manylinux_2_{minor}_x86_64" for minor in range(27, 4, -1)) + ("manylinux2014_x86_64",)

PLATFORMS: tuple[Platform, ...] = (
    Platform(
        "linux",
        "Linux x86_64 (glibc 2.27+)",
        _LINUX_TAGS,
        _markers("posix", "linux", "Linux", "x86_64", "6.1.0", "#1 SMP"),
        "tensorflow-cpu",
    ),
    # macOS 12 (TensorFlow's wheels are macosx_12_0_arm64); pip expands the tag to every
    # older one (11_0, universal2, ...).
    Platform(
        "macos",
        "macOS 12+ arm64",
        ("macosx_12_0_arm64",),
        _markers("posix", "darwin", "Darwin", "arm64", "21.6.0", "Darwin Kernel 21.6.0"),
        "tensorflow",
    ),
    Platform(
        "windows",
        "Windows amd64",
        ("win_amd64",),
        _markers("nt", "win32", "Windows", "AMD64", "10", "10.0.19045"),
        "tensorflow",
    ),
)
TENSORFLOW_DISTS = frozenset({"tensorflow", "tensorflow-cpu"})

# Runs pip's own command line with the target's marker environment. pip >= 26.3 builds
# the environment in _cached_default_environment; older releases call default_environment
# directly. Both are replaced before pip's modules import them; check_report verifies.
_PIP_WITH_MARKERS = """\
import json, sys
import pip._vendor.packaging.markers as markers
env = json.loads(sys.argv[1])
markers._cached_default_environment = lambda: dict(env)
markers.default_environment = lambda: dict(env)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


class RequirementsError(ValueError):
    """requirements.txt or pyproject.toml holds something this check cannot verify."""


@dataclass
class Requirements:
    """What pip resolves (``lines``) and what the report must then contain (``expected``)."""

    lines: list[str]
    expected: list[Requirement]
    notes: list[str]


def _local_project_extras(line: str) -> list[str] | None:
    """The extras of ``-e .`` / ``-e .[a,b]`` (this repository), or None for other lines."""
    for prefix in ("--editable", "-e"):
        if line.startswith(prefix):
            target = line[len(prefix) :].strip().lstrip("=").strip()
            break
    else:
        return None
    base, _, extras = target.partition("[")
    if base not in {".", "./", "file:.", "file:./"}:
        raise RequirementsError(f"editable requirement {line!r}: only `-e .` (this repository) can be checked")
    return [e.strip() for e in extras.rstrip("]").split(",") if e.strip()]


def project_dependencies(pyproject: Path, extras: list[str]) -> list[str]:
    """The dependencies pyproject.toml declares (plus those of ``extras``), as PEP 508 strings."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    if "dependencies" in project.get("dynamic", []):
        raise RequirementsError(
            f"{pyproject.name}: dynamic dependencies cannot be checked "
            "without building the project; list them in [project]"
        )
    deps = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise RequirementsError(f"{pyproject.name} has no optional-dependencies {extra!r}")
        deps += optional[extra]
    return deps


def read_requirements(path: Path, pyproject: Path | None = None) -> Requirements:
    """Parse a pinned requirements file; replace ``-e .`` by pyproject.toml's dependencies.

    Every requirement of the file must be an exact ``==`` pin. Raises RequirementsError
    for lines this check cannot resolve for another platform (other editables, -r, -c).
    """
    pyproject = pyproject or path.parent / "pyproject.toml"
    lines: list[str] = []
    expected: list[Requirement] = []
    notes: list[str] = []
    text = re.sub(r"\\\n", "", path.read_text(encoding="utf-8"))  # line continuations
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        where = f"{path.name}:{number}"
        extras = _local_project_extras(line)
        if extras is not None:
            deps = project_dependencies(pyproject, extras)
            notes.append(
                f"{where} `{line}` (this repository) left out of the dry run; "
                f"{pyproject.name} declares {len(deps)} dependencies"
                + (f", resolved in its place: {', '.join(deps)}" if deps else "")
            )
            for dep in deps:
                lines.append(dep)
                expected.append(Requirement(dep))
            continue
        if line.startswith(("-r", "-c", "--requirement", "--constraint")):
            raise RequirementsError(f"{where}: nested files ({line!r}) are not supported here")
        if line.startswith("-"):
            lines.append(line)  # an index option: pip applies it as usual
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            raise RequirementsError(f"{where}: {exc}") from None
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            raise RequirementsError(f"{where}: {req.name} is not pinned exactly (use name==version)")
        lines.append(line)
        expected.append(req)
    return Requirements(lines, expected, notes)


def applies(req: Requirement, platform: Platform) -> bool:
    """Whether ``req``'s environment marker selects it on ``platform``."""
    return req.marker is None or req.marker.evaluate({**platform.markers, "extra": ""})


def installed(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Canonical name -> {"version", "wheel"} of every distribution a pip report installs."""
    if str(report.get("version")) != "1":
        raise ValueError(f"unknown pip report format version {report.get('version')!r}")
    out: dict[str, dict[str, str]] = {}
    for item in report.get("install", []):
        meta = item["metadata"]
        url = item.get("download_info", {}).get("url", "")
        out[canonicalize_name(meta["name"])] = {"version": meta["version"], "wheel": url.rsplit("/", 1)[-1]}
    return out


def check_report(report: dict[str, Any], platform: Platform, expected: list[Requirement]) -> list[str]:
    """Everything wrong with one platform's pip report; an empty list means it passed."""
    problems = []
    env = report.get("environment", {})
    wrong = {k: env.get(k) for k, v in platform.markers.items() if env.get(k) != v}
    if wrong:
        problems.append(
            f"pip evaluated markers with {wrong}, not {platform.label}'s values: "
            "the marker override did not take effect (pip "
            f"{report.get('pip_version', '?')}), so this resolution proves nothing"
        )
    dists = installed(report)
    for req in expected:
        name = canonicalize_name(req.name)
        if not applies(req, platform):
            continue
        if name not in dists:
            problems.append(f"{req} was not resolved")
        elif not req.specifier.contains(Version(dists[name]["version"]), prereleases=True):
            problems.append(f"{req.name} resolved to {dists[name]['version']}, requirement is {req}")
    wanted = canonicalize_name(platform.tensorflow)
    if wanted not in dists:
        problems.append(f"{platform.tensorflow} is not selected on {platform.label}")
    for other in sorted(TENSORFLOW_DISTS - {wanted}):
        if other in dists:
            problems.append(f"{other} is selected on {platform.label}, where the course uses {platform.tensorflow}")
    cuda = sorted(n for n in dists if n.startswith("nvidia-"))
    if cuda:
        problems.append(f"CUDA packages would be installed (the course is CPU only): {', '.join(cuda)}")
    return problems


def pip_command(platform: Platform, requirements: Path, report: Path) -> list[str]:
    """The pip dry run for ``platform`` (with its marker environment), writing ``report``."""
    cmd = [
        sys.executable,
        "-c",
        _PIP_WITH_MARKERS,
        json.dumps(platform.markers),
        "install",
        "--dry-run",
        "--quiet",
        "--disable-pip-version-check",
        "--ignore-installed",
        "--only-binary=:all:",
        "--python-version",
        PYTHON,
        "--implementation",
        "cp",
        "--report",
        str(report),
        "-r",
        str(requirements),
    ]
    for tag in platform.tags:
        cmd += ["--platform", tag]
    return cmd


def resolve(platform: Platform, reqs: Requirements, workdir: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """Run the dry run; return (report, problems), report None when pip failed."""
    filtered = workdir / f"requirements-{platform.key}.txt"
    filtered.write_text("\n".join(reqs.lines) + "\n", encoding="utf-8")
    report_path = workdir / f"report-{platform.key}.json"
    proc = subprocess.run(pip_command(platform, filtered, report_path), capture_output=True, text=True)
    if proc.returncode != 0 or not report_path.is_file():
        errors = [ln for ln in proc.stderr.splitlines() if "ERROR" in ln or "requires" in ln]
        detail = "\n    ".join(errors or proc.stderr.strip().splitlines()[-10:])
        return None, [f"pip could not resolve the file (exit {proc.returncode}):\n    {detail}"]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return report, check_report(report, platform, reqs.expected)


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns, the first row a header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows)


def summary_row(platform: Platform, report: dict[str, Any] | None, problems: list[str]) -> tuple[str, ...]:
    """One table row: platform, TensorFlow chosen and its wheel, package count, result."""
    dists = installed(report) if report else {}
    tf = next((n for n in sorted(TENSORFLOW_DISTS) if n in dists), None)
    return (
        platform.label,
        f"{tf} {dists[tf]['version']}" if tf else "-",
        dists[tf]["wheel"] if tf else "-",
        str(len(dists)) if report else "-",
        "ok" if not problems else "FAIL",
    )


def main(argv: list[str] | None = None) -> int:
    """Check every (or the chosen) platform, print the table; 0 when all pass, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument(
        "--platform",
        action="append",
        choices=[p.key for p in PLATFORMS],
        help="check only this platform (repeatable; default: all)",
    )
    parser.add_argument("--wheels", action="store_true", help="list the wheel chosen for every pin")
    parser.add_argument(
        "--keep-reports", type=Path, metavar="DIR", help="keep pip's JSON reports and the filtered files in DIR"
    )
    args = parser.parse_args(argv)
    try:
        reqs = read_requirements(args.requirements)
    except (RequirementsError, OSError) as exc:
        print(f"check_platforms: {exc}", file=sys.stderr)
        return 2
    chosen = [p for p in PLATFORMS if not args.platform or p.key in args.platform]
    rows: list[tuple[str, ...]] = [("platform", "tensorflow", "tensorflow wheel", "packages", "result")]
    failures: list[str] = []
    wheels: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep_reports or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for platform in chosen:
            report, problems = resolve(platform, reqs, workdir)
            rows.append(summary_row(platform, report, problems))
            failures += [f"{platform.label}: {p}" for p in problems]
            if args.wheels and report:
                dists = installed(report)
                wheels += [f"{platform.label}:"] + [
                    f"  {dists[n]['wheel']}"
                    for n in (canonicalize_name(r.name) for r in reqs.expected if applies(r, platform))
                    if n in dists
                ]
    print(f"{args.requirements.name}, Python {PYTHON}, wheels only (pip dry run per platform)")
    for note in reqs.notes:
        print(f"note: {note}")
    print(table(rows))
    if wheels:
        print("\nwheel chosen for each pin:\n" + "\n".join(wheels))
    if failures:
        print("\nFAILED:\n" + "\n".join(f"- {f}" for f in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
