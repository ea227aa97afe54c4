"""Build the student kit: what an instructor hands out, with no solution and no hidden test.

    python tools/student_kit.py                  # dist/multiclass-digits-kit/ and its .zip
    python tools/student_kit.py --out ../public-kit   # the folder elsewhere (e.g. a clone of the
                                                 # course's public repository; its .git is kept)
    python tools/student_kit.py --scan KIT       # only scan a kit folder or .zip for leaks

The kit holds the released notebooks (release/*/), the optional labs (notebooks/), the
packages the notebooks import (utils, public_tests: each copied whole from where Python
imports it, so a new module comes along), the pinned requirements a student needs
(requirements.txt without this repository and the course-scale grader), and student/: the
student README, lab.py (the one-command set-up), the Validate button's nbgrader settings and
the JupyterLab settings that hide the instructor's tools.

Before anything is written the kit is scanned: every line of a source/ notebook that its
release does not show (solutions, hidden tests, whatever form their markers take), and every
line of a source/ file that is not released, must appear nowhere in the kit: in no file, no
notebook cell or output, not even inside a longer line. A leak stops the build.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
NAME = "multiclass-digits-kit"
DIST = ROOT / "dist"
STUDENT = ROOT / "student"  # copied to the kit's top level
PACKAGES = ("utils", "public_tests")  # what the notebooks import
# requirements.txt lines a student does not need: the course-scale grader's cluster
INSTRUCTOR_ONLY = frozenset({"dask", "distributed"})
MANIFEST = ".kit-manifest.json"  # marks a folder this tool wrote (and may replace)
SKIPPED = {"__pycache__", ".ipynb_checkpoints", ".DS_Store"}
# never removed from an output folder: a clone's repository, the environment lab.py made
# when the instructor tried the kit there (neither is part of the kit, nor scanned)
KEEP = {".git", ".venv"}
# Lines of a solution that public material contains on purpose: (kit path, line) -> why.
KNOWN_PUBLIC = {
    (
        "public_tests/softmax_judge.py",
        "ez = np.exp(z)",
    ): "the public judge computes np.exp(z) to recognise common wrong formulas",
}
_IMPORT = re.compile(r"^(import [\w.]+( as \w+)?|from [\w.]+ import [\w, ]+)$")


class KitError(Exception):
    """The kit cannot be built as asked; the message says why."""


@dataclass(frozen=True)
class Leak:
    """A kit line that holds a solution or hidden-test line of source/."""

    path: str  # in the kit
    where: str  # line number, or notebook cell and output
    line: str
    origin: str  # the source notebook and cell it comes from

    def __str__(self) -> str:
        return f"{self.path} ({self.where}): {self.line!r} is from {self.origin}"


# ------------------------------------------------------------------------- the scan


def normalise(line: str) -> str:
    return " ".join(line.split())


def significant(line: str) -> bool:
    """Worth scanning for: some letters or digits, and not a bare import statement."""
    return bool(re.search(r"\w", line)) and not _IMPORT.match(line)


def _cell_lines(nb: dict) -> Iterator[tuple[str, str]]:
    for index, cell in enumerate(nb.get("cells", [])):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        for line in text.splitlines():
            yield f"cell {index} ({cell.get('id', 'no id')})", normalise(line)


def secret_lines(root: Path = ROOT) -> dict[str, str]:
    """Each significant line of a source/ notebook that its release does not show (not even
    inside a longer line: the release is public) -> where it comes from."""
    secrets: dict[str, str] = {}
    for source in sorted((root / "source").glob("*/*.ipynb")):
        rel = source.relative_to(root / "source")
        release = root / "release" / rel
        public = ""
        if release.is_file():
            nb = json.loads(release.read_text(encoding="utf-8"))
            public = "\n".join(line for _, line in _cell_lines(nb))
        for cell, line in _cell_lines(json.loads(source.read_text(encoding="utf-8"))):
            if line not in public and significant(line):
                secrets.setdefault(line, f"source/{rel.as_posix()} {cell}")
    for other in sorted((root / "source").glob("*/**/*")):  # files nbgrader does not release
        rel = other.relative_to(root / "source")
        if other.is_file() and other.suffix != ".ipynb" and not (root / "release" / rel).exists():
            for where, line in file_lines(rel.as_posix(), other.read_bytes()):
                if significant(line):
                    secrets.setdefault(line, f"source/{rel.as_posix()} {where}")
    if not secrets:
        raise KitError(f"no solution or hidden-test line found under {root / 'source'}: nothing to scan for")
    return secrets


def _strings(value: object, key: str = "") -> Iterator[str]:
    """Every string in a notebook's JSON, except base64 images."""
    if isinstance(value, str):
        if not key.startswith("image/"):
            yield value
    elif isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            yield "".join(value)  # a multi-line string stored as a list of lines
        else:
            for item in value:
                yield from _strings(item, key)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)


