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
        if not self.training or self.p == 0:
            return x, None
        # float64 draws whatever x's dtype: one seed gives one mask
        keep = self.rng.random(x.shape) >= self.p
        return self._scaled(keep, x), keep

    def _backward(self, keep, dy):
        return dy if keep is None else self._scaled(keep, dy)

    def _scaled(self, keep, a):
        """``a / (1 - p)`` where kept, 0 where dropped."""
        scale = 0.0 if self.p == 1 else 1 / (1 - self.p)
        # a kept float16 entry past 65504 is inf, as IEEE rounds it; a dropped one is 0, never 0 * inf = nan
        with np.errstate(over="ignore"):
            return np.where(keep, a * a.dtype.type(scale), a.dtype.type(0))

    def get_config(self):
        return {"p": self.p}
