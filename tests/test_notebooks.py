"""The optional labs run clean under nbval; committed notebooks carry no stderr or errors."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXECUTED = LABS + sorted((ROOT / "source").glob("*/*.ipynb"))
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_series_has_three_optional_labs():
    assert [p.name for p in LABS] == ["01_relu.ipynb", "02_softmax.ipynb", "03_multiclass.ipynb"]


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.name)
def test_committed_outputs_are_clean(path):
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    cells = code_cells(nb)
    assert all(c.get("execution_count") for c in cells), "every code cell is executed"
    for cell in cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", source(cell)[:200]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), source(cell)[:200]


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.name)
def test_utils_is_imported_before_tensorflow(path):
    """utils sets TensorFlow's quiet environment; importing TF first prints to stderr."""
    text = "\n".join(source(c) for c in code_cells(load(path)))
    tf_import = re.search(r"^\s*(import tensorflow|from tensorflow)", text, re.M)
    if tf_import:
        utils_import = re.search(r"^\s*(import utils|from utils)", text, re.M)
        assert utils_import and utils_import.start() < tf_import.start()


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.name)
def test_ignored_outputs_say_why(path):
    for cell in code_cells(load(path)):
        if "nbval-ignore-output" in cell.get("metadata", {}).get("tags", []):
            assert re.search(r"^\s*#", source(cell), re.M), f"no reason given in: {source(cell)[:120]}"


@pytest.mark.slow
@pytest.mark.parametrize("path", LABS, ids=lambda p: p.name)
def test_optional_lab_passes_nbval(path, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", str(path), "--nbval-sanitize-with", str(SANITIZE),
         "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", done.stdout)


# built from pieces so that this file does not match itself
MACHINE_PATH = re.compile("|".join(["/" + "work/main", "/" + "root/", "/tmp/" + "pytest-of"]))


def test_no_machine_paths_or_working_state_committed():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert not [f for f in files if re.search(r"(^|/)(gradebook\.db|\.venv|__pycache__|\.ipynb_checkpoints)(/|$)", f)]
    leaks = []
    for f in files:
        path = ROOT / f
        if path.suffix in {".npy"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        if MACHINE_PATH.search(text):
            leaks.append(f)
    assert leaks == []
