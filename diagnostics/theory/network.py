"""Predict what ``gradient_probe`` measures for the network a user builds.

The prediction is a walk over the network's layers in forward order. Each
kind of layer has one rule in ``RULES`` that updates the walk: a ``Linear``
opens a new block (its widths, its weights' scale, distribution and bias
variance, read from the initializers it was built with), an activation
joins the open block's elementwise chain, a ``Sequential`` walks its
children. Adding a kind of layer is adding one rule.

Then the mean-field maps run through the blocks: forward, each block's
pre-activation variance q (``q = sigma_w**2 mean(h**2) + sigma_b**2``, with
``sigma_w**2 = in_features * Var(w)``, so every layer has its own scale);
backward, each block's gain of the squared gradient norm, its mean-field
value, its expected log (the typical network) and the variance of its log
(how far one network strays), all at the block's own widths. Derivations:
see docs/theory.md.
"""

import math
from dataclasses import dataclass, field

import numpy as np

import tinynet

from ..profile import GradientProfile
from ._checks import check_real, first_variance
from .compose import predict_composed
from .finite_width import BackwardStep, log_gain_moments
from .meanfield import LayerStatistics, _clamped_nodes, _second_moment
from .parametrization import linear_scales, weight_kurtosis, weights_kind
from .remedy_rules import batch_norm_rule, dropout_rule, layer_norm_rule, predict_remedy_network, residual_rule

__all__ = ["predict_network", "RULES"]

_LN10 = math.log(10.0)


@dataclass(eq=False)
class Block:
    """One Linear layer and the elementwise layers after it, up to the next Linear."""

    label: str
    in_features: int
    out_features: int
    sigma_w: float
    sigma_b: float = 0.0
    weights: str = "gaussian"
    kurtosis: float = 3.0
    activations: list = field(default_factory=list)
    remedy: dict = field(default_factory=dict)  # set by a remedy's rule: {"kind": "Residual", "alpha": 1.0}

    def elementwise(self):
        """The block's elementwise chain as one activation (the identity when there is none)."""
        if not self.activations:
            return tinynet.Identity()
        if len(self.activations) == 1:
            return self.activations[0]
        return _composed(self.activations)


def _composed(acts):
    def fn(z):
        for act in acts:
            z = act.fn(z)
        return z

    def derivative(z):
        slope = np.ones_like(z)
        for act in acts:
            slope = slope * act.derivative(z)
            z = act.fn(z)
        return slope

    return tinynet.Activation(fn, derivative, name=" then ".join(a.name for a in acts))


class Walk:
    """What the walk has read so far: the blocks, and the width the signal has now."""

    def __init__(self, owner):
        self.owner = owner
        self.blocks = []
        self.width = None

    def branch(self, layer):
        """The blocks ``layer`` makes on its own, starting at the current width (a residual branch)."""
        inner = Walk(self.owner)
        inner.width = self.width
        _walk(layer, inner)
        return inner.blocks


def _linear_rule(layer, walk):
    who = f"{walk.owner}: {layer.label()}"
    if walk.width is not None and layer.in_features != walk.width:
        raise ValueError(f"{who} takes {layer.in_features} features, but the layer before gives {walk.width}")
    sigma_w, variance_b = linear_scales(who, layer)
    sigma_b = math.sqrt(variance_b)
    walk.blocks.append(Block(layer.label(), layer.in_features, layer.out_features, sigma_w, sigma_b,
                             weights_kind(layer.weight_init),
                             weight_kurtosis(layer.weight_init, (layer.out_features, layer.in_features))))
    walk.width = layer.out_features


def _activation_rule(layer, walk):
    if not walk.blocks:
        raise ValueError(f"{walk.owner}: {layer.name} comes before any Linear; the theory starts "
                         "from a Linear's Gaussian pre-activations")
    walk.blocks[-1].activations.append(layer)


def _sequential_rule(layer, walk):
    for _, child in layer.named_children():
        _walk(child, walk)


