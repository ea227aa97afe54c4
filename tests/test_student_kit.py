"""tools/student_kit.py: the kit an instructor hands out holds what a student needs, and no
solution or hidden test.

The kit is built once per module into a temporary folder. The scan is checked two ways: its
own list of secret lines (source lines missing from the release) must include every line
between nbgrader's solution and hidden-test delimiters, found here independently; and a
kit with one planted line must be refused.
"""
from __future__ import annotations

import ast
import importlib.metadata as md
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers.repo import LAB, RELEASE_NB, ROOT, SOURCE_NB, import_tool

kit_tool = import_tool("student_kit")
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kit") / kit_tool.NAME
    kit_tool.build(out, out.with_name(out.name + ".zip"))
    return out


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    return kit_tool.secret_lines()


def files_of(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def marked_lines(nb: nbformat.NotebookNode) -> list[str]:
    """The lines between nbgrader's own solution and hidden-test delimiters (their defaults)."""
    pairs = [(ClearSolutions().begin_solution_delimeter, ClearSolutions().end_solution_delimeter),
             (ClearHiddenTests().begin_test_delimeter, ClearHiddenTests().end_test_delimeter)]
    lines = []
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if any(begin in line for begin, _ in pairs):
                inside = True
            elif any(end in line for _, end in pairs):
                inside = False
            elif inside and line.strip():
                lines.append(" ".join(line.split()))
    return lines


# ------------------------------------------------------------------------- contents


def test_kit_has_every_file_of_the_student_packages_and_notebooks(kit: Path) -> None:
    have = files_of(kit)
    for package in kit_tool.PACKAGES:  # whatever the package holds today (a new module too)
        expected = {f"{package}/{rel}" for rel in files_of(ROOT / package)}
        assert expected <= have, sorted(expected - have)
    for name in [*NOTEBOOKS, f"{LAB}.ipynb"]:
        assert name in have, name
    assert (kit / f"{LAB}.ipynb").read_bytes() == (ROOT / "release" / LAB / f"{LAB}.ipynb").read_bytes()
    assert {f for f in files_of(ROOT / "student")} <= have
    assert json.loads((kit / kit_tool.MANIFEST).read_text())["files"] == sorted(have - {kit_tool.MANIFEST})


def test_kit_has_no_instructor_material(kit: Path) -> None:
    tops = {Path(f).parts[0] for f in files_of(kit)}
    assert not tops & {"grading", "source", "release", "tests", "tools", "notebooks", "student"}, tops
    assert not list(kit.rglob("gradebook.db*"))
    config = (kit / "nbgrader_config.py").read_text()
    assert config == (ROOT / "student" / "nbgrader_config.py").read_text()
    assert "grading" not in config and "import" not in config


def test_student_validate_settings_are_the_course_ones() -> None:
    """The Validate button's timeouts (student/nbgrader_config.py) equal the autograder's."""
    from traitlets.config.loader import PyFileConfigLoader

    def execute_of(folder: Path) -> dict:
        return dict(PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config().Execute)

    course = execute_of(ROOT)
    assert execute_of(ROOT / "student") == {k: course[k] for k in ("timeout", "iopub_timeout", "shutdown_kernel")}


def test_kit_requirements_are_the_course_pins_without_the_grader(kit: Path) -> None:
    course = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line and not line.startswith(("#", "-"))]
    kept = [line for line in (kit / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    dropped = [line for line in course if line not in kept]
    assert set(kept) < set(course)
    assert {canonicalize_name(Requirement(line).name) for line in dropped} == kit_tool.INSTRUCTOR_ONLY


def _imports(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _installed() -> dict[str, md.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in md.distributions()}


def _closure(requirements: list[Requirement], installed: dict[str, md.Distribution]) -> set[str]:
    """The installed distributions that ``requirements`` pull in here (for this platform)."""
    seen: set[str] = set()
    todo = [r for r in requirements if r.marker is None or r.marker.evaluate()]
    while todo:
        name = canonicalize_name(todo.pop().name)
        if name in seen:
            continue
        seen.add(name)
        for dep in installed[name].requires or []:
            dep_req = Requirement(dep)
            if dep_req.marker is None or dep_req.marker.evaluate({"extra": ""}):
                todo.append(dep_req)
    return seen


def _top_level_modules(dist: md.Distribution) -> set[str]:
    return {f.parts[0].removesuffix(".py") for f in dist.files or []
            if f.parts and f.parts[0] != ".." and not f.parts[0].endswith((".dist-info", ".data"))}


def _kit_imports(kit: Path) -> set[str]:
    code = [p.read_text() for p in kit.rglob("*.py")]
    for nb_path in kit.glob("*.ipynb"):
        cells = json.loads(nb_path.read_text())["cells"]
        code.append("\n".join(  # IPython magics and shell lines are not Python
            "\n".join(line for line in "".join(c["source"]).splitlines()
                      if not line.lstrip().startswith(("%", "!")))
            for c in cells if c["cell_type"] == "code"))
    return set().union(*(_imports(text) for text in code))


def test_dropping_the_grader_s_requirements_drops_nothing_the_kit_imports(kit: Path) -> None:
    """The distributions only the grader pulls in (Dask and what Dask alone needs) provide no
    module that the kit's code or notebooks import; nor is this repository's grading imported."""
    def pins(path: Path) -> list[Requirement]:
        return [Requirement(line) for line in path.read_text().splitlines()
                if line.strip() and not line.startswith(("#", "-"))]

    installed = _installed()
    gone = (_closure(pins(ROOT / "requirements.txt"), installed)
            - _closure(pins(kit / "requirements.txt"), installed))
    assert kit_tool.INSTRUCTOR_ONLY <= gone
    gone_modules = set().union(*(_top_level_modules(installed[name]) for name in gone))
    imported = _kit_imports(kit)
    assert {"tensorflow", "numpy", "matplotlib", "ipywidgets", "utils", "public_tests"} <= imported
    assert not imported & (gone_modules | {"grading"}), imported & (gone_modules | {"grading"})


# ------------------------------------------------------------------------- the scan


def test_secret_lines_include_every_line_between_nbgrader_delimiters(secrets: dict[str, str]) -> None:
    """Every solution and hidden-test line is scanned for, but those the release shows anyway
    (its prose quotes the input layer)."""
    shown = "\n".join(" ".join(line.split()) for cell in nbformat.read(RELEASE_NB, as_version=4).cells
                      for line in cell.source.splitlines())
    marked = [line for line in marked_lines(nbformat.read(SOURCE_NB, as_version=4))
              if kit_tool.significant(line)]
    public = [line for line in marked if line in shown]
    assert len(marked) >= 15 and len(public) <= 2, (len(marked), public)
    assert [line for line in marked if line not in secrets and line not in public] == []


def test_secret_lines_of_a_source_file_nbgrader_does_not_release(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1  # public")])
    for part in ("source", "release"):
        (tmp_path / part / "hw").mkdir(parents=True)
        nbformat.write(nb, tmp_path / part / "hw" / "hw.ipynb")
    (tmp_path / "source" / "hw" / "answers.py").write_text("ANSWER = 42\n")
    (tmp_path / "source" / "hw" / "data.csv").write_text("released, unchanged\n")
    (tmp_path / "release" / "hw" / "data.csv").write_text("released, unchanged\n")
    assert kit_tool.secret_lines(tmp_path) == {"ANSWER = 42": "source/hw/answers.py line 1"}


def test_kit_folder_and_zip_hold_no_secret_line(kit: Path, secrets: dict[str, str]) -> None:
    archive = kit.with_name(kit.name + ".zip")
    assert kit_tool.scan(kit, secrets) == []
    assert kit_tool.scan(archive, secrets) == []
    with zipfile.ZipFile(archive) as zf:
        names = {n.split("/", 1)[1] for n in zf.namelist()}
        assert {n.split("/", 1)[0] for n in zf.namelist()} == {kit.name}
    assert names == files_of(kit)


def test_known_public_lines_are_still_secret_and_present(kit: Path, secrets: dict[str, str]) -> None:
    """An exemption names a solution line that a public file holds on purpose; a stale one fails."""
    for path, line in kit_tool.KNOWN_PUBLIC:
        assert line in secrets, f"{line!r} is no longer a solution line: drop it from KNOWN_PUBLIC"
        shown = {" ".join(x.split()) for x in (kit / path).read_text().splitlines()}
        assert line in shown, f"{path} no longer holds {line!r}: drop it from KNOWN_PUBLIC"


def _plant(kit: Path, where: str, line: str) -> None:
    if where == "utils module":
        path = kit / "utils" / "plots.py"
        path.write_text(path.read_text() + f"\n# {line}\n")
    elif where == "notebook cell":
        nb = nbformat.read(kit / NOTEBOOKS[0], as_version=4)
        nb.cells[-1].source += "\n" + line
        nbformat.write(nb, kit / NOTEBOOKS[0])
    else:  # a notebook output
        nb = nbformat.read(kit / f"{LAB}.ipynb", as_version=4)
        cell = next(c for c in nb.cells if c.cell_type == "code")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"  {line}\n")]
        nbformat.write(nb, kit / f"{LAB}.ipynb")


@pytest.mark.parametrize("where", ["utils module", "notebook cell", "notebook output"])
def test_scan_finds_a_planted_line(kit: Path, secrets: dict[str, str], tmp_path: Path, where: str) -> None:
    planted = tmp_path / kit.name
    shutil.copytree(kit, planted)
    hidden = next(line for line in secrets if line.startswith("hidden_test_model("))
    solution = next(line for line in secrets if line.startswith('Dense(25'))
    line = hidden if where != "notebook cell" else solution
    _plant(planted, where, line)
    leaks = kit_tool.scan(planted, secrets)
    assert [leak.line for leak in leaks] == [line], leaks
    assert leaks[0].origin.startswith(f"source/{LAB}/{LAB}.ipynb cell")
    if where == "notebook output":  # the archive is scanned as thoroughly
        archive = tmp_path / "planted.zip"
        kit_tool.write_zip(planted, archive)
        assert [leak.line for leak in kit_tool.scan(archive, secrets)] == [line]


def test_build_refuses_a_kit_with_a_secret_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                secrets: dict[str, str]) -> None:
    student = tmp_path / "student"
    shutil.copytree(ROOT / "student", student)
    line = next(line for line in secrets if line.startswith("a = ez"))
    (student / "notes.txt").write_text(f"hint: {line}\n{line}\n")
    monkeypatch.setattr(kit_tool, "STUDENT", student)
    out = tmp_path / "out" / kit_tool.NAME
    with pytest.raises(kit_tool.KitError, match=re.escape(f"notes.txt (line 2): {line!r}")):
        kit_tool.build(out, out.with_name("kit.zip"))
    assert not out.exists() and not out.with_name("kit.zip").exists()


# ------------------------------------------------------------------------- the output folder


def test_build_replaces_its_own_kit_and_keeps_git_and_venv(tmp_path: Path) -> None:
    out = tmp_path / "public-kit"
    kit_tool.build(out, None)
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / ".venv").mkdir()  # lab.py's environment, when the instructor tried the kit there
    (out / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (out / "stale.txt").write_text("from an older kit\n")
    kit_tool.build(out, None)
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (out / ".venv" / "pyvenv.cfg").is_file()
    assert not (out / "stale.txt").exists() and (out / "lab.py").is_file()


def test_build_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "my-project"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work\n")
    with pytest.raises(kit_tool.KitError, match="not a kit this tool wrote"):
        kit_tool.build(out, None)
    assert (out / "thesis.tex").read_text() == "years of work\n"
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
