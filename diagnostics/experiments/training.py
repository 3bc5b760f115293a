"""``train``: the probe's verdict on an untrained network, then whether it trains."""

import math
from dataclasses import dataclass

import numpy as np

import tinynet as tn

from .. import theory
from ..blas import one_blas_thread
from ..monitor import TrainingMonitor
from ..probes import gradient_probe
from .gradient import verdict

#: The toy data sets of ``tn.datasets`` and their number of classes.
DATASETS = {"spirals": 3, "moons": 2, "xor": 2, "blobs": 3}


@dataclass
class TrainResult:
    """A network probed untrained, the theory's regime for its hidden layers, then its training.

    ``change`` is the decades by which the gradient norm changes from output
    to input (-inf: it vanished to exactly 0; None: non-finite, see
    ``probe.nonfinite``); ``hidden_gains`` the decades per hidden
    ``width -> width`` layer (None where the gradient was already 0);
    ``regime`` the theory's (None, with ``regime_note``, where it has none).
    ``history`` and ``monitor`` are None until :func:`train` has run.
    """

    net: object
    x: np.ndarray
    y: np.ndarray
    rng: np.random.Generator
    n_classes: int
    probe: object
    change: float
    hidden_gains: list
    regime: object
    regime_note: str
    history: object = None
    monitor: object = None
    clip_grad_norm: float = None

    @property
    def verdict(self):
        """:func:`verdict` of the untrained network's change (``vanishing`` when it fell to 0)."""
        return verdict(self.change)


@one_blas_thread
def probe_before_training(activation, init, dataset="spirals", depth=2, width=64, seed=0, dtype="float64"):
    """Draw a toy data set and an MLP of ``depth`` hidden layers from ``default_rng(seed)``, and probe
    the MLP untrained; ``dtype``: the network's and the data's floating type."""
    act = tn.activation(activation)
    init = tn.init.get(init, "probe_before_training")
    rng = np.random.default_rng(seed)
    x, y = getattr(tn.datasets, dataset)(rng=rng)
    x = x.astype(dtype)
    sizes = [x.shape[1]] + [width] * depth + [DATASETS[dataset]]
    net = tn.MLP(sizes, act, weight_init=init, final_activation=False, rng=rng, dtype=np.dtype(dtype))
    probe = gradient_probe(net)
    change, hidden = None, []
    if probe.finite:
        change = probe.log10_grad_norm - probe.log10_initial_norm
        # backward order: the output layer first, the input layer last; only the square
        # layers between them have the fan-in and the gain the theory's line is about
        with np.errstate(invalid="ignore"):  # -inf - -inf: a gradient that was already 0
            hidden = [None if math.isnan(g) else float(g) for g in probe.per_layer_gain_log10[1:depth]]
    try:
        regime, note = theory.regime(act, theory.sigma_w_from_init(init, fan_in=width)), None
    except (ValueError, TypeError, OverflowError) as e:
        regime, note = None, str(e)  # e.g. an initializer with a non-zero mean
    return TrainResult(net, x, y, rng, DATASETS[dataset], probe, change, hidden, regime, note)


@one_blas_thread
def train(result, epochs=100, batch_size=32, optimizer="sgd", lr=0.01, progress=True, clip_grad_norm=None):
    """Train ``result.net`` with cross-entropy, recording it with a ``TrainingMonitor``; fills ``result``.

    ``clip_grad_norm`` (None: no clipping) is ``fit``'s max gradient norm.
    """
    net = result.net
    opt = (tn.optim.SGD(net.parameters(), lr=lr, momentum=0.9) if optimizer == "sgd"
           else tn.optim.Adam(net.parameters(), lr=lr))
    result.monitor = TrainingMonitor(net, every=10)
    # a diverging run overflows on its way to nan; fit stops there and says where,
    # so numpy's warnings along the way would only repeat it less clearly
    with np.errstate(over="ignore", invalid="ignore"):
        result.history = tn.fit(net, tn.CrossEntropyLoss(), opt, result.x, result.y, epochs=epochs,
                                batch_size=batch_size, rng=result.rng, callbacks=[result.monitor],
                                progress=progress, clip_grad_norm=clip_grad_norm)
    result.clip_grad_norm = clip_grad_norm
    return result