def file_lines(path: str, data: bytes) -> Iterator[tuple[str, str]]:
    """(where, normalised line) of a kit file; nothing for binary files."""
    if b"\0" in data:
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    if path.endswith(".ipynb"):
        try:
            nb = json.loads(text)
        except json.JSONDecodeError:
            nb = None
        if isinstance(nb, dict):
            for index, cell in enumerate(nb.get("cells", [])):
                for part in _strings(cell):
                    for line in part.splitlines():
                        yield f"cell {index}", normalise(line)
            for part in _strings(nb.get("metadata", {})):
                for line in part.splitlines():
                    yield "metadata", normalise(line)
            return
    for number, line in enumerate(text.splitlines(), start=1):
        yield f"line {number}", normalise(line)


def kit_files(kit: Path) -> Iterator[tuple[str, bytes]]:
    """(path in the kit, content) of every file of a kit folder or .zip (a .git is not the kit)."""
    if kit.is_file() and zipfile.is_zipfile(kit):
        with zipfile.ZipFile(kit) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield info.filename.split("/", 1)[-1], archive.read(info)
        return
    if not kit.is_dir():
        raise KitError(f"{kit} is neither a kit folder nor a .zip")
    for path in sorted(kit.rglob("*")):
        rel = path.relative_to(kit)
        if path.is_file() and rel.parts[0] not in KEEP:
            yield rel.as_posix(), path.read_bytes()


def scan(kit: Path, secrets: dict[str, str] | None = None) -> list[Leak]:
    """Every kit line that holds a solution or hidden-test line of source/ (a commented-out
    or indented copy too)."""
    secrets = secret_lines() if secrets is None else secrets
    leaks = []
    for path, data in kit_files(kit):
        lines = list(file_lines(path, data))
        text = "\n".join(line for _, line in lines)
        for secret in [s for s in secrets if s in text and (path, s) not in KNOWN_PUBLIC]:
            leaks += [Leak(path, where, secret, secrets[secret]) for where, line in lines if secret in line]
    return leaks


# ------------------------------------------------------------------------- the parts


def package_dir(name: str) -> Path:
    """The folder Python imports ``name`` from; it must be this repository's."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise KitError(f"the package {name!r} cannot be imported: run from this repository's venv")
    where = Path(next(iter(spec.submodule_search_locations))).resolve()
    if where != (ROOT / name).resolve():
        raise KitError(f"{name!r} imports from {where}, not from this repository ({ROOT / name})")
    return where


def student_requirements(path: Path = ROOT / "requirements.txt") -> str:
    """requirements.txt without this repository (-e .) and the grader's cluster packages."""
    kept = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line == "-e .":
            continue
        if line.startswith("-"):
            raise KitError(f"{path.name}: {line!r} has no meaning for a student's install")
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            raise KitError(f"{path.name}: {exc}") from None
        if canonicalize_name(req.name) not in INSTRUCTOR_ONLY:
            kept.append(line)
    return (
        "# The packages of this course, pinned (Python 3.11; Linux x86_64, macOS on Apple\n"
        "# silicon, 64-bit Windows). `python lab.py` installs them.\n" + "\n".join(kept) + "\n"
    )


def built_from() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def skipped(rel: Path) -> bool:
    """Caches and editor leftovers are no part of the kit."""
    return any(part in SKIPPED for part in rel.parts) or rel.suffix == ".pyc"


