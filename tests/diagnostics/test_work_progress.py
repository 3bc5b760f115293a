"""Long work shows a bar when asked (here on a fake terminal) and nothing with progress=False.

(The phase diagram's progress=False is checked where its figure is: the theory takes seconds.)
"""

import io

import numpy as np
import pytest

import tinynet as tn
from diagnostics import experiments

pytest.importorskip("tqdm")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def tiny_probe():
    return experiments.ProbeConfig("tanh", "he_normal", depth=3, width=6, repeats=2)


def tiny_fit(progress):
    rng = np.random.default_rng(0)
    net = tn.MLP([2, 4, 2], "tanh", rng=rng)
    x, y = tn.datasets.blobs(8, 2, rng=rng)
    return tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=1, batch_size=4,
                  rng=rng, progress=progress)


WORK = {
    "sweep": (lambda progress: experiments.sweep([tiny_probe()] * 2, progress=progress), "probing"),
    "repeats": (lambda progress: experiments.synthetic_gradient(tiny_probe(), np.random.default_rng(0),
                                                                progress=progress), "probing"),
    "spectra": (lambda progress: experiments.measure_spectra(tiny_probe(), progress=progress), "spectra"),
    "remedies": (lambda progress: experiments.run_remedies(
        experiments.remedy_configs(3, 6, 1, "float64", (4,))[:2], progress=progress), "remedies"),
    "trainability": (lambda progress: experiments.run_trainability(
        "tanh", [1.0], [1], width=4, seeds=1, recipe=experiments.TrainingRecipe(n_samples=30, epochs=1),
        progress=progress), "training"),
    "fit": (tiny_fit, "epoch 1/1"),
}


@pytest.mark.parametrize("name", WORK)
def test_a_bar_when_asked_and_nothing_with_progress_false(name, monkeypatch, capsys):
    run, desc = WORK[name]
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    run(False)
    assert terminal.getvalue() == "" and capsys.readouterr().out == ""
    run(True)
    assert desc in terminal.getvalue()
