"""The correlation map: how two inputs' signals become alike (order) or unlike (chaos) with depth.

Two inputs whose pre-activations have the variance q* and the correlation
c give, at the next layer, the correlation (Poole et al. 2016)::

    C(c) = (sigma_w**2 E[phi(u1) phi(u2)] + sigma_b**2) / q*,
    u1 = sqrt(q*) z1,  u2 = sqrt(q*) (c z1 + sqrt(1 - c**2) z2)

c = 1 is always a fixed point, with slope C'(1) = chi_1. Where chi_1 < 1 it
attracts (ordered: all inputs end up alike); where chi_1 > 1 another fixed
point c* < 1 does (chaotic). Near c* the correlation's distance from it
shrinks by ``chi_c = sigma_w**2 E[phi'(u1) phi'(u2)]`` per layer, so it
propagates over ``xi_c = -1 / ln chi_c`` layers (Schoenholz et al. 2017),
which diverges at the order-to-chaos transition chi_1 = 1. ``xi_q`` is
the same for the variance's approach to q*. Derivations: see docs/theory.md.
"""

import math

from ._checks import as_activation, check_real
from .gaussian import gaussian_nodes

__all__ = ["correlation_map", "correlation_fixed_point"]

_SAME = 1e-12  # below this 1 - c**2 the two inputs are one
# q* = 0 or inf is a limit: the maps are taken at q clamped into this range, where
# the tinynet activations have reached their small- and large-q forms (the bias no
# longer counts at q* = inf)
_Q_RANGE = (1e-8, 1e8)


def _clamp(q):
    return min(max(q, _Q_RANGE[0]), _Q_RANGE[1])


def _pair_expectation(f, g, q, c):
    """``E[f(u1) g(u2)]`` for the pair above: u2 given u1 is N(c u1, q (1 - c**2))."""
    x, w = gaussian_nodes(q)
    rest = q * (1.0 - c * c)
    if rest <= _SAME * q:
        return float(w @ (f(x) * g(c * x)))
    y, v = gaussian_nodes(rest)
    inner = g(c * x[:, None] + y[None, :]) @ v
    return float((w * f(x)) @ inner)


def _variance_terms(act, q, sigma_w, sigma_b):
    """The q the maps are taken at, E[phi**2] there, and sigma_b**2 / sigma_w**2 (0 at q* = inf)."""
    at = _clamp(q)
    x, w = gaussian_nodes(at)
    # divided by sigma_w**2, which may underflow to 0 for a tiny sigma_w
    bias = (sigma_b / sigma_w) ** 2 if 0.0 < q < math.inf and sigma_b > 0.0 else 0.0
    return at, float(w @ act.fn(x) ** 2), bias


def _correlation_map(act, c, q, sigma_w, sigma_b):
    at, second, bias = _variance_terms(act, q, sigma_w, sigma_b)
    return (_pair_expectation(act.fn, act.fn, at, c) + bias) / (second + bias) if second + bias > 0 else 1.0


def correlation_map(activation, c, q, sigma_w, sigma_b=0.0):
    """C(c): the next layer's correlation of two inputs that have correlation ``c`` and variance q.

    Normalized by the next layer's variance V(q), which is q itself at the
    fixed point q* (Poole et al.'s form).
    """
    owner = "correlation_map"
    act = as_activation(activation, owner)
    c = check_real(owner, "c", c)
    if not -1.0 <= c <= 1.0:
        raise ValueError(f"{owner}: c must be a correlation in [-1, 1], got {c}")
    q = check_real(owner, "q", q, positive=True)
    sigma_w = check_real(owner, "sigma_w", sigma_w, nonnegative=True)
    sigma_b = check_real(owner, "sigma_b", sigma_b, nonnegative=True)
    return _correlation_map(act, c, q, sigma_w, sigma_b)


def _correlation_gain(act, c, q, sigma_w, sigma_b):
    """chi_c = dC/dc = sigma_w**2 q E[phi'(u1) phi'(u2)] / V(q): chi_1 at c = 1 and q = q*."""
    at, second, bias = _variance_terms(act, q, sigma_w, sigma_b)
    if not second + bias > 0.0:
        return 0.0
    return at * _pair_expectation(act.derivative, act.derivative, at, c) / (second + bias)


def _fixed_correlation(act, q, sigma_w, sigma_b):
    """c* and chi_c: c* = 1 unless C'(1) > 1, then the root of C(c) = c in [0, 1)."""
    at_one = _correlation_gain(act, 1.0, q, sigma_w, sigma_b)
    if at_one <= 1.0:
        return 1.0, at_one
    excess = (lambda c: _correlation_map(act, c, q, sigma_w, sigma_b) - c)
    if excess(0.0) <= 1e-12:  # an odd activation without bias: c* = 0
        c_star = 0.0
    else:
        from scipy.optimize import brentq

        # just below 1, C(c) < c since C'(1) > 1
        top = 1.0 - 1e-9
        c_star = 1.0 if excess(top) >= 0.0 else float(brentq(excess, 0.0, top, xtol=1e-12))
    return c_star, _correlation_gain(act, c_star, q, sigma_w, sigma_b)


def correlation_fixed_point(activation, sigma_w, sigma_b=0.0, *, input_sq=1.0):
    """``(c_star, chi_c)``: the correlation two inputs settle at, and its gain per layer there.

    The variance is at the fixed point q* reached from mean(x**2) =
    ``input_sq``; c* = 1 in the ordered phase (chi_c = chi_1 there).
    """
    from .criticality import regime

    r = regime(activation, sigma_w, sigma_b, input_sq=input_sq)
    return r.c_star, r.chi_c


def depth_scale_of(gain):
    """``-1 / ln gain`` for 0 <= gain < 1, inf at 1; 1 / |ln gain| beyond (growth)."""
    if gain == 1.0:
        return math.inf
    if gain <= 0.0:
        return 0.0
    return 1.0 / abs(math.log(gain))


def variance_map_slope(act, q, sigma_w):
    """V'(q) = sigma_w**2 E[phi(x) phi'(x) x] / q at x ~ N(0, q) (Stein's lemma; no phi'' needed)."""
    at = _clamp(q)
    x, w = gaussian_nodes(at)
    return sigma_w * sigma_w * float(w @ (act.fn(x) * act.derivative(x) * x)) / at
