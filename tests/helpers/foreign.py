"""Foreign and damaged submissions of the graded lab, each written the way the real tool writes it.

Every case starts from the committed release with known answers and ends as the bytes of a
submitted ``.ipynb``; its *clean twin* is the release with the same answers and nothing else
changed (what the student meant to hand in). A repair that works grades the case as its twin;
the unrecoverable ones are flagged for manual grading instead.

    from helpers.foreign import CASES, twin
    data = CASES["colab"].build()      # bytes, as Colab's "Download .ipynb" writes them
    clean = twin(CASES["colab"])       # nbformat notebook: the release with the same answers

How the tools write (looked up in their sources, see each writer): Colab downloads nbformat 4.0
(no cell ``id``), its own 12-character ``metadata.id`` per cell, ``colab``/``outputId`` metadata on
executed cells, notebook metadata ``colab``/``kernelspec``/``language_info`` only, 2-space indent,
keys in its own order, and no nbgrader metadata (Colab keeps no custom cell metadata). VS Code's
ipynb serializer keeps the metadata it read, gives new cells an 8-hex-digit id, sorts every key,
keeps the file's indent (1) and ends with a newline; it enforces no ``editable``/``deletable``, so
locked cells can be edited and deleted there. Jupyter Notebook 7 and JupyterLab 4 save through
nbformat's writer (sorted keys, indent 1, nbformat 4.5, uuid4 cell ids); their clipboard drops
``deletable`` and the id of a copied cell; Split Cell copies the whole metadata into each piece,
keeps the original cell (and id) for the last piece and trims only newlines at the cut.
Notebooks written with nbformat before 5.1 (Jupyter Notebook 6 and older) are nbformat 4.4
without cell ids; IPython 2 wrote nbformat 3 (cells in ``worksheets``, code in ``input``), which
nbformat still upgrades.
"""
from __future__ import annotations

import copy
import json
import random
import uuid
import zlib
from dataclasses import dataclass
from typing import Callable

import nbformat

from helpers.notebooks import grade_id
from helpers.submissions import MODEL_REFERENCE, SOFTMAX_REFERENCE, SOFTMAX_WRONG, read_release

#: answers of the cases (grade_id -> the graded cell's source); the rest keep the release stub
ANSWERS: dict[str, dict[str, str]] = {
    "reference": {"my_softmax": SOFTMAX_REFERENCE, "my_model": MODEL_REFERENCE},
    "softmax_only": {"my_softmax": SOFTMAX_REFERENCE},  # Exercise 2 not done: no training, fast
    "blank": {},  # nothing answered (or nothing known of the answers)
}
#: what the clean twin of each answer set scores (out of 20), per test cell
TWIN_SCORES = {"reference": {"test_my_softmax": 10.0, "test_model": 10.0},
               "softmax_only": {"test_my_softmax": 10.0, "test_model": 0.0},
               "blank": {"test_my_softmax": 0.0, "test_model": 0.0}}


@dataclass(frozen=True)
class Case:
    """One submission: how it was made, its answers, and what the repair must say."""

    name: str
    story: str  # what the student did, with which tool
    answers: str  # key of ANSWERS: the twin is the release with these answers
    build: Callable[[], bytes]
    status: str  # the repair's status: ok, repaired, incomplete, unreadable
    missing: tuple[str, ...] = ()  # graded cells the repair cannot find
    note: str = ""  # a fragment the repair's note must contain

    @property
    def flagged(self) -> bool:
        """Whether graders must look at it by hand (a graded cell was not found)."""
        return self.status in ("incomplete", "unreadable")


def student_of(case: Case) -> str:
    """The student id of a case in a batch (the plain path's, the sandboxed lab batch)."""
    return f"c_{case.name}"


def filled(answers: dict[str, str]) -> nbformat.NotebookNode:
    """The release with ``answers`` put into its graded cells."""
    nb = copy.deepcopy(read_release())
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return nb


def twin(case: Case) -> nbformat.NotebookNode:
    """The clean twin of ``case``: the release with the same answers."""
    return filled(ANSWERS[case.answers])


# ---- the writers ---------------------------------------------------------------------------

def _lines(source: str) -> list[str]:
    return source.splitlines(keepends=True)


