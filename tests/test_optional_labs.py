"""What the optional labs' notebooks say and do (their helpers are tested in test_lab_*.py,
their execution by nbval in test_notebooks.py, their figures in the browser by tests/browser)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IGNORE = "nbval-ignore-output"
# A number as a trained model prints it: at least two decimals, or a percentage with a decimal.
PRINTED_NUMBER = re.compile(r"(?<![\w.])\d+\.\d{2,}(?![\d])|\b\d+\.\d%")


def load(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for c in cells:
        c["text"] = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
    return cells


def outputs_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]))
        elif "text/plain" in out.get("data", {}):
            parts.append("".join(out["data"]["text/plain"]))
    return "\n".join(parts)


def lab(name: str) -> list[dict]:
    return load(ROOT / "notebooks" / name)


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_no_cell_closes_figures(path):
    """plt.close blanks the ipympl canvases of earlier cells in JupyterLab."""
    code = [c["text"] for c in load(path) if c["cell_type"] == "code"]
    assert not [s for s in code if re.search(r"\bplt\.close\(|\.close\(\s*['\"]all", s)]


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_prose_quotes_no_trained_numbers(path):
    """Trained float32 numbers change in their last digits from CPU to CPU: cells printing them
    are not compared by nbval, and the prose must not repeat them."""
    cells = load(path)
    trained = set()
    for c in cells:
        if c["cell_type"] == "code" and IGNORE in c.get("metadata", {}).get("tags", []):
            trained |= set(PRINTED_NUMBER.findall(outputs_text(c)))
    prose = "\n".join(c["text"] for c in cells if c["cell_type"] == "markdown")
    assert not [n for n in trained if re.search(rf"(?<![\w.]){re.escape(n)}(?!\d)", prose)]


TRAINING_LABS = [p for p in LABS if ".fit(" in p.read_text(encoding="utf-8")]  # 01_relu trains nothing


def test_labs_two_and_three_train_models():
    assert [p.name for p in TRAINING_LABS] == ["02_softmax.ipynb", "03_multiclass.ipynb"]


@pytest.mark.parametrize("path", TRAINING_LABS, ids=lambda p: p.stem)
def test_cells_after_training_that_print_numbers_are_not_compared(path):
    """Any code cell after the first ``fit`` that prints decimals is tagged nbval-ignore-output,
    unless what it prints does not come from training (it names no trained variable)."""
    cells = [c for c in load(path) if c["cell_type"] == "code"]
    first_fit = next(i for i, c in enumerate(cells) if ".fit(" in c["text"])
    trained_names = {"model", "model_a", "model_b", "hist_a", "hist_b", "history", "logits", "z_b", "p_a", "p_b"}
    for c in cells[first_fit:]:
        code = re.sub(r"#.*|(['\"]).*?\1", "", c["text"])  # names in comments and strings do not count
        uses_training = any(re.search(rf"\b{n}\b", code) for n in trained_names)
        if uses_training and PRINTED_NUMBER.search(outputs_text(c)):
            assert IGNORE in c.get("metadata", {}).get("tags", []), c["text"][:200]


def test_softmax_lab_defines_the_cost_with_the_indicator_function():
    cells = lab("02_softmax.ipynb")
    prose = "\n".join(c["text"] for c in cells if c["cell_type"] == "markdown")
    assert r"1\{y^{(i)} = j\}" in prose and "J(" in prose
    code = next(c for c in cells if c["cell_type"] == "code" and "indicator" in c["text"])
    out = outputs_text(code)
    by_hand, keras = re.findall(r"cost J, (?:by hand|Keras):\s+([\d.]+)", out)
    assert by_hand == keras


def test_softmax_lab_explains_evaluated_versus_training_loss():
    cells = lab("02_softmax.ipynb")
    prose = "\n".join(c["text"] for c in cells if c["cell_type"] == "markdown")
    assert "average of its mini-batch losses" in prose
    check = next(c for c in cells if c["cell_type"] == "code" and "learning_rate.assign(0.0)" in c["text"])
    assert IGNORE not in check.get("metadata", {}).get("tags", [])  # nbval compares it: it must hold anywhere
    assert "frozen epoch's loss == evaluated loss: True" in outputs_text(check)
    assert "last epoch's average > evaluated loss: True" in outputs_text(check)


def test_relu_lab_lets_the_student_try_before_the_solution():
    """Run All must not solve the explorer: the solution (with the set_params line) stays in a
    collapsed <details> block, and the committed gap is the one of the start sliders."""
    cells = lab("01_relu.ipynb")
    code = [c for c in cells if c["cell_type"] == "code"]
    assert not [c["text"] for c in code if "set_params" in c["text"]]
    details = [c["text"] for c in cells if c["cell_type"] == "markdown" and "<details>" in c["text"]]
    assert len(details) == 1
    block = details[0]
    assert block.index("<details>") < block.index("set_params(w1=1, b1=-1, v1=1, w2=1, b2=-3, v2=-2)") \
        < block.index("</details>")
    gap_cells = [c for c in code if "max_error()" in c["text"]]
    assert gap_cells
    gaps = [float(g) for c in gap_cells for g in re.findall(r"largest gap to the tent: ([\d.]+)", outputs_text(c))]
    assert gaps and all(g > 0.05 for g in gaps), gaps  # 0.05: where the explorer's title turns green