def _copy_into(src: Path, dest: Path, prefix: str, owner: dict[str, str]) -> None:
    """Copy the files of ``src`` to ``dest/prefix``; two parts may not write the same file."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if not path.is_file() or skipped(rel):
            continue
        key = f"{prefix}{rel.as_posix()}"
        label = src.relative_to(ROOT).as_posix() if src.is_relative_to(ROOT) else str(src)
        if key in owner:
            raise KitError(f"{key} comes from both {owner[key]} and {label}")
        owner[key] = label
        target = dest / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def assemble(dest: Path) -> list[str]:
    """Write the kit's files into the empty folder ``dest``; return their paths."""
    owner: dict[str, str] = {}
    releases = sorted(p for p in (ROOT / "release").iterdir() if p.is_dir())
    if not releases:
        raise KitError("release/ holds no assignment: run `make release`")
    for part in [*releases, ROOT / "notebooks", STUDENT]:
        _copy_into(part, dest, "", owner)
    for name in PACKAGES:
        _copy_into(package_dir(name), dest, f"{name}/", owner)
    (dest / "requirements.txt").write_text(student_requirements(), encoding="utf-8")
    files = sorted([*owner, "requirements.txt"])
    manifest = {"kit": NAME, "built_from": built_from(), "files": files}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return files


def replace_folder(out: Path, staged: Path) -> None:
    """Put the staged kit at ``out``: a new folder, or one this tool wrote (KEEP kept)."""
    if out.exists():
        leftovers = [p.name for p in out.iterdir() if p.name not in KEEP]
        if leftovers and not (out / MANIFEST).is_file():
            raise KitError(
                f"{out} exists and is not a kit this tool wrote (no {MANIFEST}): choose an empty or new folder"
            )
        for name in leftovers:
            target = out / name
            shutil.rmtree(target) if target.is_dir() and not target.is_symlink() else target.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for path in staged.iterdir():
        shutil.move(str(path), out / path.name)


def write_zip(folder: Path, archive: Path) -> None:
    """The kit as one .zip whose top folder is ``archive``'s name (unzips as a folder)."""
    top = archive.stem
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=archive.parent, suffix=".zip", delete=False) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for rel, _ in kit_files(folder):
                zf.write(folder / rel, f"{top}/{rel}")
    Path(tmp.name).chmod(0o644)
    Path(tmp.name).replace(archive)


def build(out: Path, archive: Path | None) -> list[str]:
    """Assemble, scan, then write the folder and the archive; a leak writes nothing."""
    secrets = secret_lines()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".kit-") as tmp:
        staged = Path(tmp) / NAME
        staged.mkdir()
        files = assemble(staged)
        leaks = scan(staged, secrets)
        if leaks:
            raise KitError("the kit would give away solutions or hidden tests:\n  " + "\n  ".join(map(str, leaks)))
        replace_folder(out, staged)
    if archive is not None:
        write_zip(out, archive)
        if leaks := scan(archive, secrets):
            archive.unlink()
            raise KitError("the archive leaks:\n  " + "\n  ".join(map(str, leaks)))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DIST / NAME, help="the kit folder")
    parser.add_argument("--zip", type=Path, help="the archive (default: the folder's path + .zip)")
    parser.add_argument("--no-zip", action="store_true", help="write the folder only")
    parser.add_argument("--scan", type=Path, metavar="KIT", help="only scan a kit folder or .zip")
    args = parser.parse_args(argv)
    try:
        if args.scan:
            leaks = scan(args.scan)
            for leak in leaks:
                print(f"LEAK {leak}")
            print(f"{args.scan}: {len(leaks)} solution or hidden-test lines found")
            return 1 if leaks else 0
        out = args.out.resolve()
        archive = None if args.no_zip else (args.zip or out.with_name(out.name + ".zip")).resolve()
        files = build(out, archive)
    except KitError as exc:
        print(f"student kit: {exc}", file=sys.stderr)
        return 1
    print(f"Student kit: {len(files)} files in {out}" + (f" and {archive}" if archive else ""))
    print("Scanned: no solution or hidden-test line of source/ in it.")
    print(
        "Hand out the .zip, or publish the folder (once: cd into it, `git init -b main`, "
        "`git add -A`, `git commit -m 'Student kit'`, add your public remote and push; later "
        "builds with --out on that clone update it in place)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
