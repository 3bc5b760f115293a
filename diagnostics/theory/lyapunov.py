"""Products of random Gaussian matrices: Lyapunov exponents and the size of the entries.

For Y_n = W_n ... W_1 with k x k matrices of i.i.d. N(0, scale**2) entries,
``||Y_n v||`` for any fixed v is a product of n independent factors
``scale * sqrt(chi2_k)``, so log ||Y_n v|| grows at exactly the top Lyapunov
exponent (Newman 1986)::

    lambda_1 = log(scale) + (log 2 + digamma(k / 2)) / 2        per step

and lambda_i = log(scale) + (log 2 + digamma((k - i + 1) / 2)) / 2 is the
whole spectrum. The mean of a product is not its typical value: E|entry|
grows at ``log(scale) + log E sqrt(chi2_k)`` per step, faster than lambda_1,
because rare large products dominate the mean. Derivations: see
docs/theory.md.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._checks import check_count, check_real
from ._special import digamma
from .finite_width import expected_log_mean
from .gaussian import gaussian_nodes

__all__ = ["lyapunov_exponent", "lyapunov_exponent_log10", "lyapunov_spectrum",
           "RandomProductPrediction", "predict_random_product"]

_LN10 = math.log(10.0)


def lyapunov_exponent(scale, k):
    """Top Lyapunov exponent (natural log per step) of products of k x k N(0, scale**2) matrices."""
    scale = check_real("lyapunov_exponent", "scale", scale, positive=True)
    k = check_count("lyapunov_exponent", "k", k)
    return math.log(scale) + 0.5 * (math.log(2.0) + digamma(k / 2.0))


def lyapunov_exponent_log10(scale, k):
    """``lyapunov_exponent`` in decades per step."""
    return lyapunov_exponent(scale, k) / _LN10


def lyapunov_spectrum(scale, k):
    """All k Lyapunov exponents, largest first: ``(k,)`` array, natural log per step."""
    scale = check_real("lyapunov_spectrum", "scale", scale, positive=True)
    k = check_count("lyapunov_spectrum", "k", k)
    return np.array([math.log(scale) + 0.5 * (math.log(2.0) + digamma((k - i) / 2.0))
                     for i in range(k)])


@dataclass(frozen=True)
class RandomProductPrediction:
    """Predicted size of the entries of a product of n k x k N(0, scale**2) matrices.

    ``log10_rate``: decades per step of the typical growth (lambda_1 / ln 10).
    ``typical_log10_mean_abs_entry``: E[log10 mean|entries|] over draws,
    valid once the product has collapsed to rank one, i.e. when
    ``n * (lambda_1 - lambda_2)`` (``rank_one_margin``) is well above 1.
    ``log10_expected_mean_abs_entry``: log10 E[mean|entries|], exact for any
    n, and far larger than the typical value for long products.
    """

    scale: float
    k: int
    n: int
    lyapunov_exponent: float
    log10_rate: float
    typical_log10_mean_abs_entry: float
    log10_expected_mean_abs_entry: float
    rank_one_margin: float


def _expected_log_mean_abs_unit(k):
    """E[log mean_a |u_a|] for u uniform on the unit sphere of R^k."""
    # u = g / ||g||: E log(sum |g_a| / k) - E log ||g||
    z, w = gaussian_nodes(1.0)
    return expected_log_mean(np.abs(z), w, k) - 0.5 * (math.log(2.0) + digamma(k / 2.0))


def predict_random_product(scale, k, n):
    """``RandomProductPrediction`` for Y = W_n ... W_1, k x k entries i.i.d. N(0, scale**2)."""
    owner = "predict_random_product"
    scale = check_real(owner, "scale", scale, positive=True)
    k = check_count(owner, "k", k)
    n = check_count(owner, "n", n)
    rate = lyapunov_exponent(scale, k)
    # Y is bi-orthogonally invariant: Y = s_1 u v^T once it is rank one, with u, v
    # uniform unit vectors independent of s_1, so
    # mean|Y_ab| = s_1 * mean|u_a| * mean|v_b|. For a fixed unit x,
    # log ||Y x|| = log s_1 + log |v . x| has mean n * lambda_1 exactly, and
    # E log |v . x| = (digamma(1/2) - digamma(k/2)) / 2.
    log_top = n * rate - 0.5 * (digamma(0.5) - digamma(k / 2.0))
    typical = log_top + 2.0 * _expected_log_mean_abs_unit(k)
    # E|Y_ab| = sqrt(2/pi) * scale * E||Y_{n-1} e_b||, and each step multiplies
    # that norm by an independent scale * sqrt(chi2_k), of mean scale * c_k
    log_c_k = 0.5 * math.log(2.0) + math.lgamma((k + 1) / 2.0) - math.lgamma(k / 2.0)
    log_expected = 0.5 * math.log(2.0 / math.pi) + n * math.log(scale) + (n - 1) * log_c_k
    gap = 0.5 * (digamma(k / 2.0) - digamma((k - 1) / 2.0)) if k > 1 else math.inf
    return RandomProductPrediction(
        scale=scale, k=k, n=n, lyapunov_exponent=rate, log10_rate=rate / _LN10,
        typical_log10_mean_abs_entry=typical / _LN10,
        log10_expected_mean_abs_entry=log_expected / _LN10,
        rank_one_margin=n * gap)
