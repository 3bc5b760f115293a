"""TrainingMonitor: per-layer gradient norms and activation statistics during ``tinynet.fit``.

A ``fit`` callback. It attaches the same recorders as a probe does, through
the network's hooks, and switches them on for one step in every ``every``,
so watching costs little. After training, ``history`` holds one entry per
recorded step, and ``plot(path)`` draws how each layer evolved.
"""

import numpy as np

from .plot import training
from .recorders import ActivationStatsRecorder, GradientNormRecorder
from .table import Table


class TrainingMonitor:
    """Record every ``every``-th training step of ``net``: gradient norms and activation stats.

    ``history`` is a list of dicts, one per recorded step: ``step``,
    ``loss``, and per-layer lists (in forward order) ``weight_grad_norm``
    (the norm of each Linear's weight gradient), ``grad_input_norm`` (the
    gradient leaving each layer with parameters), ``activation_std`` and
    ``dead`` (each activation's output std and dead-unit fraction).
    ``layers`` names the layers with parameters, ``activations`` the
    activation layers. Pass it in ``fit(..., callbacks=[monitor])``; it
    detaches itself when training ends.
    """

    def __init__(self, net, every=10):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"TrainingMonitor: every must be a positive integer, got {every!r}")
        self.every = every
        self.grads = GradientNormRecorder(net)
        self.stats = ActivationStatsRecorder(net)
        self.history = []
        self.layers = []
        self.activations = []
        self._arm(1)

    def _arm(self, next_step):
        on = next_step % self.every == 0 or next_step == 1
        self.grads.enabled = self.stats.enabled = on

    def on_batch_end(self, step, loss):
        """After training step ``step`` (from 1): keep its records if it was recorded."""
        if self.grads.enabled and self.grads.tables and self.stats.tables:
            grads, stats = self.grads.tables[-1], self.stats.tables[-1]
            with_params = [r for r in reversed(grads.rows) if r.get("weight.grad") is not None]
            acts = [r for r in stats.rows if r.get("dead") is not None]
            self.layers = [r["layer"] for r in with_params]
            self.activations = [r["layer"] for r in acts]
            self.history.append({
                "step": step, "loss": float(loss),
                "weight_grad_norm": [r["weight.grad"] for r in with_params],
                "grad_input_norm": [r["grad_input"] for r in with_params],
                "activation_std": [r["std"] for r in acts],
                "dead": [r["dead"] for r in acts],
            })
        self.grads.clear()
        self.stats.clear()
        self._arm(step + 1)

    def on_train_end(self, history):
        """Detach the hooks: the network is left as it was."""
        self.remove()

    def remove(self):
        """Detach every hook this monitor attached."""
        self.grads.remove()
        self.stats.remove()

    def table(self):
        """One row per recorded step: loss, and the first and last layer's weight-gradient norm."""
        table = Table(["step", "loss", "first layer |dW|", "last layer |dW|", "mean dead"],
                      formats={"loss": ".4g", "first layer |dW|": ".3e", "last layer |dW|": ".3e",
                               "mean dead": ".2f"}, title="TrainingMonitor")
        for h in self.history:
            table.append({"step": h["step"], "loss": h["loss"],
                          "first layer |dW|": h["weight_grad_norm"][0] if h["weight_grad_norm"] else None,
                          "last layer |dW|": h["weight_grad_norm"][-1] if h["weight_grad_norm"] else None,
                          "mean dead": float(np.mean(h["dead"])) if h["dead"] else None})
        return table

    def __str__(self):
        return str(self.table())

    def plot(self, path, title=None, chance_loss=None):
        """Write a figure: loss, per-layer weight-gradient norm and activation std over training.

        Norms and stds are drawn as log10 (an exact zero at -300), since
        across a deep network they span many decades; the layers are told
        apart by colour, with a colour bar. ``chance_loss``, if given, is
        drawn as the loss of a uniform guess.
        """
        training(self.history, path, title=title, chance_loss=chance_loss)