#: One rule per kind of layer, ``rule(layer, walk)``, found through the layer's MRO.
RULES = {
    tinynet.Linear: _linear_rule,
    tinynet.Activation: _activation_rule,
    tinynet.Sequential: _sequential_rule,
    tinynet.Residual: residual_rule,
    tinynet.LayerNorm: layer_norm_rule,
    tinynet.BatchNorm1d: batch_norm_rule,
    tinynet.Dropout: dropout_rule,
}


def _walk(layer, walk):
    for kind in type(layer).__mro__:  # the most specific rule: a subclass may have its own
        if kind in RULES:
            return RULES[kind](layer, walk)
    known = ", ".join(k.__name__ for k in RULES)
    raise ValueError(f"{walk.owner}: no rule for {type(layer).__name__} layers "
                     f"({layer.label()}); the theory knows {known}")


def _log10(x):
    with np.errstate(divide="ignore"):  # a gain of exactly 0 is a log of -inf, not an error
        return np.log10(x)


def _mean_abs_over_rms_chi(dof):
    """``E sqrt(X) / sqrt(E X)`` for X ~ chi-square with ``dof`` degrees of freedom."""
    return math.exp(0.5 * math.log(2.0 / dof) + math.lgamma((dof + 1.0) / 2.0) - math.lgamma(dof / 2.0))


_STEP = 1e-3  # in log q, for the slopes d log E[.] / d log q


def _moments(phi, q):
    """Relative moments of phi(z)**2 and phi'(z)**2 over units z ~ N(0, q), and two slopes.

    Returns ``(noise, cross, along, along_slope, map_slope, chi_slope)``, or
    None where they are not finite: the squared coefficient of variation of
    phi**2, the relative covariance of phi**2 with phi'**2, of phi**2 and of
    phi'**2 with z**2, and d log E[phi**2] / d log q, d log E[phi'**2] / d log q.
    """
    x, w = _clamped_nodes(q)
    # the same rule scaled by exp(+-STEP / 2): smooth in q, one evaluation
    x = x[None, :] * np.exp([0.0, _STEP / 2, -_STEP / 2])[:, None]
    with np.errstate(all="ignore"):
        h2, d2 = phi.fn(x) ** 2, phi.derivative(x) ** 2
        z2 = x[0] * x[0] / (x[0] * x[0] @ w)  # z**2 / E[z**2]
        m, second = h2 @ w, d2 @ w
        result = (h2[0] * h2[0] @ w / (m[0] * m[0]) - 1.0, h2[0] * d2[0] @ w / (m[0] * second[0]) - 1.0,
                  h2[0] * z2 @ w / m[0] - 1.0, d2[0] * z2 @ w / second[0] - 1.0,
                  math.log(m[1] / m[2]) / (2.0 * _STEP), math.log(second[1] / second[2]) / (2.0 * _STEP))
    return result if all(math.isfinite(r) for r in result) else None


def _z_norm_variance(block):
    """Relative variance of mean(z**2) over the block's units, given its input."""
    units, fan_in = block.out_features, block.in_features
    if block.weights != "orthogonal":
        return 2.0 / units
    # a Haar projection onto units of the fan_in dimensions; none when it keeps every norm
    return 2.0 * max(0.0, 1.0 / units - 1.0 / fan_in)