def rng_for(name: str) -> random.Random:
    """A random source of its own for each case, so every build gives the same bytes."""
    return random.Random(f"foreign-{name}")


def jupyter_bytes(nb: dict) -> bytes:
    """As Jupyter Notebook 7, JupyterLab 4 and the classic notebook save (nbformat's writer)."""
    return (nbformat.writes(nbformat.from_dict(nb)) + "\n").encode()


def vscode_bytes(nb: dict) -> bytes:
    """As VS Code's ipynb serializer saves: keys sorted recursively, indent kept (1), newline."""
    doc = copy.deepcopy(nb)
    for cell in doc["cells"]:
        cell["source"] = _lines(cell["source"]) if isinstance(cell["source"], str) else cell["source"]
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _colab_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(12))


def colab_bytes(nb: dict, rng: random.Random) -> bytes:
    """As Colab's File > Download > .ipynb writes: nbformat 4.0, Colab's own ids, no nbgrader."""
    cells = []
    for cell in nb["cells"]:
        out = {"cell_type": cell["cell_type"], "source": _lines(cell["source"]),
               "metadata": {"id": _colab_id(rng)}}
        if cell["cell_type"] == "code":
            outputs = copy.deepcopy(cell.get("outputs", []))
            if outputs:
                out["metadata"].update(colab={"base_uri": "https://localhost:8080/"},
                                       outputId=str(uuid.UUID(int=rng.getrandbits(128), version=4)))
            out.update(execution_count=cell.get("execution_count"), outputs=outputs)
        cells.append(out)
    doc = {"nbformat": 4, "nbformat_minor": 0,
           "metadata": {"colab": {"provenance": []},
                        "kernelspec": {"name": "python3", "display_name": "Python 3"},
                        "language_info": {"name": "python"}},
           "cells": cells}
    return json.dumps(doc, indent=2, ensure_ascii=False).encode()


def _as_dict(nb: nbformat.NotebookNode) -> dict:
    return json.loads(json.dumps(nb))


def _kernel_metadata(nb: dict, display: str = "Python 3 (ipykernel)", version: str = "3.11.2") -> None:
    nb["metadata"]["kernelspec"]["display_name"] = display
    nb["metadata"]["language_info"]["version"] = version


def _index(nb: dict, gid: str) -> int:
    return next(i for i, c in enumerate(nb["cells"])
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == gid)


def _new_cell(kind: str, source: str, cell_id: str | None) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if cell_id:
        cell["id"] = cell_id
    return cell


def _ran(nb: dict, gid: str, text: str, count: int) -> None:
    """Give cell ``gid`` the stdout a run printed (what an executed notebook holds)."""
    cell = nb["cells"][_index(nb, gid)]
    cell.update(execution_count=count, outputs=[{"name": "stdout", "output_type": "stream", "text": text}])


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---- the cases ------------------------------------------------------------------------------

def _colab() -> bytes:
    nb = _as_dict(filled(ANSWERS["reference"]))
    _ran(nb, "view_vars", "The shape of X is: (5000, 400)\nThe shape of y is: (5000, 1)\n", 7)
    return colab_bytes(nb, rng_for("colab"))


def _vscode() -> bytes:
    nb = _as_dict(filled(ANSWERS["reference"]))
    _kernel_metadata(nb, ".venv (3.11.2)")
    fit = nb["cells"][_index(nb, "compile_fit")]  # locked, but VS Code lets it be edited
    fit["source"] = fit["source"].replace("epochs=40", "epochs=5")
    at = _index(nb, "my_model") + 1
    nb["cells"].insert(at, _new_cell("code", "print(model.count_params())", _uuid(rng_for("vs"))[:8]))
    return vscode_bytes(nb)


def _notebook7_copy() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    _kernel_metadata(nb)
    pasted = copy.deepcopy(nb["cells"][_index(nb, "my_softmax")])  # Ctrl+C, then Ctrl+V at the end
    pasted["metadata"].pop("deletable", None)
    pasted["id"] = _uuid(rng_for("nb7"))
    pasted["source"] = SOFTMAX_WRONG  # the copy, edited to try something else
    nb["cells"].append(pasted)
    return jupyter_bytes(nb)


