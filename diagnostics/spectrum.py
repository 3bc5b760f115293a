"""Dynamical isometry: the singular values of a network's input-output Jacobian.

A gradient's norm says how much the network amplifies or shrinks signals on
average; the singular values of J say whether it does so evenly. A network
is well conditioned (dynamically isometric, Pennington, Schoenholz and
Ganguli 2017) when they all lie near 1: a linear network of orthogonal
layers has exactly that, Gaussian layers of the same variance spread them
over many decades as depth grows. See docs/diagnostics.md.
"""

import math
from dataclasses import dataclass

import numpy as np

from .probes import gradient_probe


@dataclass
class Spectrum:
    """log10 singular values of J (largest first) and summary numbers.

    The SVD of a floating-point J resolves singular values down to about
    ``resolution_decades`` below the largest (15 in float64, 7 in float32):
    smaller ones are rounding noise, and ``resolved`` is False for them.
    """

    log10_singular_values: np.ndarray
    resolution_decades: float = 15.0

    @property
    def resolved(self):
        """True for the singular values the SVD can tell from rounding noise."""
        return self.log10_singular_values > self.log10_max - self.resolution_decades

    @property
    def log10_max(self):
        return float(self.log10_singular_values[0])

    @property
    def log10_min(self):
        return float(self.log10_singular_values[-1])

    @property
    def log10_median(self):
        """The median, or nan when it lies among the unresolved values (fewer than half resolved)."""
        if 2 * int(self.resolved.sum()) <= len(self.resolved):
            return math.nan
        return float(np.median(self.log10_singular_values))

    @property
    def log10_condition_number(self):
        """log10 of largest / smallest singular value; a lower bound once beyond resolution."""
        return min(self.log10_max - self.log10_min, self.resolution_decades)

    @property
    def spread(self):
        """Standard deviation of the resolved log10 singular values: 0 for perfect isometry.

        nan when none is resolved (J is exactly zero).
        """
        values = self.log10_singular_values[self.resolved]
        return float(np.std(values)) if values.size else math.nan

    @property
    def log10_normalized_variance(self):
        """log10 of var / mean**2 over all n eigenvalues of J J^T (the squared singular values).

        The unresolved ones count as 0. They lie more than
        ``2 * resolution_decades`` below the largest eigenvalue (30 decades
        in float64), so 0 is exact to that relative order; leaving them out
        instead would describe fewer, more even values and understate the
        spread. nan when J is exactly zero; never above log10(n - 1), the
        value of one non-zero eigenvalue among n.
        """
        n = len(self.log10_singular_values)
        if not self.resolved.any():
            return math.nan
        # relative to the largest, so that the squares stay in float range
        eig = np.where(self.resolved, 10.0 ** (2.0 * (self.log10_singular_values - self.log10_max)), 0.0)
        mean = float(eig.sum()) / n
        variance = float(np.mean((eig - mean) ** 2))
        return math.log10(variance / mean ** 2) if variance > 0 else -math.inf


def largest_log10_normalized_variance(n):
    """log10(n - 1): no n values >= 0 have a larger var / mean**2 (-inf for n = 1)."""
    return math.log10(n - 1) if n > 1 else -math.inf


class NonFiniteNetwork(ValueError):
    """The forward pass of the network became nan or inf, so J is not defined there.

    ``where`` is the probe's description of the layer (see
    :class:`diagnostics.recorders.NonFiniteDetector`).
    """

    def __init__(self, message, where):
        super().__init__(message)
        self.where = where


def jacobian_spectrum(net, x=None):
    """The singular values of ``net``'s input-output Jacobian at ``x`` (default: ones), as log10.

    Computed from :func:`gradient_probe`'s rescaled Jacobian, so they are
    exact in log form even where J's entries leave float range. Raises
    :class:`NonFiniteNetwork` (a ValueError) if the probe met a nan or inf.
    """
    result = gradient_probe(net, x)
    if not result.finite:
        where = result.nonfinite
        raise NonFiniteNetwork(f"jacobian_spectrum: the {where['pass']} pass became non-finite at layer "
                               f"{where['layer']} ({where['type']})", where)
    if result.log10_scale == -math.inf:
        return Spectrum(np.full(min(result.jacobian_mantissa.shape), -np.inf))
    mantissa = result.jacobian_mantissa
    s = np.linalg.svd(mantissa.astype(np.float64), compute_uv=False)
    resolution = 15.0 if mantissa.dtype.itemsize >= 8 else 7.0
    with np.errstate(divide="ignore"):  # an exactly singular J has log10 0 = -inf
        return Spectrum(np.log10(s) + result.log10_scale, resolution)
