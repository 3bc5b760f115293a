"""The spread of the Jacobian's singular values at infinite width (dynamical isometry).

The eigenvalues of J J^T (the squared singular values of the input-output
Jacobian) have mean ``prod_l chi_l``. By free probability (Pennington,
Schoenholz and Ganguli 2017) the normalized variance
``var / mean**2`` of a product of freely independent factors is the sum of
theirs: each layer adds ``kappa_l`` (the spread of phi'(z)**2 over its
units) and its weight matrix adds 1 if Gaussian (Marchenko-Pastur) or 0 if
orthogonal. So a linear network with orthogonal weights is exactly
isometric (all singular values equal), and no Gaussian network is.
Derivations: see docs/theory.md.
"""

import math
from dataclasses import dataclass

from ._checks import as_activation, check_count, check_real, first_variance
from .meanfield import _variance_map, layer_statistics

__all__ = ["JacobianSpectrum", "jacobian_spectrum"]

_WEIGHT_SPREAD = {"gaussian": 1.0, "orthogonal": 0.0}


@dataclass(frozen=True)
class JacobianSpectrum:
    """Mean and variance of the eigenvalues of J J^T, and ``normalized_variance = var / mean**2``."""

    mean: float
    variance: float
    normalized_variance: float


def jacobian_spectrum(activation, sigma_w, depth, sigma_b=0.0, weights="gaussian", input_sq=1.0):
    """``JacobianSpectrum`` of a depth-``depth`` MLP, weights N(0, sigma_w**2 / fan_in) or orthogonal.

    ``weights``: ``"gaussian"`` or ``"orthogonal"`` (scaled by ``sigma_w``,
    i.e. ``tinynet.init.Orthogonal(gain=sigma_w)`` on square layers).
    """
    owner = "jacobian_spectrum"
    act = as_activation(activation, owner)
    sigma_w = check_real(owner, "sigma_w", sigma_w, positive=True)
    depth = check_count(owner, "depth", depth)
    sigma_b = check_real(owner, "sigma_b", sigma_b, nonnegative=True)
    input_sq = check_real(owner, "input_sq", input_sq, positive=True)
    if weights not in _WEIGHT_SPREAD:
        raise ValueError(f"{owner}: weights must be 'gaussian' or 'orthogonal', got {weights!r}")
    q = first_variance(owner, sigma_w, sigma_b, input_sq)
    log_mean, spread = 0.0, 0.0
    for _ in range(depth):
        layer = layer_statistics(act, q)
        # in logs: sigma_w**2 alone underflows for sigma_w below 1e-162
        log_mean += 2.0 * math.log(sigma_w) + math.log(layer.second) if layer.second > 0 else -math.inf
        spread += layer.kappa + _WEIGHT_SPREAD[weights]
        q = _variance_map(act, q, sigma_w, sigma_b)
    mean = math.exp(log_mean) if log_mean < 709.0 else math.inf
    return JacobianSpectrum(mean=mean, variance=mean * mean * spread, normalized_variance=spread)
