"""In a real Jupyter kernel: a returned figure shows once, as an image, and a progress bar shows."""

import pathlib
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("tqdm")

ROOT = pathlib.Path(__file__).resolve().parents[2]

CELLS = [
    # a figure returned as the cell's value
    "from diagnostics import plot\n"
    "h = [{'step': i, 'loss': 1.0 / (i + 1), 'grad_norm': 1.0, 'clipped_grad_norm': 1.0,\n"
    "      'weight_grad_norm': [1.0, 2.0], 'activation_std': [1.0, 1.0]} for i in range(5)]\n"
    "plot.training(h)",
    # long work's bar, where stderr is no terminal
    "import tinynet as tn\n"
    "for _ in tn.progress_bar(range(3), desc='counting'):\n"
    "    pass",
]


def test_a_figure_shows_once_and_a_bar_shows_in_a_notebook():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    limit = sys.getrecursionlimit()
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        # running a kernel raises this process's recursion limit (to 3000), which later tests rely on
        sys.setrecursionlimit(limit)
    figure, bar = nb.cells
    images = [o for o in figure.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1  # shown inline, and not again by pyplot when the cell ends
    shown = "".join(o.get("text", "") for o in bar.outputs if o.output_type == "stream")
    assert "counting" in shown
