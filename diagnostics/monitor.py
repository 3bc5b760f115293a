"""TrainingMonitor: per-layer gradient norms and activation statistics during ``tinynet.fit``.

A ``fit`` callback. It attaches the same recorders as a probe does, through
the network's hooks, and switches them on for one step in every ``every``,
so watching costs little. After training, ``history`` holds one entry per
recorded step, and ``plot(path)`` draws how each layer evolved.

The whole gradient's norm is measured twice in a recorded step, from the
parameters' ``.grad``: by a backward hook on the network itself, which runs
when the whole backward has returned, before any clipping; and at
``on_batch_end``, after the optimizer's step, which reads the gradients
and never writes them, so they are still the (clipped) ones it stepped with.
Neither needs to know whether or how the loop clips.
"""

import math

import numpy as np

from .numerics import frobenius_norm
from .plot import training
from .recorders import ActivationStatsRecorder, GradientNormRecorder
from .table import Table


class TrainingMonitor:
    """Record every ``every``-th training step of ``net``: gradient norms and activation stats.

    ``history`` is a list of dicts, one per recorded step: ``step``,
    ``loss``, ``grad_norm`` and ``clipped_grad_norm`` (the norm of all
    parameter gradients as one vector, before clipping and as the optimizer
    stepped with it: the same number when nothing clips), and per-layer
    lists (in forward order) ``weight_grad_norm``
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
        self.net = net
        self._grad_norm = None  # measured when a recorded step's backward returned
        self._norm_hook = net.register_backward_hook(self._after_backward)
        self._arm(1)

    def _arm(self, next_step):
        on = next_step % self.every == 0 or next_step == 1
        self.grads.enabled = self.stats.enabled = on
        self._grad_norm = None

    def _after_backward(self, net, dx, dy):
        if self.grads.enabled:
            self._grad_norm = _total_grad_norm(self.net)

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
                "grad_norm": self._grad_norm, "clipped_grad_norm": _total_grad_norm(self.net),
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
        self._norm_hook.remove()

    def table(self):
        """One row per recorded step: loss, the gradient's norm before and after clipping, and the
        first and last layer's weight-gradient norm."""
        columns = ["step", "loss", "|grad| before clip", "after clip", "first layer |dW|", "last layer |dW|",
                   "mean dead"]
        formats = {c: ".3e" for c in columns[2:6]}
        table = Table(columns, formats={**formats, "loss": ".4g", "mean dead": ".2f"}, title="TrainingMonitor")
        for h in self.history:
            table.append({"step": h["step"], "loss": h["loss"],
                          "|grad| before clip": h["grad_norm"], "after clip": h["clipped_grad_norm"],
                          "first layer |dW|": h["weight_grad_norm"][0] if h["weight_grad_norm"] else None,
                          "last layer |dW|": h["weight_grad_norm"][-1] if h["weight_grad_norm"] else None,
                          "mean dead": float(np.mean(h["dead"])) if h["dead"] else None})
        return table

    def __str__(self):
        return str(self.table())

    def plot(self, path=None, title=None, chance_loss=None, clip_grad_norm=None):
        """Draw loss, the whole gradient's norm, per-layer weight-gradient norm and activation std
        over training: the matplotlib Figure when ``path`` is None, else written to ``path``.

        Norms and stds are drawn as log10 (an exact zero at -300), since
        across a deep network they span many decades; the layers are told
        apart by colour, with a colour bar. ``chance_loss``, if given, is
        drawn as the loss of a uniform guess; ``clip_grad_norm``, the max
        norm the training clipped to, as the line the clipped norm should
        not cross.
        """
        return training(self.history, path, title=title, chance_loss=chance_loss, clip_grad_norm=clip_grad_norm)


def _total_grad_norm(net):
    """The norm of all of ``net``'s parameter gradients as one vector (None ones skipped), as
    ``tinynet.clip_grad_norm_`` measures it."""
    return math.hypot(*(frobenius_norm(p.grad) for p in net.parameters() if p.grad is not None))
