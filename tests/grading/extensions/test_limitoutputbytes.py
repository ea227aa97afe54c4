"""grading.extensions.limitoutputbytes: LimitOutputBytes cuts long outputs (nbgrader's LimitOutput counts lines only)."""
from __future__ import annotations

import nbformat
from nbconvert.exporters.exporter import ResourcesDict

from grading.extensions.limitoutputbytes import LimitOutputBytes


def test_long_outputs_are_cut_with_a_note_and_short_ones_kept():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('x' * 5000)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 5000),
        nbformat.v4.new_output("stream", name="stdout", text="short\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "y" * 3000, "image/png": "iVBO"}),
        nbformat.v4.new_output("error", ename="ValueError", evalue="z" * 4000, traceback=["t" * 2500, "ok"]),
    ]
    nb.cells.append(cell)
    LimitOutputBytes(max_bytes=1000).preprocess(nb, ResourcesDict())
    big, short, data, err = cell.outputs
    assert big.text.startswith("x" * 1000) and "output cut: 4000 more characters" in big.text
    assert len(big.text) < 1100
    assert short.text == "short\n"
    assert "2000 more characters" in data.data["text/plain"] and data.data["image/png"] == "iVBO"
    assert "3000 more characters" in err.evalue
    assert "1500 more characters" in err.traceback[0] and err.traceback[1] == "ok"
