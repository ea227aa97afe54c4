"""The Validate button (utils.validate_server in place of nbgrader's handler) in a real JupyterLab.

A graded cell split with Split Cell (Ctrl+Shift+-) carries its nbgrader id in both pieces;
nbgrader's own Validate answered with a raw traceback ending "the nbgrader metadata may be
corrupted". Now the notebook is validated the way the graders grade it and the dialog starts with
one sentence naming the cell and how to undo the split. A notebook nbgrader can read gets
nbgrader's own answer, unchanged.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from helpers.foreign import CASES, twin
from helpers.jupyter_server import running_jupyter
from helpers.repo import ROOT

pytestmark = pytest.mark.browser
NOTEBOOK = "multiclass_digits.ipynb"
VALIDATE_TIMEOUT = 900.0  # Validate runs the whole notebook in a new kernel


@pytest.fixture(scope="module")
def validate_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's folder (as `make lab` makes it): a split notebook and a clean one."""
    root = tmp_path_factory.mktemp("validate")
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    for kind in ("split", "clean"):
        (root / kind).mkdir()
    (root / "split" / NOTEBOOK).write_bytes(CASES["split"].build())
    nbformat.write(twin(CASES["split"]), root / "clean" / NOTEBOOK)
    return root


@pytest.fixture(scope="module")
def validate_server(validate_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_jupyter(validate_root, tmp_path_factory.mktemp("validate-state"), "validate") as server:
        yield server


def validate(server: Any, relpath: str) -> dict:
    return server.api(f"assignments/validate?path={relpath}", method="POST", timeout=VALIDATE_TIMEOUT)


def test_a_notebook_nbgrader_reads_gets_nbgraders_own_answer(validate_server: Any, validate_root: Path) -> None:
    reply = validate(validate_server, f"clean/{NOTEBOOK}")
    assert reply["success"] is True, reply
    failed = reply["value"]["failed"]
    assert len(failed) == 1 and "test_model(model, 10, 400)" in failed[0]["source"], failed
    assert "split" not in failed[0]["raw_error"] and "graders" not in failed[0]["raw_error"]
    assert sorted(p.name for p in (validate_root / "clean").iterdir() if not p.name.startswith(".ipynb")) == [NOTEBOOK]


def test_validate_on_a_split_graded_cell_says_how_to_undo_it(validate_server: Any, validate_root: Path,
                                                             open_lab: Any) -> None:
    lab = open_lab(validate_server, f"split/{NOTEBOOK}")
    started = time.monotonic()
    lab.page.get_by_role("button", name="Validate").click()
    dialog = lab.page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=VALIDATE_TIMEOUT * 1000)
    dialog.locator("#validation-message").wait_for()
    shot = lab.screenshot("validate_split_cell", dialog.locator(".jp-Dialog-content"))
    text = dialog.inner_text()
    print(f"\n[browser] Validate on a split cell ({time.monotonic() - started:.0f} s, {shot}):\n{text}")
    sentence = " ".join(text.split())
    assert "The graded cell my_softmax is split into 2 cells" in sentence
    assert "Edit > Undo" in sentence and f"python -m utils.refresh {NOTEBOOK}" in sentence
    assert "jsonschema" not in text and "may be corrupted" not in text and "ValidationError" not in text
    # the unanswered model's NameError as the judged test says it: one line, no traceback
    assert "Traceback" not in text and "NameError: `model` is not defined yet" in text
    # checked as graded: the joined softmax passes its test; only the unanswered model fails
    assert text.count("The following cell failed:") == 2 and "test_model(model, 10, 400)" in text
    assert "test_my_softmax(my_softmax)" not in text
    assert sorted(p.name for p in (validate_root / "split").iterdir() if not p.name.startswith(".ipynb")) == [NOTEBOOK]
