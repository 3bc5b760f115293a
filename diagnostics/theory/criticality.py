"""Ordered, critical or chaotic: chi_1 at the fixed point, and the critical initialization.

chi_1 is the gradient gain ``sigma_w**2 E[phi'(sqrt(q*) Z)**2]`` at the
fixed point q* of the variance map. Deep in the network every layer has it,
so squared gradient norms shrink (ordered, chi_1 < 1) or grow (chaotic,
chi_1 > 1) by a factor e every ``depth_scale = 1 / |log chi_1|`` layers (the
papers' convention; the norm itself takes twice as many); at chi_1 = 1
(critical) they keep their size. Derivations: see docs/theory.md.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

import tinynet

from ._checks import as_activation, check_real, first_variance
from .correlation import _fixed_correlation, depth_scale_of, variance_map_slope
from .gaussian import expectations
from .meanfield import _Q_HIGH, _Q_LOW, _fixed_point, _points, _roots, _variance_map

__all__ = ["CRITICAL_TOLERANCE", "NoCriticalPoint", "Regime", "regime", "depth_scale",
           "critical_sigma_w", "critical_init", "REGIMES"]

#: |chi_1 - 1| up to which a network counts as critical. Then the gradient
#: changes by at most a factor e over a million layers.
CRITICAL_TOLERANCE = 1e-6

ORDERED, CRITICAL, CHAOTIC = "ordered", "critical", "chaotic"
# q* = inf and chi_1 -> 1 only in the limit: the gradient still vanishes (or grows), sub-exponentially
SLOWLY_VANISHING, SLOWLY_EXPLODING = "slowly vanishing", "slowly exploding"
_DOES = {SLOWLY_VANISHING: "vanishes", SLOWLY_EXPLODING: "grows"}
#: The regimes ``regime`` tells apart.
REGIMES = (ORDERED, CRITICAL, CHAOTIC, SLOWLY_VANISHING, SLOWLY_EXPLODING)
# where the growth laws of an unbounded variance are read off: far enough out for
# the power laws, near enough that V(q) - q is computed to better than 1e-6 of itself
_GROWTH_Q = (1e4, 1e6)
_FAR_Q = 1e100  # where V(q) / q has reached its limit, the growth factor of an exploding variance
# where chi_1's approach to its limit is read off: a variance a softplus network reaches
# after about 10**4 layers at He's scale
_CREEP_Q = 1e8


class NoCriticalPoint(ValueError):
    """Raised when chi_1 = 1 has no solution in the searched range of sigma_w."""


def depth_scale(chi, tolerance=CRITICAL_TOLERANCE):
    """Layers over which the squared gradient norm changes by e: ``1 / |log chi|``, inf if critical."""
    chi = check_real("depth_scale", "chi", chi, nonnegative=True)
    return math.inf if abs(chi - 1.0) <= tolerance else float(depth_scale_of(chi))


@dataclass(frozen=True)
class Regime:
    """Where a network sits: ``name`` is one of ``REGIMES`` ("ordered", "critical", "chaotic", ...).

    ``chi`` is chi_1 at the fixed point ``q_fixed_point`` (0 or inf when the
    variance vanishes or explodes; at inf, its limit), ``depth_scale`` the
    number of layers over which the squared gradient norm changes by a
    factor e. Where the variance grows without bound (q* = inf): "chaotic"
    when chi_1 > 1 (the gradient grows exponentially, the variance with it;
    chaotic in the gradient's sense only, for there is no c*); "slowly
    vanishing" when chi_1 only tends to 1 from below (softplus at sigma_w = sqrt(2)), so the gradient still
    vanishes, slower than exponentially ("slowly exploding": from above,
    ELU and SELU); and ``growth`` says how the variance and the gradient
    grow with the depth L. The correlation map, at a finite q* only (None
    otherwise): ``c_star``, the correlation two inputs settle at (1 when
    ordered); ``chi_c``, its gain per layer there; ``xi_c = -1 / ln chi_c``
    and ``xi_q``, the depth scales of correlations and of the variance.
    """

    name: str
    chi: float
    q_fixed_point: float
    depth_scale: float
    sigma_w: float
    sigma_b: float
    c_star: float = None
    chi_c: float = None
    xi_c: float = None
    xi_q: float = None
    growth: str = None

    def __str__(self):
        if self.name in (SLOWLY_VANISHING, SLOWLY_EXPLODING):
            side = "below" if self.name == SLOWLY_VANISHING else "above"
            gain = f"chi_1 -> 1 from {side} as q grows without bound: {self.growth}"
        else:
            gain = f"chi_1 = {self.chi:.6g}, depth scale {self.depth_scale:.4g} layers"
            if self.growth is not None:
                gain += f"; {self.growth}"
        return f"{self.name} ({gain}, sigma_w = {self.sigma_w:.6g}, sigma_b = {self.sigma_b:.6g})"

    def _repr_html_(self):
        """A one-row table (gain, regime, depth scales) with its legend, in HTML (Jupyter shows it)."""
        from ..display import regime_document  # imported here: the reports are built on the theory's results

        return regime_document(self).to_html()


def _chi_at_fixed_point(act, sigma_w, sigma_b, q_start):
    """chi_1 and q* for arrays of points, solved together."""
    q_star = _fixed_point(act, sigma_w, sigma_b, q_start)
    at = np.clip(q_star, _Q_LOW, _Q_HIGH)
    with np.errstate(over="ignore", invalid="ignore"):  # as Python's floats: inf, or nan for inf * 0
        return sigma_w * sigma_w * expectations(lambda x: act.derivative(x) ** 2, at), q_star


def regime(activation, sigma_w, sigma_b=0.0, *, input_sq=1.0, tolerance=CRITICAL_TOLERANCE):
    """The ``Regime`` of weights N(0, sigma_w**2 / fan_in), biases N(0, sigma_b**2).

    The fixed point is the one reached from an input with mean(x**2) =
    ``input_sq``. Critical means ``|chi_1 - 1| <= tolerance``. For the
    lecture's N(0, std**2) weights pass ``sigma_w = std * sqrt(fan_in)``.
    OverflowError when sigma_w**2 * input_sq + sigma_b**2 is beyond float64.
    """
    act = as_activation(activation, "regime")
    sigma_w = check_real("regime", "sigma_w", sigma_w, positive=True)
    sigma_b = check_real("regime", "sigma_b", sigma_b, nonnegative=True)
    input_sq = check_real("regime", "input_sq", input_sq, nonnegative=True)
    first_variance("regime", sigma_w, sigma_b, input_sq)
    return _regimes(act, np.array([sigma_w]), np.array([sigma_b]), input_sq, tolerance)[0]


def _regimes(act, sigma_w, sigma_b, input_sq=1.0, tolerance=CRITICAL_TOLERANCE):
    """``regime`` at arrays of points (sigma_w > 0, sigma_b >= 0), solved together: a list of ``Regime``.

    ``act`` is a tinynet Activation; the arguments are not checked (``regime`` does that).
    """
    sigma_w, sigma_b = _points(sigma_w, sigma_b)
    chi, q_star = _chi_at_fixed_point(act, sigma_w, sigma_b, sigma_w * sigma_w * input_sq + sigma_b * sigma_b)
    names = np.where(chi < 1.0, ORDERED, CHAOTIC).astype(object)
    near = np.flatnonzero(np.abs(chi - 1.0) <= tolerance)
    names[near] = [c or CRITICAL for c in _creeping(act, sigma_w[near], q_star[near], tolerance)]
    unbounded = q_star == math.inf
    scale = np.where(np.abs(chi - 1.0) <= tolerance, math.inf, depth_scale_of(chi))
    # the correlation map is taken at q*: where there is none, it has no c*, chi_c or xi_c to give
    correlation = np.full((4, chi.size), None, dtype=object)
    bounded = np.flatnonzero(~unbounded)
    if bounded.size:
        c_star, chi_c = _fixed_correlation(act, q_star[bounded], sigma_w[bounded], sigma_b[bounded])
        xi_c = np.where(np.abs(chi_c - 1.0) <= tolerance, math.inf, depth_scale_of(chi_c))
        slope = variance_map_slope(act, q_star[bounded], sigma_w[bounded])
        xi_q = np.where(np.abs(slope - 1.0) <= tolerance, math.inf, depth_scale_of(slope))
        for row, values in zip(correlation, (c_star, chi_c, xi_c, xi_q)):
            row[bounded] = [float(v) for v in values]
    growth = np.full(chi.size, None, dtype=object)
    growth[unbounded] = [_growth(act, w, b) for w, b in zip(sigma_w[unbounded], sigma_b[unbounded])]
    return [Regime(str(name), *map(float, numbers), *rest)
            for name, *numbers, rest in zip(names, chi, q_star, scale, sigma_w, sigma_b, zip(*correlation, growth))]


def _growth(act, sigma_w, sigma_b):
    """How the variance and the squared gradient grow with the depth L where q grows without bound.

    Read off the maps far out: V(q) / q > 1 is exponential growth. Where it
    tends to 1, the excess V(q) - q ~ q**p gives q ~ L**(1 / (1 - p)), and
    chi - 1 ~ q**r then gives ln(gradient) ~ L**(1 + r / (1 - p)).
    """
    factor = float(_variance_map(act, _FAR_Q, sigma_w, sigma_b)) / _FAR_Q
    if abs(factor - 1.0) > CRITICAL_TOLERANCE:
        return f"q grows by a factor {factor:.7g} per layer"
    q = np.array(_GROWTH_Q)
    variance = _exponent(_variance_map(act, q, sigma_w, sigma_b) - q, q)
    if variance is None or variance >= 1:
        return "q grows without bound"
    variance = 1 / (1 - variance)
    gain = sigma_w * sigma_w * expectations(lambda x: act.derivative(x) ** 2, q) - 1.0
    if np.all(np.abs(gain) <= CRITICAL_TOLERANCE):
        return f"q grows like {_power_of_l(variance)}, the gradient keeps its size"
    power = _exponent(gain, q)
    if power is None:
        return f"q grows like {_power_of_l(variance)}"
    way, sign = ("falls", "-") if gain[-1] < 0 else ("grows", "+")
    return (f"q grows like {_power_of_l(variance)}, the squared gradient {way} like "
            f"exp({sign}c {_power_of_l(1 + power * variance)})")


def _power_of_l(exponent):
    return "L" if exponent == 1 else f"L^{exponent}" if exponent.denominator == 1 else f"L^({exponent})"


def _exponent(values, q):
    """p in ``values ~ q**p`` between the two q, as a fraction with a small denominator; None if no power law."""
    if not (np.all(values > 0) or np.all(values < 0)):
        return None
    return Fraction(math.log(values[1] / values[0]) / math.log(q[1] / q[0])).limit_denominator(6)


def _creeping(act, sigma_w, q_star, tolerance):
    """Per point, "slowly vanishing" / "slowly exploding" where chi_1 = 1 only in the limit q* = inf, else None."""
    creep = sigma_w * sigma_w * float(expectations(lambda x: act.derivative(x) ** 2, _CREEP_Q)) - 1.0
    return [None if q != math.inf else SLOWLY_VANISHING if d < -tolerance else SLOWLY_EXPLODING
            if d > tolerance else None for q, d in zip(q_star, creep)]


def critical_sigma_w(activation, sigma_b=0.0, *, bounds=(1e-3, 1e3), input_sq=1.0):
    """The first sigma_w in ``bounds`` (scanning upwards) where chi_1 passes through 1.

    ReLU gives sqrt(2) (He), the identity 1, tanh at sigma_b = 0 gives 1, a
    sigmoid about 10.15 (phi(0) = 1/2 keeps q* > 0, so it saturates long
    before chi_1 reaches 1). Raises ``NoCriticalPoint`` when chi_1 - 1 keeps
    one sign over ``bounds``, or only jumps over 0: for GELU (sigma_b <=
    0.25) and SiLU (sigma_b <= 0.5) the fixed point reached from the input
    jumps from a finite q* with chi_1 < 1 (q* = 0, chi_1 = sigma_w**2 / 4 at
    sigma_b = 0) to q* = inf with chi_1 = sigma_w**2 / 2 > 1.
    """
    owner = "critical_sigma_w"
    act = as_activation(activation, owner)
    sigma_b = check_real(owner, "sigma_b", sigma_b, nonnegative=True)
    input_sq = check_real(owner, "input_sq", input_sq, nonnegative=True)
    low, high = (check_real(owner, "bounds", b, positive=True) for b in bounds)
    if not low < high:
        raise ValueError(f"{owner}: bounds must be (low, high) with low < high, got {bounds}")
    found, = _critical_sigma_ws(act, [sigma_b], low, high, input_sq)
    if isinstance(found, str):
        raise NoCriticalPoint(found)
    return found


def _critical_sigma_ws(act, sigma_bs, low, high, input_sq):
    """``critical_sigma_w`` for each sigma_b, searched together: sigma_w, or NoCriticalPoint's message."""
    sigma_bs = np.asarray(sigma_bs, dtype=np.float64)

    def excess(sigma_w, rows):
        sigma_b = sigma_bs[rows]
        with np.errstate(over="ignore"):  # a variance beyond float64 is inf, as the scalar maps take it
            q_start = sigma_w * sigma_w * input_sq + sigma_b * sigma_b
        return _chi_at_fixed_point(act, sigma_w, sigma_b, q_start)[0] - 1.0

    searches = [_critical_search(act, float(b), low, high, input_sq) for b in sigma_bs]
    asks = {row: next(search) for row, search in enumerate(searches)}
    found = [None] * len(searches)
    while asks:
        # every row's questions of one kind are answered in one vectorised solve
        answers = {}
        at_points = [(row, ask[1]) for row, ask in asks.items() if ask[0] == "excess"]
        if at_points:
            rows = np.concatenate([np.full(len(points), row) for row, points in at_points])
            values = excess(np.concatenate([points for _, points in at_points]), rows)
            for row, points in at_points:
                answers[row], values = values[:len(points)], values[len(points):]
        brackets = [(row, ask[1:]) for row, ask in asks.items() if ask[0] == "root"]
        if brackets:
            rows = np.array([row for row, _ in brackets])
            a, b, fa, fb = (np.array(v, dtype=np.float64) for v in zip(*(bracket for _, bracket in brackets)))
            answers.update(zip(rows.tolist(), _roots(excess, a, b, fa, fb, rows, jump=CRITICAL_TOLERANCE)))
        for row, answer in answers.items():
            try:
                asks[row] = searches[row].send(answer)
            except StopIteration as done:
                found[row] = done.value
                del asks[row]
    return found


def _critical_search(act, sigma_b, low, high, input_sq):
    """One sigma_b's search, as a generator: it yields ("excess", sigma_ws) and ("root", a, b, fa, fb)
    for chi_1 - 1 to be evaluated or solved for, and returns sigma_w or NoCriticalPoint's message."""
    owner = "critical_sigma_w"
    # chi_1 need not be monotone, nor even continuous, in sigma_w: scan a log
    # grid and accept the first sign change where chi_1 really passes through 1
    grid = np.geomspace(low, high, max(2, math.ceil(4 * math.log10(high / low)) + 1))
    values = list((yield "excess", grid))
    jumps, creeps = [], []
    pending = [(a, b, fa, fb) for a, b, fa, fb in zip(grid, grid[1:], values, values[1:])]
    while pending:
        a, b, fa, fb = pending.pop(0)
        if fa == 0.0:
            return float(a)
        if (fa < 0.0) == (fb < 0.0):
            continue
        root = float((yield "root", a, b, fa, fb))
        at_root, left, right = (yield "excess", np.array([root, root * (1 - 1e-9), root * (1 + 1e-9)]))
        if abs(at_root) <= CRITICAL_TOLERANCE:
            q_star = _fixed_point(act, root, sigma_b, root * root * input_sq + sigma_b * sigma_b)
            creep, = _creeping(act, np.array([root]), np.array([q_star]), CRITICAL_TOLERANCE)
            if creep is None:
                return root
            # chi_1 = 1 only as a limit here: look on either side for a true crossing
            creeps.append((root, creep))
            pending[:0] = [(a, root * (1 - 1e-9), fa, left), (root * (1 + 1e-9), b, right, fb)]
            continue
        # the fixed point reached from the input jumps here (e.g. from q* = 0
        # to q* = inf), and chi_1 with it, straight over 1
        jumps.append((root, left + 1.0, right + 1.0))
    if creeps:
        root, creep = creeps[0]
        return (f"{owner}: no critical point for {act.name} with sigma_b = {sigma_b}: at sigma_w = "
                f"{root:.10g} the variance grows without bound and chi_1 reaches 1 only in that "
                f"limit ({creep}: the gradient still {_DOES[creep]}, slower than exponentially); "
                f"below it the network is ordered, above it chaotic")
    if values[-1] == 0.0:
        return float(grid[-1])
    chis = [v + 1.0 for v in values]
    where = f"for {act.name} with sigma_b = {sigma_b} and sigma_w in [{low:g}, {high:g}]"
    if jumps:
        at, below, above = jumps[0]
        return (f"{owner}: no critical point {where}: chi_1 jumps over 1 (from {below:.4g} to "
                f"{above:.4g}) at sigma_w = {at:.10g}, where the fixed point the variance reaches "
                f"from the input changes, so no sigma_w gives chi_1 = 1")
    side = "below" if values[0] < 0 else "above"
    return (f"{owner}: no critical point {where}: chi_1 stays {side} 1 "
            f"(it ranges over [{min(chis):.4g}, {max(chis):.4g}])")


def critical_init(activation, sigma_b=0.0, **kwargs):
    """The tinynet initializer N(0, sigma_w**2 / fan_in) at the critical sigma_w.

    Keyword arguments go to ``critical_sigma_w``; ``NoCriticalPoint`` passes through.
    """
    sigma_w = critical_sigma_w(activation, sigma_b, **kwargs)
    return tinynet.init.VarianceScaling(scale=sigma_w * sigma_w, mode="fan_in", distribution="untruncated_normal")
