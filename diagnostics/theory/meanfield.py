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
from .gaussian import as_shaped, expectations, gaussian_nodes

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


def _points(*arrays):
    """The arguments as flat float arrays of one common length: one point of the theory each."""
    return [a.ravel().copy() for a in np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))]


def _raw_second_moment(act, q):
    return expectations(lambda x: act.fn(x) ** 2, q)


def _second_moment(act, q):
    """``E[phi(sqrt(q) Z)**2]`` for an array of q >= 0, extrapolated as a power law outside the clamp."""
    q = np.asarray(q, dtype=np.float64)
    flat = q.ravel()
    out = np.empty(flat.shape)
    inside = (flat >= _Q_LOW) & (flat <= _Q_HIGH)
    out[inside] = _raw_second_moment(act, flat[inside])
    for side, edge, inner in ((flat < _Q_LOW, _Q_LOW, _Q_LOW * _POWER_PROBE),
                              (flat > _Q_HIGH, _Q_HIGH, _Q_HIGH / _POWER_PROBE)):
        if side.any():
            out[side] = _extrapolated(act, flat[side], edge, inner)
    return as_shaped(out, q.shape)


def _extrapolated(act, q, edge, inner):
    """E[phi**2] at q beyond ``edge``, by the power law between ``inner`` and ``edge``."""
    at_edge, at_inner = _raw_second_moment(act, np.array([edge, inner]))
    if at_edge == 0.0 or at_inner == 0.0:
        return np.full(q.shape, at_edge)
    power = math.log(at_edge / at_inner) / math.log(edge / inner)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # in log space, so an exploding q gives inf rather than an overflow warning
        log_moment = math.log(at_edge) + power * (np.log(q) - math.log(edge))
        moment = np.where(log_moment < 709.0, np.exp(log_moment), math.inf)
    if power <= 0.0:
        return np.where(q == 0.0, at_edge, moment)
    return np.where(q == 0.0, 0.0, moment)


def variance_map(activation, q, sigma_w, sigma_b=0.0):
    """The next layer's pre-activation variance ``sigma_w**2 E[phi(sqrt(q) Z)**2] + sigma_b**2``."""
    act = as_activation(activation, "variance_map")
    q = check_variance("variance_map", q)
    sigma_w = check_real("variance_map", "sigma_w", sigma_w, nonnegative=True)
    sigma_b = check_real("variance_map", "sigma_b", sigma_b, nonnegative=True)
    return float(_variance_map(act, q, sigma_w, sigma_b))


def _variance_map(act, q, sigma_w, sigma_b):
    moment = _second_moment(act, q)
    with np.errstate(invalid="ignore", over="ignore"):
        values = np.where(np.isfinite(moment), sigma_w * sigma_w * moment + sigma_b * sigma_b, math.inf)
    return as_shaped(values, np.shape(values))


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


# iterations of the map before a slowly converging point's fixed point is bracketed
# and solved for instead (in about 15 more steps)
_ITERATIONS = 30


def fixed_point(activation, sigma_w, sigma_b=0.0, q_start=None, max_iter=_ITERATIONS):
    """The fixed point q* of the variance map reached from ``q_start``; may be 0 or inf.

    ``q_start`` defaults to ``sigma_w**2 + sigma_b**2``, the first layer's
    variance for an input with mean(x**2) = 1. The map is iterated, and where
    it converges slowly (near the order-to-chaos transition) the fixed point
    is found by a bracketing root finder on ``V(q) - q``.
    """
    act = as_activation(activation, "fixed_point")
    sigma_w = check_real("fixed_point", "sigma_w", sigma_w, nonnegative=True)
    sigma_b = check_real("fixed_point", "sigma_b", sigma_b, nonnegative=True)
    if q_start is None:
        q_start = sigma_w * sigma_w + sigma_b * sigma_b
    q = check_real("fixed_point", "q_start", q_start, nonnegative=True)
    return float(_fixed_point(act, sigma_w, sigma_b, q, max_iter))


def _fixed_point(act, sigma_w, sigma_b, q, max_iter=_ITERATIONS):
    """The fixed points reached from ``q`` for arrays of points (sigma_w, sigma_b, q), solved together."""
    shape = np.broadcast(sigma_w, sigma_b, q).shape
    sigma_w, sigma_b, q = _points(sigma_w, sigma_b, q)
    result = np.full(q.shape, math.nan)
    previous = q.copy()
    active = np.arange(q.size)
    for _ in range(max_iter):
        if not active.size:
            break
        previous[active] = q[active]
        q[active] = new = _variance_map(act, q[active], sigma_w[active], sigma_b[active])
        diverged, vanished = new > _Q_DIVERGED, new < _Q_LOW
        with np.errstate(invalid="ignore"):  # inf - inf: diverged, and caught above
            settled = np.abs(new - previous[active]) <= 1e-15 * new
        result[active[settled]] = new[settled]
        result[active[vanished]] = 0.0
        result[active[diverged]] = math.inf
        active = active[~(diverged | vanished | settled)]
    if active.size:
        # slow convergence (near the order-to-chaos transition): bracket V(p) - p and bisect
        result[active] = _search(act, sigma_w[active], sigma_b[active], q[active], previous[active])
    return as_shaped(result, shape)


