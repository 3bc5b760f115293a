"""Parameter: a trainable array and the gradient accumulated for it."""

import numpy as np


class Parameter:
    """A tensor a layer learns: ``data`` and the ``grad`` accumulated for it.

    ``grad`` has the shape and dtype of ``data``. Backward passes add into it,
    as in PyTorch, until ``zero_grad()`` clears it. With ``requires_grad``
    False, layers skip computing it (a probe that only wants the input
    gradient saves the work).
    """

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data, requires_grad=True):
        data = np.asarray(data)
        if data.dtype.kind != "f":
            raise TypeError(f"Parameter: expected a floating-point array, got dtype {data.dtype}")
        self.data = data
        self.grad = np.zeros_like(data)
        self.requires_grad = bool(requires_grad)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        """Set the accumulated gradient to zero, in place."""
        self.grad.fill(0)

    def accumulate(self, g):
        """Add ``g`` into ``grad`` (gradients sum over backward calls)."""
        self.grad += g

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"
