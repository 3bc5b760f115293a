"""The mean-field maps of a deep MLP: pre-activation variance q and gradient gain chi.

For weights ~ N(0, sigma_w**2 / fan_in) and biases ~ N(0, sigma_b**2), a
layer's pre-activations are Gaussian with variance q at infinite width, and
(Poole et al. 2016, Schoenholz et al. 2017)::

    q_{l+1} = sigma_w**2 * E[phi(sqrt(q_l) Z)**2] + sigma_b**2      (variance map)
    chi_l   = sigma_w**2 * E[phi'(sqrt(q_l) Z)**2]                  (gradient gain)

chi_l is the factor by which the expected squared gradient norm grows when
the gradient passes back through layer l. Derivations: see docs/theory.md.
"""

import math

import numpy as np

from ._checks import as_activation, check_real, check_variance
from .gaussian import gaussian_nodes

__all__ = ["variance_map", "gradient_gain", "fixed_point", "LayerStatistics", "layer_statistics"]

# q is clamped into [_Q_LOW, _Q_HIGH] before integrating. Outside it, phi' has
# reached its small- or large-q limit to far below double precision, and
# E[phi^2] follows a power law in q that is extrapolated (see _second_moment),
# so a vanishing or exploding q never underflows to 0 or overflows to inf
# inside the quadrature.
_Q_LOW = 1e-200
_Q_HIGH = 1e200
_POWER_PROBE = 1e4  # ratio of the two q used to measure the local power law
# beyond this the variance explodes: a finite q* there would need sigma_w or
# sigma_b above ~1e30
_Q_DIVERGED = 1e60
# the relative accuracy of V(q) - q trusted when a fixed point is sought far out:
# one that attracts by less than this per layer counts as none (q* = inf)
_RESOLVED = 1e-9


def _clamped_nodes(q):
    return gaussian_nodes(min(max(q, _Q_LOW), _Q_HIGH))


def _raw_second_moment(act, q):
    x, w = gaussian_nodes(q)
    return float(act.fn(x) ** 2 @ w)


def _second_moment(act, q):
    """``E[phi(sqrt(q) Z)**2]`` for any q >= 0, extrapolated as a power law outside the clamp."""
    if _Q_LOW <= q <= _Q_HIGH:
        return _raw_second_moment(act, q)
    edge = _Q_LOW if q < _Q_LOW else _Q_HIGH
    inner = edge * _POWER_PROBE if q < _Q_LOW else edge / _POWER_PROBE
    at_edge, at_inner = _raw_second_moment(act, edge), _raw_second_moment(act, inner)
    if at_edge == 0.0 or at_inner == 0.0:
        return at_edge
    power = math.log(at_edge / at_inner) / math.log(edge / inner)
    if q == 0.0:
        return at_edge if power <= 0.0 else 0.0
    # in log space, so an exploding q gives inf rather than an overflow warning
    log_moment = math.log(at_edge) + power * (math.log(q) - math.log(edge))
    return math.exp(log_moment) if log_moment < 709.0 else math.inf


def variance_map(activation, q, sigma_w, sigma_b=0.0):
    """The next layer's pre-activation variance ``sigma_w**2 E[phi(sqrt(q) Z)**2] + sigma_b**2``."""
    act = as_activation(activation, "variance_map")
    q = check_variance("variance_map", q)
    sigma_w = check_real("variance_map", "sigma_w", sigma_w, nonnegative=True)
    sigma_b = check_real("variance_map", "sigma_b", sigma_b, nonnegative=True)
    return _variance_map(act, q, sigma_w, sigma_b)


def _variance_map(act, q, sigma_w, sigma_b):
    moment = _second_moment(act, q)
    return sigma_w * sigma_w * moment + sigma_b * sigma_b if math.isfinite(moment) else math.inf


def gradient_gain(activation, q, sigma_w):
    """``chi = sigma_w**2 E[phi'(sqrt(q) Z)**2]``: the expected squared-gradient gain of one layer."""
    act = as_activation(activation, "gradient_gain")
    q = check_variance("gradient_gain", q)
    sigma_w = check_real("gradient_gain", "sigma_w", sigma_w, nonnegative=True)
    x, w = _clamped_nodes(q)
    return sigma_w * sigma_w * float(act.derivative(x) ** 2 @ w)


