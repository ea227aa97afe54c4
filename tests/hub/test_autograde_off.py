"""The hub's refusal of nbgrader's in-server Autograde (deploy/roles/instructor/nbgrader_config.py),
without a hub: a course folder as deploy/roster.py makes it (the repository's nbgrader_config.py,
the instructor's nbgrader settings with the course root), the instructor's role folder on
JUPYTER_CONFIG_PATH as the hub puts it, and nbgrader driven the two ways the instructor's server
can: the Formgrader's API (what its Autograde button posts to, made as the Formgrader makes it)
and ``nbgrader autograde`` in a terminal. Each run is a fresh Python (nbgrader's apps are
process-wide). The same runs without the role folder are the control: there nbgrader's
Autograde goes ahead, so each check here can fail.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from traitlets.config import Config

from helpers.repo import ROOT

ROLE = ROOT / "deploy" / "roles" / "instructor"
ASSIGNMENT, STUDENT = "toy", "stu1"
SANDBOX_OUTPUT = "graded by the sandbox"
REFUSED = "Autograde is turned off on this hub"

# The Formgrader's Autograde: FormgradeExtension (an NbGrader app) initialised in the server's
# folder, the API made per request as nbgrader's BaseHandler.api makes it, force=True as the
# button posts it. One Python runs each scenario of argv[1] (a JSON list of [home, environment])
# with its own environment and apps (nbgrader's import is most of the time), printing the answers.
FORMGRADER_AUTOGRADE = """
import json, os, sys
from nbgrader.apps.api import NbGraderAPI
from nbgrader.auth import Authenticator
from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

answers = []
for home, env in json.loads(sys.argv[1]):
    os.environ.clear()
    os.environ.update(env)
    os.chdir(home)
    fg = FormgradeExtension()
    fg.root_dir = home
    fg.initialize([])
    fg.coursedir.parent.load_config_file()
    api = NbGraderAPI(fg.coursedir, Authenticator(parent=fg), parent=fg.coursedir.parent)
    answers.append(api.autograde(sys.argv[2], sys.argv[3]))
