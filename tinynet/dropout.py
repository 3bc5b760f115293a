"""Dropout: zero random entries in training mode, scaling the rest to keep the mean."""

import numpy as np

from .architecture import register_layer
from .checks import check_number, check_rng
from .layer import Layer


@register_layer
class Dropout(Layer):
    """Inverted dropout, as ``torch.nn.Dropout``: ``x: any shape -> same shape``.

    In training mode each entry is zeroed with probability ``p`` and the
    others are multiplied by ``1 / (1 - p)``, so each output's expectation is
    its input; backward applies the same mask to ``dy``. In eval mode, and
    for ``p = 0``, it is the identity (the output is ``x`` itself); ``p = 1``
    zeroes everything. The masks are drawn from ``rng``, a
    ``numpy.random.Generator`` (a fresh unseeded one when None).
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        p = check_number("Dropout", "p", p)
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.rng = check_rng(self.label(), "rng", rng)

    def _forward(self, x):
        p = self.p
        if not self.training or p == 0:
            return x, None
        if p == 1:
            mask = np.zeros(x.shape, x.dtype)
        else:
            # float64 draws whatever x's dtype: one seed gives one mask
            keep = self.rng.random(x.shape) >= p
            mask = keep.astype(x.dtype) * x.dtype.type(1 / (1 - p))
        return x * mask, mask

    def _backward(self, mask, dy):
        return dy if mask is None else dy * mask

    def get_config(self):
        return {"p": self.p}
