"""Parameter: a trainable array and the gradient accumulated for it."""

import numpy as np


class Parameter:
    """A tensor a layer learns: ``data`` and the ``grad`` accumulated for it.

    ``grad`` has the shape and dtype of ``data``. Backward passes add into it,
    as in PyTorch, until ``zero_grad()`` clears it. With ``requires_grad``
    False, layers skip computing it (a probe that only wants the input
    gradient saves the work).

    Two things make this cheap. The gradient's array is made only when a
    backward first computes it (a network nobody trains holds none). And
    ``zero_grad()`` does not free or fill that array, only marks it zero:
    the next backward writes its result straight into it, and reading
    ``grad`` in between fills it with zeros first. Freeing and allocating a
    large array every step costs more than the arithmetic of a small network
    (the memory comes back from the system page by page). So, as in PyTorch
    with ``zero_grad(set_to_none=False)``, ``grad`` is the same array from
    step to step: to keep one step's gradient, keep ``p.grad.copy()``.
    """

    __slots__ = ("data", "_grad", "_grad_is_zero", "requires_grad")

    def __init__(self, data, requires_grad=True):
        data = np.asarray(data)
        if data.dtype.kind != "f":
            raise TypeError(f"Parameter: expected a floating-point array, got dtype {data.dtype}")
        self.data = data
        self._grad = None  # no array yet: the gradient is zero
        self._grad_is_zero = True  # the array's contents are stale; the gradient is zero
        self.requires_grad = bool(requires_grad)

    @property
    def grad(self):
        """The accumulated gradient, an array shaped like ``data``; None after ``zero_grad(set_to_none=True)``."""
        if self._grad_is_zero is None:
            return None
        if self._grad is None:
            self._grad = np.zeros_like(self.data)
        elif self._grad_is_zero:
            self._grad.fill(0)
        self._grad_is_zero = False
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self.zero_grad(set_to_none=True)
            return
        # a copy: backward writes into this array, and must not write into the caller's
        value = np.array(value, dtype=self.data.dtype, order="C", copy=True)
        if value.shape != self.data.shape:
            raise ValueError(f"Parameter: grad must have shape {self.data.shape}, got {value.shape}")
        self._grad = value
        self._grad_is_zero = False

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def zero_grad(self, set_to_none=False):
        """Clear the accumulated gradient: zeros until the next backward, or None (no gradient)."""
        if set_to_none:
            self._grad, self._grad_is_zero = None, None  # None marks "no gradient at all"
        else:
            self._grad_is_zero = True

    def accumulate(self, g, fresh=False):
        """Add ``g`` into ``grad`` (gradients sum over backward calls).

        ``fresh=True`` promises that ``g`` is a new array nobody else holds,
        so it may become ``grad`` itself when there is no array yet.
        """
        if np.shape(g) != self.data.shape:
            # caught here, where the layer's backward is on the stack, not at the optimizer's step
            raise ValueError(
                f"Parameter: a gradient of shape {np.shape(g)} for data of shape {self.data.shape}")
        if self._grad is None:
            self._grad = g if fresh else np.array(g, dtype=self.data.dtype)
        elif self._grad_is_zero:
            np.copyto(self._grad, g)
        else:
            self._grad += g
        self._grad_is_zero = False

    def accumulate_product(self, a, b):
        """Add the matrix product ``a @ b`` into ``grad``; written in place when it is zero."""
        if self._grad_is_zero and self._grad is not None:
            np.matmul(a, b, out=self._grad)  # no temporary: the step's hottest path
            self._grad_is_zero = False
        else:
            self.accumulate(a @ b, fresh=True)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"