def _adjacent_copy() -> bytes:
    nb = _as_dict(filled({}))  # the original cell keeps the stub...
    at = _index(nb, "my_softmax")
    pasted = copy.deepcopy(nb["cells"][at])
    pasted["metadata"].pop("deletable", None)
    pasted["id"] = _uuid(rng_for("adjacent"))
    pasted["source"] = SOFTMAX_REFERENCE  # ...the copy pasted right below it holds the answer
    nb["cells"].insert(at + 1, pasted)
    return jupyter_bytes(nb)


def _split() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    at = _index(nb, "my_softmax")
    original = nb["cells"][at]
    source = original["source"]
    cut = source.index("return a")  # the cursor put before `return`, after its indentation
    first = {"cell_type": "code", "metadata": copy.deepcopy(original["metadata"]),
             "source": source[:cut].strip("\n"), "execution_count": None, "outputs": [],
             "id": _uuid(rng_for("split"))}
    original["source"] = source[cut:].strip("\n")
    nb["cells"].insert(at, first)
    return jupyter_bytes(nb)


def _nbformat44() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    nb["nbformat_minor"] = 4
    _kernel_metadata(nb, "Python 3", "3.8.10")
    for cell in nb["cells"]:
        cell.pop("id", None)
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _stripped_44() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    nb["nbformat_minor"] = 4
    for cell in nb["cells"]:
        cell.pop("id", None)
        cell["metadata"] = {}
    del nb["cells"][_index_by_source(nb, "print(f\"The shape of X")]
    nb["cells"].insert(3, _new_cell("markdown", "My notes: ReLU is max(0, z).", None))
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _index_by_source(nb: dict, start: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if "".join(c["source"]).startswith(start))


def _metadata_cleared() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    for cell in nb["cells"]:  # nbconvert's ClearMetadataPreprocessor: code cells only
        if cell["cell_type"] == "code":
            cell["metadata"] = {}
    nb["metadata"] = {"language_info": {"name": "python"}}
    return jupyter_bytes(nb)


def _locked_deleted() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    for gid in ("packages", "view_vars", "visualize_md", "random_digits"):
        del nb["cells"][_index(nb, gid)]
    return vscode_bytes(nb)


def _locked_retyped() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    cell = nb["cells"][_index(nb, "packages")]  # code cell turned into markdown (M key)
    cell["cell_type"] = "markdown"
    cell.pop("outputs")
    cell.pop("execution_count")
    return vscode_bytes(nb)


def _locked_edited() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    test = nb["cells"][_index(nb, "test_my_softmax")]
    test["source"] = "# test_my_softmax(my_softmax)  # too slow, skipped"
    pkg = nb["cells"][_index(nb, "packages")]
    pkg["source"] = pkg["source"].replace("from public_tests import *", "# from public_tests import *")
    return vscode_bytes(nb)


def _extra_cells() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    rng = rng_for("extra")
    nb["cells"].insert(0, _new_cell("markdown", "Lab notes - Ada", _uuid(rng)))
    at = _index(nb, "my_softmax") + 1
    nb["cells"].insert(at, _new_cell("code", "my_softmax(np.array([1.0, 2.0]))", _uuid(rng)))
    nb["cells"].append(_new_cell("code", "def my_softmax(z):\n    return z / z.sum()  # trying another idea",
                                 _uuid(rng)))
    return jupyter_bytes(nb)


def _test_deleted() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    del nb["cells"][_index(nb, "test_my_softmax")]
    return vscode_bytes(nb)


def _crlf() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    for cell in nb["cells"]:
        cell["source"] = cell["source"].replace("\n", "\r\n")
    return jupyter_bytes(nb).replace(b"\n", b"\r\n")


def _strings() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))  # sources as one string each (not lists)
    return (json.dumps(nb, indent=1, sort_keys=True) + "\n").encode()


def _graded_gone() -> bytes:
    nb = _as_dict(filled(ANSWERS["softmax_only"]))
    del nb["cells"][_index(nb, "my_model")]  # deleted in VS Code, which ignores `deletable`
    return vscode_bytes(nb)


