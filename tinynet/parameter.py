"""Parameter: a trainable array and the gradient accumulated for it."""

import numpy as np

from .checks import as_float_array, check_bool


class Parameter:
    """A tensor a layer learns: ``data`` and the ``grad`` accumulated for it.

    ``grad`` is None until a backward computes one, then an array of the
    shape and dtype of ``data``; backward passes add into it, as in PyTorch,
    until ``zero_grad()`` clears it. With ``requires_grad`` False, layers skip
    computing it.
    """

    __slots__ = ("data", "_grad", "requires_grad")

    def __init__(self, data, requires_grad=True):
        data = np.asarray(data)
        if data.dtype.kind != "f":
            raise TypeError(f"Parameter: expected a floating-point array, got dtype {data.dtype}")
        self.data = data
        self._grad = None
        self.requires_grad = check_bool("Parameter", "requires_grad", requires_grad)

    @property
    def grad(self):
        """The accumulated gradient (None until a backward computes one)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        # validated here, so a bad value fails where it is set, not at the optimizer's step
        if value is None:
            self._grad = None
            return
        value = as_float_array("Parameter", "grad", value)  # complex would lose its imaginary part
        if value.shape != self.data.shape:
            raise ValueError(f"Parameter: grad must have shape {self.data.shape}, got {value.shape}")
        # a copy: backward adds into grad, and must not add into the caller's array
        self._grad = value.astype(self.data.dtype, copy=True)

    shape = property(lambda self: self.data.shape, doc="The shape of ``data``.")
    dtype = property(lambda self: self.data.dtype, doc="The dtype of ``data``.")
    size = property(lambda self: self.data.size, doc="The number of entries of ``data``, as numpy's ``size``.")

    def numel(self):
        """The number of entries, as PyTorch's ``numel()``: ``sum(p.numel() for p in net.parameters())``."""
        return self.data.size

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place, as PyTorch's; returns self."""
        self.requires_grad = check_bool("Parameter", "requires_grad", requires_grad)
        return self

    def accumulate(self, g):
        """Add ``g`` into ``grad``; with no ``grad`` yet, ``g`` becomes it.

        What a layer's ``_backward`` calls. ``g`` is kept, not copied, as
        PyTorch keeps a fresh gradient: pass a new array (the result of the
        arithmetic), not one the layer holds on to, since later backward
        passes add into it.
        """
        if (g := np.asarray(g)).shape != self.data.shape:  # asarray: a layer's array as it is, at no cost
            # caught here, where the layer's backward is on the stack, not at the optimizer's step
            raise ValueError(f"Parameter: a gradient of shape {g.shape} for data of shape {self.data.shape}")
        if self._grad is None:
            self._grad = np.asarray(g, dtype=self.data.dtype)
        else:
            self._grad += g

    def zero_grad(self, set_to_none=True):
        """Clear the gradient: to None (the default, as in PyTorch 2), or fill it with zeros."""
        if check_bool("Parameter.zero_grad", "set_to_none", set_to_none):
            self._grad = None
        elif self._grad is not None:
            self._grad.fill(0)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"
