"""``summary(net, input_size)``: each layer, its output shape and parameter count, as torchinfo prints them."""

import sys
from dataclasses import dataclass

import numpy as np

from ._html import html_table
from .checks import check_size
from .grad_mode import evaluating
from .layer import Layer


@dataclass(frozen=True)
class SummaryRow:
    """One layer of a :class:`ModelSummary`: ``depth`` 0 is the network itself."""

    name: str
    type: str
    depth: int
    index: int
    output_shape: tuple
    params: int  # the layer's own parameters (a container's are its children's)
    is_container: bool


class ModelSummary:
    """What :func:`summary` found; ``str()`` is the table, ``total_params`` and ``trainable_params`` the totals."""

    def __init__(self, rows, total_params, trainable_params):
        self.rows = rows
        self.total_params = total_params
        self.trainable_params = trainable_params

    HEADER = ("Layer (type:depth-idx)", "Output Shape", "Param #")

    def _cells(self):
        """Each row's three cells, as printed."""
        return [(self._label(r), str(list(r.output_shape)), "--" if r.is_container or not r.params else f"{r.params:,}")
                for r in self.rows]

    def _totals(self):
        return [f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}"]

    def __str__(self):
        width = max([len(self.HEADER[0])] + [len(self._label(r)) for r in self.rows]) + 3
        rule = "=" * (width + 26 + 10)
        lines = [rule, f"{self.HEADER[0]:<{width}}{self.HEADER[1]:<26}{self.HEADER[2]}", rule]
        lines += [f"{label:<{width}}{shape:<26}{params}" for label, shape, params in self._cells()]
        return "\n".join(lines + [rule, *self._totals(), rule])

    def _repr_html_(self):
        """The table ``str()`` prints, in HTML (Jupyter shows it), the totals under it."""
        # the tree's indentation is spaces, which HTML would collapse
        rows = [[label.replace(" ", "\u00a0"), shape, params] for label, shape, params in self._cells()]
        return html_table(self.HEADER, rows, notes=self._totals())

    @staticmethod
    def _label(r):
        if r.depth == 0:
            return r.type
        return "│    " * (r.depth - 1) + f"├─{r.type}: {r.depth}-{r.index}"

    __repr__ = __str__


def summary(net, input_size, verbose=None):
    """Run ``net`` forward on zeros of shape ``input_size`` and return a :class:`ModelSummary`, printing it in a script.

    ``input_size`` includes the batch dimension, as in torchinfo:
    ``summary(net, (1, 784))`` for a ``Linear(784 -> ...)`` first layer.
    Output shapes come from forward hooks on every layer; the hooks are
    removed after, and no gradient is computed. The forward runs in eval
    mode, as torchinfo's does by default, so a batch of one passes
    BatchNorm1d and no running statistics change; each layer's mode is
    restored after. ``verbose=1`` prints the table, ``verbose=0`` does not;
    None, as in torchinfo, prints except in an interactive session (a Python
    prompt, IPython, Jupyter), where the returned summary shows itself, once.
    """
    if not isinstance(net, Layer):
        raise TypeError(f"summary: net must be a tinynet Layer, got {type(net).__name__}")
    if isinstance(input_size, (int, np.integer)) or not isinstance(input_size, (tuple, list)) or not input_size:
        raise TypeError(f"summary: input_size must be a tuple of sizes including the batch, e.g. (1, 784); "
                        f"got {input_size!r}")
    shape = tuple(check_size("summary", "input_size", s) for s in input_size)
    if not (verbose is None or (isinstance(verbose, (int, np.integer)) and verbose in (0, 1))):
        raise ValueError(f"summary: verbose must be None, 0 or 1, got {verbose!r}")
    if verbose is None:
        verbose = 0 if getattr(sys, "ps1", None) else 1
    params = list(net.parameters())
    dtype = params[0].data.dtype if params else np.float64
    shapes = {}

    def record(layer, x, y):
        shapes[id(layer)] = tuple(y.shape)

    handles = [m.register_forward_hook(record) for m in net.modules()]
    # in eval mode, as torchinfo runs by default: no running statistics move, no mask is drawn,
    # nothing is kept for a backward, and no layer's own mode changes
    try:
        with evaluating():
            net.forward(np.zeros(shape, dtype=dtype))
    finally:
        for h in handles:
            h.remove()
    rows, counters = [], {}
    for name, m in net.named_modules():
        depth = 0 if name == "" else name.count(".") + 1
        parent = name.rpartition(".")[0]
        counters[parent] = counters.get(parent, 0) + (depth > 0)
        own = sum(p.size for p in m.parameters(recurse=False))
        rows.append(SummaryRow(name, type(m).__name__, depth, counters[parent], shapes.get(id(m), ()), own,
                               m.is_container))
    result = ModelSummary(rows, sum(p.size for p in params), sum(p.size for p in params if p.requires_grad))
    if verbose:
        print(result)
    return result