def forward_variances(blocks, qs):
    """The variance of log ||M_i||^2 that the forward pass adds, per backward step i (cumulative).

    At finite width a layer's empirical mean of phi(z)**2 over its n units
    strays from E[phi**2] by a relative amount of variance kappa_phi / n, and
    moves every later layer's variance q with it (by the slope of the
    variance map); a later layer's gain moves by d log chi / d log q. For
    ReLU without biases chi does not depend on q and this term is 0.
    """
    count = len(blocks)
    noise, cross, effect, carry, slope = (np.zeros(count) for _ in range(5))
    for j, (block, q) in enumerate(zip(blocks, qs)):
        moments = _moments(block.elementwise(), q) if 0.0 < q < math.inf else None
        if moments is None:  # a vanishing or exploding signal: no finite response to follow
            continue
        spread, joint, along, along_slope, slope[j], effect[j] = moments
        n = block.out_features
        # the empirical mean of phi^2 over n units strays, together with that of phi'^2;
        # the part that follows the empirical mean of z^2 (relative variance 2 / n for
        # i.i.d. weights) is smaller for orthogonal ones, which keep ||z|| (nearly) fixed
        kept = _z_norm_variance(block) * n / 2.0
        noise[j] = (spread - (1.0 - kept) * along * along / 2.0) / n
        cross[j] = (joint - (1.0 - kept) * along * along_slope / 2.0) / n
        if j + 1 < count:  # d log q_(j+1) / d log mean(phi_j^2): less where a bias adds variance
            following = blocks[j + 1]
            signal = following.sigma_w * following.sigma_w * _second_moment(block.elementwise(), q)
            carry[j] = 1.0 if following.sigma_b == 0.0 else signal / (signal + following.sigma_b ** 2)
    # How much the gains of backward step i (blocks s = count-1-i ... count-1) move per
    # unit of log q_m: reach[m] = effect[m] + a[m] reach[m+1] for m >= s, and below s
    # a[m] a[m+1] ... a[s-1] reach[s], with a = carry * slope. A fluctuation of block
    # j's mean(phi^2) moves q_(j+1) by carry[j]. The sums over j are kept as suffix
    # sums and one recursion, so memory stays linear in the depth.
    a = carry * slope
    reach = np.zeros(count + 1)
    for m in range(count - 1, -1, -1):
        reach[m] = effect[m] + a[m] * reach[m + 1]
    below = np.zeros(count + 1)  # below[s] = sum_(j < s-1) carry[j]^2 noise[j] (a[j+1] ... a[s-1])^2
    for s in range(1, count):
        below[s + 1] = a[s] * a[s] * (below[s] + carry[s - 1] ** 2 * noise[s - 1])
    within = np.append(np.cumsum((carry ** 2 * reach[1:] ** 2 * noise)[::-1])[::-1], 0.0)
    crossed = np.append(np.cumsum((carry * reach[1:] * cross)[::-1])[::-1], 0.0)
    s = count - 1 - np.arange(count)
    with np.errstate(invalid="ignore"):
        before = np.where(reach[s] == 0.0, 0.0, reach[s] ** 2 * below[s])
    return within[np.maximum(s - 1, 0)] + before + 2.0 * crossed[s]


def propagate(blocks, input_sq, owner):
    """Run the mean-field maps and the finite-width moments through ``blocks``: ``(profile, statistics)``.

    The backward pass gives the predicted ``GradientProfile`` (per-layer
    log10 norms, typical, mean-field and sd, and log10 mean |J|), the
    forward pass each block's q, chi and kappa (a dict of arrays, forward
    order). Shared by ``predict_network`` and ``predict``.
    """
    mean_sq = input_sq
    qs, stats = [], []
    for i, block in enumerate(blocks):
        if i == 0:
            q = first_variance(owner, block.sigma_w, block.sigma_b, mean_sq)
        else:
            q = block.sigma_w * block.sigma_w * mean_sq + block.sigma_b * block.sigma_b
        phi = block.elementwise()
        x, w = _clamped_nodes(q)
        qs.append(q)
        stats.append(LayerStatistics(q, np.asarray(phi.derivative(x), dtype=np.float64), w))
        mean_sq = _second_moment(phi, q)
    second = np.array([s.second for s in stats])
    chi = np.array([b.sigma_w * b.sigma_w * s.second for b, s in zip(blocks, stats)])
    # log chi = 2 log sigma_w + log E[phi'^2]: sigma_w**2 itself underflows to 0 below 1e-162
    log10_weight_variance = np.array([2.0 * math.log10(b.sigma_w) for b in blocks])

    n_out, n_in = blocks[-1].out_features, blocks[0].in_features
    start = 0.5 * math.log10(n_out)
    mean_field = start + 0.5 * np.cumsum(log10_weight_variance[::-1] + _log10(second[::-1]))
    steps = [BackwardStep(s, 2.0 * math.log(b.sigma_w), b.out_features, b.in_features, b.weights,
                          b.kurtosis - 3.0) for b, s in zip(blocks[::-1], stats[::-1])]
    gains, variances, rank = log_gain_moments(steps, n_out)
    typical = start + np.cumsum(gains) / (2.0 * _LN10)
    # rounding may leave a variance that is exactly 0 (orthogonal linear layers) a hair below it
    variances = np.maximum(np.cumsum(variances) + forward_variances(blocks, qs), 0.0)
    sd = np.sqrt(variances) / (2.0 * _LN10)

    # J's rows are scaled by phi' of the last block and, given the rest of the
    # network, its entries are Gaussian: mean|J| = sqrt(2/pi) ||J||_F / sqrt(out * in)
    # times E|phi'| / rms(phi') (the rows) ...
    last = stats[-1]
    if last.second > 0.0:
        to_mean_abs = math.log10(math.sqrt(2.0 / math.pi) / math.sqrt(n_out * n_in)
                                 * last.mean_abs / math.sqrt(last.second))
    else:
        to_mean_abs = -math.inf
    # ... times, typically, mean/rms of the column norms, chi-distributed with
    # as many degrees of freedom as the product has effective rank
    typical_columns = math.log10(_mean_abs_over_rms_chi(rank))
    profile = GradientProfile(tuple(b.label for b in reversed(blocks)), typical, start, "predicted",
                              per_layer_grad_norm_log10_sd=sd, mean_field_per_layer_grad_norm_log10=mean_field,
                              log10_mean_abs_grad=float(typical[-1] + to_mean_abs + typical_columns),
                              mean_field_log10_mean_abs_grad=float(mean_field[-1] + to_mean_abs))
    return profile, dict(q=np.array(qs), chi=chi, kappa=np.array([s.kappa for s in stats]))