class LayerStatistics:
    """The distribution of ``phi'(z)**2`` over a layer's units, z ~ N(0, q), and its moments.

    ``values`` and ``weights`` are quadrature nodes of that distribution
    (weights sum to 1); ``mean_abs`` is E|phi'|, ``second`` E[phi'^2] and
    ``kappa`` the squared coefficient of variation of phi'^2,
    ``E[phi'^4] / E[phi'^2]**2 - 1``: 0 when every unit passes the gradient
    equally, large when a few units carry it.
    """

    __slots__ = ("q", "values", "weights", "mean_abs", "second", "kappa")

    def __init__(self, q, derivative, weights):
        self.q = q
        self.values = derivative * derivative
        self.weights = weights
        self.mean_abs = float(np.abs(derivative) @ weights)
        self.second = float(self.values @ weights)
        fourth = float(self.values * self.values @ weights)
        self.kappa = fourth / (self.second * self.second) - 1.0 if self.second > 0 else 0.0


def layer_statistics(activation, q):
    """``LayerStatistics`` of ``phi'(z)**2`` for z ~ N(0, q); q may be 0 or inf (the limits)."""
    act = as_activation(activation, "layer_statistics")
    q = check_variance("layer_statistics", q)
    x, w = _clamped_nodes(q)
    return LayerStatistics(q, np.asarray(act.derivative(x), dtype=np.float64), w)


def fixed_point(activation, sigma_w, sigma_b=0.0, q_start=None, max_iter=100):
    """The fixed point q* of the variance map reached from ``q_start``; may be 0 or inf.

    ``q_start`` defaults to ``sigma_w**2 + sigma_b**2``, the first layer's
    variance for an input with mean(x**2) = 1. The map is iterated, and where
    it converges slowly (near the order-to-chaos transition) the fixed point
    is found by bisection on ``V(q) - q``.
    """
    act = as_activation(activation, "fixed_point")
    sigma_w = check_real("fixed_point", "sigma_w", sigma_w, nonnegative=True)
    sigma_b = check_real("fixed_point", "sigma_b", sigma_b, nonnegative=True)
    if q_start is None:
        q_start = sigma_w * sigma_w + sigma_b * sigma_b
    q = check_real("fixed_point", "q_start", q_start, nonnegative=True)
    return _fixed_point(act, sigma_w, sigma_b, q, max_iter)


def _fixed_point(act, sigma_w, sigma_b, q, max_iter=100):
    def excess(p):
        return _variance_map(act, p, sigma_w, sigma_b) - p

    previous = q
    for _ in range(max_iter):
        previous, q = q, _variance_map(act, q, sigma_w, sigma_b)
        if q > _Q_DIVERGED:
            return math.inf
        if q < _Q_LOW:
            return 0.0
        if abs(q - previous) <= 1e-15 * q:
            return q
    # slow convergence (near the order-to-chaos transition): bracket V(p) - p and bisect
    if (excess(q) < 0) != (excess(previous) < 0):
        low, high = min(q, previous), max(q, previous)
    elif q > previous:  # still climbing: look upwards for V(p) clearly below p
        low, high = q, q * 1e3
        # V(p) - p is computed to about 1e-12 p: a sign within that is noise, and an
        # excess that only shrinks relative to p (softplus at sigma_w = sqrt(2), where
        # V(p) - p grows like sqrt(p)) has no finite fixed point however far one looks
        while excess(high) > -_RESOLVED * high:
            low, high = high, high * 1e3
            if high > _Q_DIVERGED:
                return math.inf
    else:  # still falling: look downwards for V(p) >= p
        low, high = q / 1e3, q
        # where V(q) / q -> 1 as q -> 0 (tanh at sigma_w = 1) rounding decides
        # the sign, so a vanishing variance may come out as a tiny q* > 0
        while excess(low) < 0:
            low, high = low / 1e3, low
            if low < _Q_LOW:
                return 0.0
    return _bisect(excess, low, high)


def _bisect(f, low, high):
    """A root of ``f`` in [low, high] (0 < low, f changes sign), bisecting geometrically."""
    f_low = f(low)
    while high - low > 4 * np.finfo(float).eps * high:
        middle = math.sqrt(low * high) if high / low > 4.0 else 0.5 * (low + high)
        if not low < middle < high:
            break
        f_middle = f(middle)
        if f_middle == 0.0:
            return middle
        if (f_middle < 0) == (f_low < 0):
            low, f_low = middle, f_middle
        else:
            high = middle
    return 0.5 * (low + high)
