import pathlib
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinynet as tn


def net():
    rng = np.random.default_rng(0)
    return tn.Sequential(tn.Linear(784, 50, rng=rng), tn.ReLU(),
                         tn.Sequential(tn.Linear(50, 50, bias=False, rng=rng), tn.Tanh()),
                         tn.Linear(50, 10, rng=rng))


def test_summary_lists_each_layer_with_its_output_shape_and_parameters(capsys):
    model = net()
    s = tn.summary(model, (16, 784))
    assert str(s) in capsys.readouterr().out
    leaves = [r for r in s.rows if not r.is_container]
    assert [(r.type, r.output_shape, r.params) for r in leaves] == [
        ("Linear", (16, 50), 784 * 50 + 50), ("ReLU", (16, 50), 0), ("Linear", (16, 50), 2500),
        ("Tanh", (16, 50), 0), ("Linear", (16, 10), 510)]
    assert [(r.depth, r.index) for r in s.rows] == [(0, 0), (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (1, 4)]
    assert s.total_params == model.num_parameters() == 39250 + 2500 + 510
    assert "Total params: 42,260" in str(s) and "├─Linear: 1-1" in str(s) and "│    ├─Tanh: 2-2" in str(s)


def test_frozen_parameters_are_not_trainable_and_the_hooks_are_gone():
    model = net()
    model[0].weight.requires_grad = False
    s = tn.summary(model, (1, 784), verbose=0)
    assert s.trainable_params == s.total_params - 784 * 50
    assert "Non-trainable params: 39,200" in str(s)
    x = np.ones((2, 784))
    calls = []
    model[0].register_forward_hook(lambda layer, x, y: calls.append(1))
    model.forward(x)
    assert calls == [1]  # only the hook registered after the summary


@pytest.mark.parametrize("size, error, message", [
    (784, TypeError, "input_size must be a tuple of sizes including the batch"),
    ((), TypeError, "input_size must be a tuple"),
    ((0, 784), ValueError, "input_size"),
    ((1, 783), ValueError, "Linear(784 -> 50)"),
])
def test_bad_input_sizes_are_named(size, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        tn.summary(net(), size, verbose=0)


def test_summary_keeps_nothing_for_a_backward():
    model = tn.MLP([3, 4, 2], "tanh", rng=np.random.default_rng(0))
    tn.summary(model, (1, 3), verbose=0)
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        model.backward(np.ones((1, 2)))


def test_runs_in_eval_mode_without_side_effects_and_restores_each_mode():
    rng = np.random.default_rng(0)
    model = tn.Sequential(tn.Linear(4, 3, rng=rng), tn.BatchNorm1d(3), tn.Dropout(0.5, rng=rng),
                          tn.Linear(3, 2, rng=rng))
    model[3].eval()
    state = rng.bit_generator.state
    s = tn.summary(model, (1, 4), verbose=0)  # a batch of one: BatchNorm1d in eval mode takes it
    assert rng.bit_generator.state == state  # no dropout mask drawn
    assert [r.output_shape for r in s.rows] == [(1, 2), (1, 3), (1, 3), (1, 3), (1, 2)]
    assert int(model[1].num_batches_tracked) == 0
    assert [m.training for m in model.modules()] == [True, True, True, True, False]


def test_verbose_none_prints_in_a_script_but_not_at_a_prompt(monkeypatch, capsys):
    model = net()
    monkeypatch.delattr(sys, "ps1", raising=False)
    s = tn.summary(model, (1, 784))
    assert capsys.readouterr().out == str(s) + "\n"
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)  # a prompt, IPython or Jupyter: the result shows itself
    s = tn.summary(model, (1, 784))
    assert capsys.readouterr().out == ""
    tn.summary(model, (1, 784), verbose=1)
    assert capsys.readouterr().out == str(s) + "\n"
    with pytest.raises(ValueError, match="verbose must be None, 0 or 1, got 2"):
        tn.summary(model, (1, 784), verbose=2)


def test_the_html_table_has_the_printed_rows_and_totals():
    s = tn.summary(net(), (16, 784), verbose=0)
    root = ET.fromstring(f"<div>{s._repr_html_()}</div>")
    assert [th.text for th in root.iter("th")] == ["Layer (type:depth-idx)", "Output Shape", "Param #"]
    rows = [[td.text for td in tr.iter("td")] for tr in root.find("table/tbody")]
    printed = str(s).splitlines()[3:3 + len(s.rows)]
    assert [" ".join(r).replace("\u00a0", " ").split() for r in rows] == [line.split() for line in printed]
    assert [p.text for p in root.iter("p")] == str(s).splitlines()[-4:-1]


def test_in_jupyter_the_summary_and_a_history_show_once_as_html():
    nbformat = pytest.importorskip("nbformat")
    client = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in [
        "import numpy as np, tinynet as tn\nnet = tn.MLP([3, 4, 2], 'tanh', rng=np.random.default_rng(0))\n"
        "tn.summary(net, (1, 3))",
        "tn.fit(net, tn.MSELoss(), tn.SGD(net.parameters(), lr=0.1), np.ones((4, 3)), np.zeros((4, 2)), epochs=2, batch_size=2, "
        "progress=False, rng=np.random.default_rng(0))"]]
    root = pathlib.Path(__file__).resolve().parents[2]  # the kernel imports this tinynet
    client.NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
    (summary,), (history,) = (cell.outputs for cell in nb.cells)  # no printed copy beside the displayed one
    assert summary.output_type == history.output_type == "execute_result"
    assert "<th" in summary.data["text/html"] and "Total params: 26" in summary.data["text/plain"]
    assert "<th" in history.data["text/html"] and history.data["text/plain"].startswith("History(2 epochs)")