def _search(act, sigma_w, sigma_b, q, previous):
    """The fixed points of slowly converging points, from their last two iterates."""
    def excess(p, at):
        return _variance_map(act, p, sigma_w[at], sigma_b[at]) - p

    every = np.arange(q.size)
    result = np.full(q.shape, math.nan)
    with np.errstate(invalid="ignore"):
        straddle = (excess(q, every) < 0) != (excess(previous, every) < 0)
    low, high = np.where(straddle, np.minimum(q, previous), q), np.where(straddle, np.maximum(q, previous), q)
    # still climbing: look upwards for V(p) clearly below p. V(p) - p is computed to
    # about 1e-12 p: a sign within that is noise, and an excess that only shrinks
    # relative to p (softplus at sigma_w = sqrt(2), where V(p) - p falls like
    # 1 / sqrt(p)) has no finite fixed point however far one looks
    climbing = every[~straddle & (q > previous)]
    high[climbing] = q[climbing] * 1e3
    while climbing.size:
        still = excess(high[climbing], climbing) > -_RESOLVED * high[climbing]
        climbing = climbing[still]
        low[climbing], high[climbing] = high[climbing], high[climbing] * 1e3
        far = high[climbing] > _Q_DIVERGED
        result[climbing[far]] = math.inf
        climbing = climbing[~far]
    # still falling: look downwards for V(p) >= p. Where V(q) / q -> 1 as q -> 0 (tanh
    # at sigma_w = 1) rounding decides the sign, so a vanishing variance may come out
    # as a tiny q* > 0
    falling = every[~straddle & ~(q > previous)]
    low[falling] = q[falling] / 1e3
    while falling.size:
        still = excess(low[falling], falling) < 0
        falling = falling[still]
        low[falling], high[falling] = low[falling] / 1e3, low[falling]
        near = low[falling] < _Q_LOW
        result[falling[near]] = 0.0
        falling = falling[~near]
    open_ = every[np.isnan(result)]
    lo, hi = low[open_], high[open_]
    result[open_] = _roots(excess, lo, hi, excess(lo, open_), excess(hi, open_), open_)
    return result


def _roots(f, a, b, fa, fb, rows, jump=None):
    """Roots of ``f(x, rows)`` in brackets [a, b] (f changes sign) for arrays of rows, to rounding.

    The Illinois method (regula falsi that halves a stale end's value), with
    a bisection whenever three steps fail to halve the bracket, so a jump in f
    is narrowed down as surely as a smooth crossing. With ``jump``, a bracket
    narrower than 1e-10 of itself whose ends both have |f| > ``jump`` is a
    jump of f, and its middle is returned without narrowing it further.
    """
    low, high, f_low, f_high = a.copy(), b.copy(), fa.copy(), fb.copy()
    # the bracket's width when it last halved, and the steps since
    mark, since, moved = high - low, np.zeros(a.shape, dtype=int), np.zeros(a.shape, dtype=int)
    active = np.flatnonzero(f_low != 0.0)
    root = np.where(f_low == 0.0, low, np.nan)
    while active.size:
        lo, hi, flo, fhi = low[active], high[active], f_low[active], f_high[active]
        halved = hi - lo <= 0.5 * mark[active]
        mark[active] = np.where(halved, hi - lo, mark[active])
        since[active] = np.where(halved, 0, since[active] + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (lo * fhi - hi * flo) / (fhi - flo)
        x = np.where((since[active] >= 3) | ~((lo < x) & (x < hi)), 0.5 * (lo + hi), x)
        done = (hi - lo <= 4 * np.finfo(float).eps * hi) | ~((lo < x) & (x < hi))
        if jump is not None:
            done |= (hi - lo <= 1e-10 * hi) & (np.minimum(np.abs(flo), np.abs(fhi)) > jump)
        root[active[done]] = np.where(np.abs(flo) <= np.abs(fhi), lo, hi)[done]
        active, x = active[~done], x[~done]
        fx = f(x, rows[active])
        hit = fx == 0.0
        root[active[hit]] = x[hit]
        left = (fx < 0.0) == (f_low[active] < 0.0)  # the root is right of x
        side = np.where(left, -1, 1)
        # Illinois: the end that stays for a second step in a row counts half
        stale = side == moved[active]
        f_high[active[left & stale]] *= 0.5
        f_low[active[~left & stale]] *= 0.5
        low[active[left]], f_low[active[left]] = x[left], fx[left]
        high[active[~left]], f_high[active[~left]] = x[~left], fx[~left]
        moved[active] = side
        active = active[~hit]
    return root