def predict_network(net, x=None, batch_size=None, rng=None):
    """Predict ``gradient_probe(net, x)`` for any tinynet network that runs.

    ``net``: a tinynet layer, usually a ``Sequential``. Each Linear's
    weights and biases are described by the initializers it was built with
    (``weight_init``, ``bias_init``), not by the values drawn: the
    prediction is for any network of this architecture. ``x``: the probe's
    input, ``(in_features,)`` or ``(1, in_features)``, ones by default.

    Returns a ``GradientProfile``, one per measured block (a Linear and
    what follows it, or a ``Residual``), backward order. A network of
    Linear layers and activations is predicted by the exact walk over
    blocks (below). A network of identical remedy blocks (``Residual``
    around a Linear and its activation; ``Linear -> LayerNorm or
    BatchNorm1d -> activation``; ``Linear -> activation -> Dropout``) gets
    the remedies' theory (docs/remedies.md); with BatchNorm1d, of what
    ``batch_gradient_probe`` measures on a batch of ``batch_size`` (or
    ``x``'s rows). Any other network is predicted by composing one map per
    layer (``compose``): "predicted", or "estimated" where a layer kind
    without a rule had its map estimated from its own forward and backward
    on Gaussian inputs drawn from ``rng`` (a ``numpy.random.Generator``,
    seed 0 by default). ValueError where no derivation holds (BatchNorm1d
    outside a stack of identical blocks), saying why, and for an
    initializer with a non-zero mean.
    """
    owner = "predict_network"
    if not isinstance(net, tinynet.Layer):
        raise TypeError(f"{owner}: net must be a tinynet layer (e.g. an MLP), got {type(net).__name__}")
    walk = Walk(owner)
    try:
        _walk(net, walk)
        if not walk.blocks:
            raise ValueError(f"{owner}: {net.label()} has no Linear layer")
        blocks = walk.blocks
        if any(b.remedy for b in blocks):
            return predict_remedy_network(owner, blocks, x, batch_size)
    except ValueError as refused:
        # not one of the shapes with an exact derivation: compose the layers' maps
        return predict_composed(owner, net, x, rng, refused)
    return propagate(blocks, _input_sq(owner, x, blocks[0].in_features), owner)[0]


def _input_sq(owner, x, in_features):
    """mean(x**2) of the probe's input, checked against the first Linear's width."""
    if x is None:
        return 1.0
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if x.shape != (in_features,):
        raise ValueError(f"{owner}: x must be one input of shape ({in_features},) or (1, {in_features}), "
                         f"got {x.shape}")
    input_sq = float(np.mean(x * x))
    return check_real(owner, "mean(x**2)", input_sq, nonnegative=True)
