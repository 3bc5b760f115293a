"""Recorders: attach to any tinynet network through its hooks and record per-layer numbers.

Each recorder hooks every leaf layer when made, and every block that is
more than its layers in a row (a ``Residual``, recorded after its layers,
its gradient the skip's plus the branch's); it detaches with ``remove()``
(or on leaving a ``with`` block), and gives its results as a :class:`Table`.
A *pass* starts with each forward of the whole network, so the tables of
one training step stay together.
"""

import numpy as np

import tinynet as tn

from .numerics import frobenius_norm
from .table import Table

#: A saturating activation's unit counts as saturated where its slope is below
#: this fraction of its slope at 0 (sigmoid: |z| > 6; tanh: |z| > 3).
SATURATION_THRESHOLD = 0.01


class Recorder:
    """Base: names the layers, holds the hook handles, splits records into passes.

    ``enabled`` says whether the hooks are attached. Setting it to False
    detaches them, so a paused recorder costs the network nothing (a
    training monitor records only every N steps); True attaches them again.
    """

    columns = ()
    formats = {}

    def __init__(self, net):
        if not isinstance(net, tn.Layer):
            raise TypeError(f"{type(self).__name__}: expected a tinynet Layer, got {type(net).__name__}")
        self.net = net
        self.names = {id(m): (name or type(m).__name__) for name, m in net.named_modules()}
        self.tables = []
        self._open = False
        self._handles = None
        self.enabled = True

    @property
    def enabled(self):
        """True while the hooks are attached and recording."""
        return self._handles is not None

    @enabled.setter
    def enabled(self, on):
        if on and self._handles is None:
            handles = [self.net.register_forward_hook(self._start_pass)]
            forward, backward = self._forward_hook(), self._backward_hook()
            hooks = tn.register_hooks(self.net, forward=forward, backward=backward)
            # a block that is more than its layers in a row (a Residual: skip plus branch) is
            # recorded as a whole too, after its layers
            for m in self.net.modules():
                if m.is_container and not isinstance(m, tn.Sequential) and m is not self.net:
                    if forward is not None:
                        handles.append(m.register_forward_hook(forward))
                    if backward is not None:
                        handles.append(m.register_backward_hook(backward))
            self._handles = tn.HandleGroup(handles + hooks.handles)
            self._open = False
        elif not on and self._handles is not None:
            self._handles.remove()
            self._handles = None

    def _forward_hook(self):
        return None

    def _backward_hook(self):
        return None

    def _start_pass(self, layer, x, y):
        # the root's own forward hook runs after its children's, so a pass is
        # opened lazily by the first record and closed here
        self._open = False

    def _current(self):
        if not self.tables or not self._open:
            self.tables.append(Table(self.columns, formats=self.formats, title=type(self).__name__))
            self._open = True
        return self.tables[-1]

    @property
    def table(self):
        """The records of the latest pass (an empty table before any)."""
        return self.tables[-1] if self.tables else Table(self.columns, formats=self.formats)

    def clear(self):
        """Forget every record."""
        self.tables = []

    def remove(self):
        """Detach every hook this recorder attached (the same as ``enabled = False``)."""
        self.enabled = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __str__(self):
        return str(self.table)


class GradientNormRecorder(Recorder):
    """Per layer, per backward pass: the norm of the gradient arriving at the output
    (``grad_output``), leaving at the input (``grad_input``), and of each
    parameter's accumulated ``.grad`` (``weight.grad``, ``bias.grad``).

    Norms are Frobenius norms over the whole batch.
    """

    columns = ("layer", "type", "grad_output", "grad_input", "weight.grad", "bias.grad")
    formats = {c: ".3e" for c in columns[2:]}

    def _backward_hook(self):
        def hook(layer, dx, dy):
            row = {"layer": self.names[id(layer)], "type": type(layer).__name__,
                   "grad_output": frobenius_norm(dy), "grad_input": frobenius_norm(dx)}
            for name, p in layer.named_parameters():
                row[f"{name}.grad"] = None if p.grad is None or not p.requires_grad else frobenius_norm(p.grad)
            self._current().append(row)
        return hook


class ActivationStatsRecorder(Recorder):
    """Per layer, per forward pass: statistics of the layer's output.

    ``mean``, ``std``, ``max_abs``; for activations also ``dead`` (the
    fraction of units that are zero for every example of the batch: dead
    ReLUs) and, for saturating ones (``Activation.saturating``),
    ``saturated`` (the fraction of entries in the flat tails, where the
    slope is below ``SATURATION_THRESHOLD`` times the slope at 0).
    """

    columns = ("layer", "type", "mean", "std", "max_abs", "dead", "saturated")
    formats = {"mean": ".3g", "std": ".3g", "max_abs": ".3g", "dead": ".2f", "saturated": ".2f"}

    def _forward_hook(self):
        def hook(layer, x, y):
            y64 = y.astype(np.float64, copy=False)
            row = {"layer": self.names[id(layer)], "type": type(layer).__name__,
                   "mean": float(y64.mean()), "std": float(y64.std()),
                   "max_abs": float(np.abs(y64).max(initial=0.0))}
            if isinstance(layer, tn.Activation):
                row["dead"] = float(np.all(y == 0, axis=0).mean())
                if layer.saturating:
                    peak = layer.derivative(np.zeros(1, dtype=x.dtype))[0]
                    row["saturated"] = float(np.mean(layer.derivative(x) < SATURATION_THRESHOLD * peak))
            self._current().append(row)
        return hook


class NonFiniteDetector(Recorder):
    """Names the first layer, and the pass, where a nan or inf appeared.

    ``first`` is None while every value is finite, else a dict with
    ``layer``, ``type``, ``pass`` (``"forward"`` or ``"backward"``) and
    ``input_finite`` (False when the layer was handed non-finite values
    already, i.e. they came from outside the network).
    """

    columns = ("layer", "type", "pass", "input_finite")

    def __init__(self, net):
        self.first = None
        super().__init__(net)

    def _start_pass(self, layer, x, y):
        pass

    def _note(self, layer, where, inp, out):
        if self.first is None and not np.all(np.isfinite(out)):
            self.first = {"layer": self.names[id(layer)], "type": type(layer).__name__,
                          "pass": where, "input_finite": bool(np.all(np.isfinite(inp)))}
            self.tables = [Table(self.columns, [self.first], title="first non-finite value")]

    def _forward_hook(self):
        return lambda layer, x, y: self._note(layer, "forward", x, y)

    def _backward_hook(self):
        return lambda layer, dx, dy: self._note(layer, "backward", dy, dx)

    def reset(self):
        """Forget what was found, to watch again."""
        self.first = None
        self.tables = []

    def describe_nonfinite(self):
        """One sentence on where the first nan or inf appeared (or that none did)."""
        f = self.first
        if f is None:
            return "no nan or inf seen in any layer"
        made = "appeared in" if f["input_finite"] else "reached (its input was already non-finite)"
        side = "output" if f["pass"] == "forward" else "input gradient"
        return f"the first nan/inf {made} the {f['pass']} {side} of layer {f['layer']} ({f['type']})"

    def __str__(self):
        return self.describe_nonfinite()
