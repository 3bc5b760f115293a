"""Parameter: a trainable array and the gradient accumulated for it."""

import numpy as np


class Parameter:
    """A tensor a layer learns: ``data`` and the ``grad`` accumulated for it.

    ``grad`` has the shape and dtype of ``data``. Backward passes add into it,
    as in PyTorch, until ``zero_grad()`` clears it. With ``requires_grad``
    False, layers skip computing it (a probe that only wants the input
    gradient saves the work).

    The zeros of a cleared gradient are made only when ``grad`` is read: the
    first backward after ``zero_grad()`` then stores its result instead of
    adding it to zeros, which saves a pass over every weight matrix and
    halves the memory of a network nobody trains.
    """

    __slots__ = ("data", "_grad", "requires_grad")

    def __init__(self, data, requires_grad=True):
        data = np.asarray(data)
        if data.dtype.kind != "f":
            raise TypeError(f"Parameter: expected a floating-point array, got dtype {data.dtype}")
        self.data = data
        self._grad = None  # None means zero
        self.requires_grad = bool(requires_grad)

    @property
    def grad(self):
        """The accumulated gradient, an array shaped like ``data``."""
        if self._grad is None:
            self._grad = np.zeros_like(self.data)
        return self._grad

    @grad.setter
    def grad(self, value):
        value = np.asarray(value, dtype=self.data.dtype)
        if value.shape != self.data.shape:
            raise ValueError(f"Parameter: grad must have shape {self.data.shape}, got {value.shape}")
        self._grad = value

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
        """Clear the accumulated gradient (it reads as zeros until the next backward)."""
        self._grad = None

    def accumulate(self, g, fresh=False):
        """Add ``g`` into ``grad`` (gradients sum over backward calls).

        ``fresh=True`` promises that ``g`` is a new array nobody else holds,
        so it may become ``grad`` itself when nothing has accumulated yet.
        """
        if self._grad is None:
            self._grad = g if fresh else np.array(g, dtype=self.data.dtype)
        else:
            self._grad += g

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"
