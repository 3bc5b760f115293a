"""(Semi-)orthogonal weights, like ``torch.nn.init.orthogonal_``."""

import numpy as np

from .base import Initializer, check_number

__all__ = ["Orthogonal"]


class Orthogonal(Initializer):
    """A random (semi-)orthogonal matrix times ``gain``.

    The weight is viewed as ``(shape[0], prod(shape[1:]))``; its rows are
    orthonormal when ``shape[0] <= prod(shape[1:])``, else its columns are.
    The matrix is uniformly (Haar) distributed, so each entry has mean 0 and
    variance ``gain**2 / max(shape[0], prod(shape[1:]))``. Needs a shape of
    at least 2 dimensions.

    Text form: ``orthogonal[:GAIN]``.
    """

    name = "orthogonal"
    _spec_params = ("gain",)
    orthogonal = True

    def __init__(self, gain=1.0):
        self._config = {"gain": check_number("Orthogonal", "gain", gain, positive=True)}

    def _matrix_shape(self, shape):
        fan_in, _ = self._fans(shape)  # also rejects shapes of fewer than 2 dimensions
        # fan_in is prod(shape[1:]): the column count of the flattened weight
        return int(shape[0]), fan_in

    def variance(self, shape=None):
        rows, cols = self._matrix_shape(shape)
        # the squared entries sum to min(rows, cols) unit norms spread over rows * cols entries
        return self._config["gain"] * self._config["gain"] / max(rows, cols)

    def kurtosis(self, shape=None):
        # each orthonormal row (or column) of n = max(rows, cols) entries is uniform on the
        # unit sphere, where E[w**4] = 3 / (n (n + 2)) and E[w**2] = 1 / n
        n = max(self._matrix_shape(shape))
        return 3.0 * n / (n + 2.0)

    def _sample(self, shape, rng):
        rows, cols = self._matrix_shape(shape)
        tall = rng.normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(tall)
        # QR alone is not uniformly distributed; fixing the signs of diag(R) makes it so
        q *= np.where(np.diag(r) < 0, -1.0, 1.0)
        matrix = q if rows >= cols else q.T
        return (self._config["gain"] * matrix).reshape(shape)
