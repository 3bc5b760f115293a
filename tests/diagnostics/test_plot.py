"""The figures: returned when no path is given, written when one is, and free of the listed defects."""

import io

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

from diagnostics import plot, theory  # noqa: E402
from diagnostics.spectrum import jacobian_spectrum  # noqa: E402
import tinynet as tn  # noqa: E402


def history(loss, before, after, layers=2):
    """A TrainingMonitor-style history of len(loss) records, `layers` layers each."""
    return [{"step": 10 * i, "loss": l, "grad_norm": b, "clipped_grad_norm": a,
             "weight_grad_norm": [0.1 * (k + 1) for k in range(layers)],
             "activation_std": [1.0 + 0.01 * i] * layers} for i, (l, b, a) in enumerate(zip(loss, before, after))]


def legend_texts(fig):
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def ticks_are_whole(axis):
    return all(float(t).is_integer() for t in axis.get_ticklocs())


def test_a_figure_is_returned_without_a_path_and_written_with_one(tmp_path):
    import matplotlib.pyplot as plt

    h = history([1.0, 0.9, 0.8], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    open_before = plt.get_fignums()
    fig = plot.training(h)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == open_before  # not held by pyplot, so Jupyter shows it once
    assert plot.training(h, tmp_path / "t.png") is None
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"


def test_the_training_figure_names_clipping_only_when_something_was_clipped():
    unclipped = legend_texts(plot.training(history([1.0, 0.9], [0.5, 0.6], [0.5, 0.6]), clip_grad_norm=1.0))
    assert not any("clipping" in t for t in unclipped)
    assert any("never clipped" in t for t in unclipped)
    clipped = legend_texts(plot.training(history([1.0, 0.9], [0.5, 3.0], [0.5, 1.0]), clip_grad_norm=1.0))
    assert "before clipping" in clipped and any(t.startswith("after clipping") for t in clipped)


def test_a_loss_spanning_decades_is_drawn_on_a_log_axis_and_one_that_does_not_on_a_linear_one():
    ones = [1.0, 1.0, 1.0]
    assert plot.training(history([2.0, 0.5, 0.01], ones, ones)).axes[0].get_yscale() == "log"
    assert plot.training(history([2.0, 1.5, 1.0], ones, ones)).axes[0].get_yscale() == "linear"


def test_no_axis_uses_offset_notation_and_layer_numbers_are_whole():
    # a loss that moves by 1e-11 around 1: matplotlib's default would label the axis "1e-11+1"
    loss = [1.0, 1.0 + 1e-11, 1.0 + 2e-11]
    fig = plot.training(history(loss, [1.0] * 3, [1.0] * 3, layers=2))
    fig.canvas.draw()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            assert "+" not in axis.get_offset_text().get_text()
    colour_bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert colour_bars and all(ticks_are_whole(ax.yaxis) for ax in colour_bars)


def test_the_histogram_counts_with_whole_ticks():
    rng = np.random.default_rng(0)
    net = tn.MLP([4, 4, 4], "tanh", weight_init="orthogonal", rng=rng)
    fig = plot.spectrum_histogram([jacobian_spectrum(net)])
    fig.canvas.draw()
    assert ticks_are_whole(fig.axes[0].yaxis)


def test_the_phase_diagram_labels_an_infinite_xi_c(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    # tanh without bias below sigma_w^2 = 1: q* = 0, the network is linear, xi_c infinite
    d = theory.phase_diagram("tanh", sigma_w2=(0.5, 2.0), sigma_b2=(0.0, 0.1), points=(4, 2), progress=False)
    assert terminal.getvalue() == ""  # progress=False: no bar, even on a terminal
    assert np.isinf(d.xi_c).any()
    fig = theory.plot_phase_diagram(d)
    assert any("infinite" in t for t in legend_texts(fig))