def _invalid_json() -> bytes:
    data = jupyter_bytes(_as_dict(filled(ANSWERS["reference"])))
    return data[: len(data) * 3 // 5]  # the upload stopped part way


def _nbformat3() -> bytes:
    nb = filled(ANSWERS["softmax_only"])
    return nbformat.writes(nbformat.convert(nb, 3), version=3).encode()


def _zero_cells() -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(read_release().metadata)
    return jupyter_bytes(_as_dict(nb))


def _binary() -> bytes:
    rng = rng_for("binary")
    body = zlib.compress(bytes(rng.getrandbits(8) for _ in range(3000)))
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + body  # a screenshot renamed .ipynb


_CASES = [
    Case("colab", "opened and saved in Google Colab, then downloaded", "reference", _colab,
         "repaired", note="nbgrader metadata missing"),
    Case("vscode", "VS Code: a locked cell edited (epochs=5), a cell added", "reference", _vscode,
         "repaired", note="1 locked cell restored"),
    Case("notebook7_copy", "Notebook 7: the softmax cell copied to the end and edited there",
         "softmax_only", _notebook7_copy, "repaired", note="in 2 copies"),
    Case("adjacent_copy", "JupyterLab: the softmax cell pasted below itself, answered in the copy",
         "softmax_only", _adjacent_copy, "repaired", note="in 2 copies"),
    Case("split", "JupyterLab: Split Cell (Ctrl+Shift+-) before `return a`", "softmax_only", _split,
         "repaired", note="split in 2 cells"),
    Case("nbformat44", "saved by Jupyter Notebook 6 (nbformat 4.4, no cell ids)", "softmax_only",
         _nbformat44, "ok"),
    Case("stripped_44", "nbformat 4.4, no ids, no metadata; a cell deleted, one added", "softmax_only",
         _stripped_44, "repaired", note="nbgrader metadata missing"),
    Case("metadata_cleared", "code cells' metadata cleared (nbconvert's ClearMetadataPreprocessor)",
         "softmax_only", _metadata_cleared, "repaired", note="found by their cell ids"),
    Case("locked_deleted", "VS Code: the imports cell and three others deleted", "softmax_only",
         _locked_deleted, "repaired", note="4 locked cells restored"),
    Case("locked_retyped", "VS Code: the imports cell turned into markdown", "softmax_only",
         _locked_retyped, "repaired", note="1 locked cell restored"),
    Case("locked_edited", "VS Code: the public test and the imports edited", "softmax_only",
         _locked_edited, "repaired", note="2 locked cells restored"),
    Case("extra_cells", "cells added at the top, after the graded cell and at the end", "softmax_only",
         _extra_cells, "repaired", note="3 extra cells not graded"),
    Case("test_deleted", "VS Code: the public test cell of Exercise 1 deleted", "softmax_only",
         _test_deleted, "repaired", note="1 locked cell restored"),
    Case("crlf", "Windows line endings in every source and in the file", "softmax_only", _crlf,
         "repaired", note="Windows line endings"),
    Case("strings", "sources written as single strings, not lists of lines", "softmax_only",
         _strings, "ok"),
    Case("graded_gone", "VS Code: the model's graded cell deleted", "softmax_only", _graded_gone,
         "incomplete", missing=("my_model",), note="my_model not found"),
    Case("invalid_json", "the upload stopped part way: invalid JSON", "reference", _invalid_json,
         "unreadable", missing=("my_softmax", "my_model"), note="invalid JSON"),
    Case("nbformat3", "saved as nbformat 3 (IPython 2): upgraded as nbformat does", "softmax_only",
         _nbformat3, "repaired", note="nbformat 3 notebook upgraded"),
    Case("zero_cells", "a notebook with no cells", "blank", _zero_cells, "unreadable",
         missing=("my_softmax", "my_model"), note="no cells"),
    Case("binary", "a PNG screenshot renamed .ipynb", "blank", _binary, "unreadable",
         missing=("my_softmax", "my_model"), note="binary file"),
]
CASES: dict[str, Case] = {case.name: case for case in _CASES}


def expected_scores(case: Case) -> dict[str, float]:
    """What the case must score per test cell: its twin's, less the exercises not found."""
    scores = dict(TWIN_SCORES[case.answers])
    tests = {"my_softmax": "test_my_softmax", "my_model": "test_model"}
    for gid in case.missing:
        scores[tests[gid]] = 0.0
    return scores