print("RESULT=" + json.dumps(answers))
"""


def make_course(home: Path, extra_config: str = "") -> Path:
    """An instructor's home as deploy/roster.py leaves it, plus one collected submission of a toy
    assignment (in the gradebook, without notebooks) and its notebook as the sandbox graded it."""
    from nbgrader.api import Gradebook

    course = home / "multiclass-digits"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + extra_config)
    (home / ".jupyter").mkdir()
    (home / ".jupyter" / "nbgrader_config.json").write_text(json.dumps({"CourseDirectory": {"root": str(course)}}))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('student code ran')")])
    for folder in ("submitted", "autograded"):
        (course / folder / STUDENT / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(nb, course / "submitted" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (course / "submitted" / STUDENT / ASSIGNMENT / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    (course / "autograded" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text(SANDBOX_OUTPUT)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "multiclass-digits") as gb:
        gb.update_or_create_assignment(ASSIGNMENT)
    return course


def env_of(home: Path, role: bool) -> dict[str, str]:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONPATH": str(ROOT), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter")}
    if role:
        env["JUPYTER_CONFIG_PATH"] = str(ROLE)
    return env


def state(course: Path) -> dict[str, Any]:
    """What the gradebook holds (students, submissions) and the sandbox's graded notebook."""
    from nbgrader.api import Gradebook

    graded = course / "autograded" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "multiclass-digits") as gb:
        return {"students": [s.id for s in gb.students],
                "submissions": [[s.assignment.name, s.student.id] for s in gb.assignment_submissions(ASSIGNMENT)],
                "autograded": graded.read_text() if graded.exists() else None}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The Formgrader's Autograde with the role folder, with the role folder and a course folder
    config that sets Autograde's exporter and sanitizing list at the top level, and without the
    role folder (the control): its answer and what the course then holds, by scenario."""
    top_level = ("\nc.Autograde.exporter_class = 'nbconvert.exporters.NotebookExporter'\n"
                 "c.Autograde.sanitize_preprocessors = ['nbgrader.preprocessors.ClearOutput']\n")
    scenarios = {"hub": (True, ""), "course config on top": (True, top_level), "no role folder": (False, "")}
    homes = {name: tmp_path_factory.mktemp("home") for name in scenarios}
    for name, (_, extra) in scenarios.items():
        make_course(homes[name], extra)
    plan = [[str(homes[name]), env_of(homes[name], role)] for name, (role, _) in scenarios.items()]
    proc = subprocess.run([sys.executable, "-c", FORMGRADER_AUTOGRADE, json.dumps(plan), ASSIGNMENT, STUDENT],
                          cwd=homes["hub"], env=env_of(homes["hub"], False), capture_output=True, text=True,
                          timeout=300)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT=")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    answers = json.loads(lines[-1][len("RESULT="):])
    return {name: {"result": answer, **state(homes[name] / "multiclass-digits")}
            for name, answer in zip(scenarios, answers, strict=True)}


def test_the_role_config_refuses_in_every_place_autograde_is_configured() -> None:
    """The config file sets the refusing exporter for the Formgrader's Autograde (made by the
    NbGraderAPI), for `nbgrader autograde` (made by its app) and at the top level; the exporter
    cannot be made, and says what to do instead."""
    namespace: dict[str, Any] = {"get_config": Config}
    exec(compile((ROLE / "nbgrader_config.py").read_text(), str(ROLE / "nbgrader_config.py"), "exec"), namespace)
    c, refusing = namespace["c"], namespace["AutogradeOffOnHub"]
    assert c.NbGraderAPI.Autograde.exporter_class is refusing
    assert c.NbGrader.Autograde.exporter_class is refusing
    assert c.Autograde.exporter_class is refusing
    with pytest.raises(RuntimeError, match="deploy/grade.py"):
        refusing()


def test_the_formgraders_autograde_is_refused(runs: dict[str, dict[str, Any]]) -> None:
    result = runs["hub"]["result"]
    assert result["success"] is False and REFUSED in result["error"], result
    control = runs["no role folder"]["result"]
    assert REFUSED not in json.dumps(control), control  # there nbgrader's Autograde went ahead


def test_a_refused_autograde_leaves_no_record_in_the_gradebook(runs: dict[str, dict[str, Any]]) -> None:
    """nbgrader adds the student and an empty submission before it sanitizes anything; the
    refusal comes before that (the control run shows both records appearing)."""
    assert runs["hub"]["students"] == [] and runs["hub"]["submissions"] == [], runs["hub"]
    control = runs["no role folder"]
    assert control["students"] == [STUDENT] and control["submissions"] == [[ASSIGNMENT, STUDENT]], control


def test_a_refused_autograde_keeps_the_sandboxs_graded_notebook(runs: dict[str, dict[str, Any]]) -> None:
    """The button's force=True makes nbgrader delete the autograded notebook before grading
    again; refused, the one the sandbox graded stays (the control run deletes it)."""
    assert runs["hub"]["autograded"] == SANDBOX_OUTPUT
    assert runs["no role folder"]["autograded"] is None


def test_the_course_folders_config_does_not_turn_it_back_on(runs: dict[str, dict[str, Any]]) -> None:
    """The course folder's nbgrader_config.py is loaded after the role folder's and sets
    Autograde's exporter and sanitizing list (the repository's does, for the sandboxed grader);
    the refusal, nested under the API that makes the Formgrader's Autograde, still holds."""
    seen = runs["course config on top"]
    assert seen["result"]["success"] is False and REFUSED in seen["result"]["error"], seen["result"]
    assert seen["submissions"] == [] and seen["autograded"] == SANDBOX_OUTPUT, seen


def test_nbgrader_autograde_in_the_instructors_terminal_is_refused(tmp_path: Path) -> None:
    """`nbgrader autograde` run in the course folder (whose config is then loaded last, as the
    current folder's and the course root's) is refused too, and changes nothing."""
    course = make_course(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--student", STUDENT, "--force"],
                          cwd=course, env=env_of(tmp_path, True), capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and REFUSED in out, out
    assert "student code ran" not in out
    assert state(course) == {"students": [], "submissions": [], "autograded": SANDBOX_OUTPUT}
