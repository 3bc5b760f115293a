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

import numpy as np

from ._checks import as_activation, check_real
from .gaussian import POINTS_PER_PANEL, as_shaped, expectations, grouped_nodes
from .meanfield import _points

__all__ = ["correlation_map", "correlation_fixed_point"]

_SAME = 1e-12  # below this 1 - c**2 the two inputs are one
# q* = 0 or inf is a limit: the maps are taken at q clamped into this range, where
# the tinynet activations have reached their small- and large-q forms (the bias no
# longer counts at q* = inf)
_Q_RANGE = (1e-8, 1e8)
_CHUNK = 2 ** 20  # grid values evaluated at once: bounds the memory of many points together


def _clamp(q):
    return np.clip(q, *_Q_RANGE)


def _pair_expectations(fs, q, c, points=POINTS_PER_PANEL):
    """``[E[f(u1) f(u2)] for f in fs]`` for arrays of q and c: u2 given u1 is N(c u1, q (1 - c**2))."""
    q, c = _points(q, c)
    out = np.empty((len(fs), q.size))
    rest = q * (1.0 - c * c)
    same = rest <= _SAME * q
    for index, x, w in grouped_nodes(q[same], points):
        at = np.flatnonzero(same)[index]
        out[:, at] = [(f(x) * f(c[at, None] * x)) @ w for f in fs]
    apart = np.flatnonzero(~same)
    for index, x, w in grouped_nodes(q[apart], points):
        for inner, y, v in grouped_nodes(rest[apart[index]], points):
            at, xs = apart[index[inner]], x[inner]
            step = max(1, _CHUNK // (x.shape[1] * y.shape[1]))
            for k in range(0, at.size, step):
                part, grid = at[k:k + step], xs[k:k + step]
                shifted = (c[part, None] * grid)[:, :, None] + y[k:k + step, None, :]
                out[:, part] = [((w * f(grid)) * (f(shifted) @ v)).sum(axis=1) for f in fs]
    return out


def _variance_terms(act, q, sigma_w, sigma_b):
    """The q the maps are taken at, E[phi**2] there, and sigma_b**2 / sigma_w**2 (0 at q* = inf)."""
    q, sigma_w, sigma_b = _points(q, sigma_w, sigma_b)
    at = _clamp(q)
    # divided by sigma_w**2, which may underflow to 0 for a tiny sigma_w
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        bias = np.where((0.0 < q) & (q < math.inf) & (sigma_b > 0.0), (sigma_b / sigma_w) ** 2, 0.0)
    return at, expectations(lambda x: act.fn(x) ** 2, at), bias


def _maps(act, c, terms, which=(True, True), points=POINTS_PER_PANEL):
    """C(c) and chi_c = dC/dc = q E[phi'(u1) phi'(u2)] / V(q) at the points ``terms`` describe.

    ``which`` says which of the two are wanted (the other comes back as None).
    """
    at, second, bias = terms
    fs = [f for f, wanted in zip((act.fn, act.derivative), which) if wanted]
    pairs = list(_pair_expectations(fs, at, c, points))
    total = second + bias
    with np.errstate(divide="ignore", invalid="ignore"):
        c_map = np.where(total > 0, (pairs.pop(0) + bias) / total, 1.0) if which[0] else None
        gain = np.where(total > 0.0, at * pairs.pop(0) / total, 0.0) if which[1] else None
    return c_map, gain


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
    return float(_maps(act, c, _variance_terms(act, q, sigma_w, sigma_b), (True, False))[0][0])


def _fixed_correlation(act, q, sigma_w, sigma_b):
    """c* and chi_c for arrays of points: c* = 1 unless C'(1) > 1, then the root of C(c) = c in [0, 1).

    C is convex and increasing on [0, 1] (a power series in c with
    coefficients >= 0), so Newton's method from c = 0 climbs to c* without
    overshooting it, in a handful of steps: done first with a rough rule,
    then, from there, in one or two steps with the full one.
    """
    terms = _variance_terms(act, q, sigma_w, sigma_b)
    n = terms[0].size
    c_star, chi_c = np.ones(n), _maps(act, np.ones(n), terms, (False, True))[1]
    chaotic = np.flatnonzero(chi_c > 1.0)
    # a rule with a quarter of the nodes finds c* to about 1e-6, the full rule then polishes it
    c = np.zeros(chaotic.size)
    for points in (_ROUGH, POINTS_PER_PANEL):
        c_star[chaotic], chi_c[chaotic] = _newton(act, c, [t[chaotic] for t in terms], chi_c[chaotic], points)
        c = c_star[chaotic]
    return c_star, chi_c


def _newton(act, c, terms, chi_1, points):
    """Newton's method for C(c) = c from ``c``: c* and chi_c there (c* = 1, chi_c = chi_1 at the top)."""
    c_star, chi_c = np.ones(c.size), chi_1.copy()
    active = np.arange(c.size)
    for _ in range(_NEWTON_STEPS):
        if not active.size:
            break
        c_map, gain = _maps(act, c, [t[active] for t in terms], points=points)
        excess = c_map - c
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(gain < 1.0, excess / (1.0 - gain), math.inf)
        new = np.clip(c + step, 0.0, 1.0)
        # at c = 0 an odd activation without bias has its fixed point (excess 0);
        # just below 1 (C'(1) > 1 barely) the root is 1 to the solver's precision
        odd, top = (c == 0.0) & (np.abs(excess) <= 1e-12), new >= 1.0 - 1e-9
        new = np.where(odd, 0.0, np.where(top, 1.0, new))
        done = odd | top | (np.abs(new - c) <= _SETTLED)
        c_star[active[done]] = new[done]
        chi_c[active[done]] = np.where(top[done], chi_1[active[done]], gain[done])
        active, c = active[~done], new[~done]
    c_star[active] = c
    return c_star, chi_c


_NEWTON_STEPS = 60
# a Newton step this small leaves an error of about its square: c* to rounding
_SETTLED = 1e-10
_ROUGH = 8  # points per panel of the rule that finds c* roughly
def correlation_fixed_point(activation, sigma_w, sigma_b=0.0, *, input_sq=1.0):
    """``(c_star, chi_c)``: the correlation two inputs settle at, and its gain per layer there.

    The variance is at the fixed point q* reached from mean(x**2) =
    ``input_sq``; c* = 1 in the ordered phase (chi_c = chi_1 there).
    """
    from .criticality import regime

    r = regime(activation, sigma_w, sigma_b, input_sq=input_sq)
    return r.c_star, r.chi_c


def depth_scale_of(gain):
    """``-1 / ln gain`` for 0 <= gain < 1, inf at 1; 1 / |ln gain| beyond (growth); for an array of gains."""
    gain = np.asarray(gain, dtype=np.float64)
    with np.errstate(divide="ignore"):
        scale = 1.0 / np.abs(np.log(np.where(gain > 0.0, gain, 1.0)))
    return as_shaped(np.where(gain <= 0.0, 0.0, scale), gain.shape)


def variance_map_slope(act, q, sigma_w):
    """V'(q) = sigma_w**2 E[phi(x) phi'(x) x] / q at x ~ N(0, q), for arrays (Stein's lemma; no phi'')."""
    at = _clamp(np.asarray(q, dtype=np.float64))
    return sigma_w * sigma_w * expectations(lambda x: act.fn(x) * act.derivative(x) * x, at) / at
