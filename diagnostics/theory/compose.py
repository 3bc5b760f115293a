"""The theory of any network, composed from one map per layer kind.

A layer's map takes the statistics of the signal that reaches it (its
width, the mean and the mean square of its units) and gives those of what
leaves it, and a ``Step``: what the layer does, backward, to the squared
Frobenius norm of the probe's gradient ``M`` (one row per output). A step
takes two moments of ``A = M^T M``, its participation ``u = tr(A**2) /
tr(A)**2`` (1 / the effective rank) and its diagonal participation ``delta
= sum(A_ii**2) / tr(A)**2`` (both ``1 / out`` for the identity the probe
starts from), and gives the mean-field gain, the expected log of the gain,
its variance and the two moments after it, as ``finite_width`` does for a
plain network. Containers compose the maps: a
``Sequential`` chains them, a ``Residual`` adds its block's to the identity.

The rules are found through the layer's class (its MRO), so a subclass of
``Activation`` gets the activation rule from its own ``fn`` and
``derivative``. A layer may carry its own map: a method
``theory_map(width, mean, mean_sq)`` returning a dict with ``mean``,
``mean_sq`` (of its output) and ``gain`` (E ||dx||**2 / ||dy||**2), and
optionally ``log_gain_variance``. A kind with neither gets its map
estimated from its own forward and backward on Gaussian inputs (seeded
Monte Carlo), and the prediction is labelled "estimated". Derivations: see
docs/theory.md.
"""

import math

import numpy as np

import tinynet

from ..profile import GradientProfile
from .finite_width import expected_log_chi2_mean
from .meanfield import _clamped_nodes
from .parametrization import linear_scales, weight_kurtosis, weights_kind

__all__ = ["MAPS", "Signal", "Step", "compose", "predict_composed"]

#: inputs per Monte Carlo estimate of a layer's map: its relative error is about 1 / sqrt(this)
ESTIMATE_SAMPLES = 512
_STEP = 1e-3  # in log variance, for the slopes d log E[.] / d log variance


class Signal:
    """What the forward pass carries into a layer: ``width`` units with ``mean`` and ``mean_sq`` over them.

    ``spread``: the relative variance of ``mean_sq`` between networks at
    these widths (a layer of n i.i.d. units adds about 2 / n).
    """

    __slots__ = ("width", "mean", "mean_sq", "spread")

    def __init__(self, width, mean, mean_sq, spread=0.0):
        self.width, self.mean, self.mean_sq, self.spread = width, mean, mean_sq, spread

    @property
    def variance(self):
        """mean_sq - mean**2, at least 0."""
        return max(self.mean_sq - self.mean * self.mean, 0.0)


class Step:
    """One layer backward: ``backward((u, delta))`` gives (gain, E log gain, Var log gain, (u, delta) after)."""

    def __init__(self, backward, measured=False, estimated=False, label=""):
        self.backward, self.measured, self.estimated, self.label = backward, measured, estimated, label


def _gaussian(signal):
    """Nodes and weights of the units' distribution, N(mean, variance)."""
    x, w = _clamped_nodes(signal.variance) if signal.variance > 0 else (np.zeros(1), np.ones(1))
    return x + signal.mean, w


def _slope_step(second, kappa, label, forward_var=0.0):
    """A diagonal Jacobian whose squared slopes have mean ``second`` and relative variance ``kappa``.

    ``forward_var``: the variance of log E[slope**2] that the forward pass's
    own fluctuation at finite width adds.
    """
    def backward(moments):
        u, delta = moments
        var = kappa * delta  # a weighted mean of the slopes, weighted by A's diagonal
        log_mean = math.log(second) if second > 0 else -math.inf
        after = ((u + var) / (1.0 + var), (1.0 + kappa) * delta / (1.0 + var))
        return second, log_mean - var / 2.0, var + forward_var, after
    return Step(backward, label=label)


def _linear_map(layer, signal, context):
    who = f"{context.owner}: {layer.label()}"
    if signal.width != layer.in_features:
        raise ValueError(f"{who} takes {layer.in_features} features, but the layer before gives {signal.width}")
    fan_in, units = layer.in_features, layer.out_features
    sigma_w, variance_b = linear_scales(who, layer)
    s2 = sigma_w * sigma_w
    orthogonal = weights_kind(layer.weight_init) == "orthogonal"
    excess = weight_kurtosis(layer.weight_init, (units, fan_in)) - 3.0

    def backward(moments):
        u, delta = moments
        if orthogonal and units <= fan_in:  # W W^T = sigma_w^2 I keeps every norm
            return s2, math.log(s2), 0.0, (u, (1.0 + 2.0 * u) / (fan_in + 2.0))
        after = ((1.0 + (fan_in + 1.0) * u) / (fan_in + 2.0 * u), (1.0 + 2.0 * u) / (fan_in + 2.0 * u))
        if orthogonal:  # a random projection onto fan_in of the units' dimensions
            var = 2.0 * u * (1.0 / fan_in - 1.0 / units)
            return s2, math.log(s2) - var / 2.0, var, after
        # ||M W||^2 / ||M||^2 is a chi-square mean with fan_in / u degrees of freedom
        var = 2.0 * u / fan_in + excess * delta / fan_in
        log_gain = math.log(s2) + expected_log_chi2_mean(fan_in / u) - excess * delta / (2.0 * fan_in)
        return s2, log_gain, var, after

    signal_sq = s2 * signal.mean_sq
    share = signal_sq / (signal_sq + variance_b) if signal_sq + variance_b > 0 else 0.0
    # mean(z**2) over the units strays by 2 / units for i.i.d. weights, less for orthogonal ones
    own = 2.0 / units if not orthogonal else 2.0 * max(0.0, 1.0 / units - 1.0 / fan_in)
    out = Signal(units, 0.0, signal_sq + variance_b, own + share * share * signal.spread)
    return out, [Step(backward, measured=True, label=layer.label())]


def _activation_map(layer, signal, context):
    x, w = _gaussian(signal)
    centred = x - signal.mean
    # the units at variances scaled by exp(+-STEP / 2), for the slopes d log E[.] / d log variance
    x = signal.mean + centred[None, :] * np.exp([0.0, _STEP / 2, -_STEP / 2])[:, None]
    with np.errstate(all="ignore"):
        f, d2 = np.asarray(layer.fn(x), dtype=np.float64), np.asarray(layer.derivative(x), dtype=np.float64) ** 2
        square, second = (f * f) @ w, d2 @ w
        kappa = float(d2[0] * d2[0] @ w) / (second[0] * second[0]) - 1.0 if second[0] > 0 else 0.0
        slopes = [math.log(m[1] / m[2]) / (2.0 * _STEP) if m[1] > 0 and m[2] > 0 else 0.0 for m in (square, second)]
        noise = float((f[0] ** 4) @ w) / (square[0] * square[0]) - 1.0 if square[0] > 0 else 0.0
    slopes = [v if math.isfinite(v) else 0.0 for v in slopes]
    # mean(phi**2) over the units strays by its own noise, less the part that follows mean(z**2)
    spread = slopes[0] ** 2 * signal.spread + max(noise - 2.0 * slopes[0] ** 2, 0.0) / signal.width
    out = Signal(signal.width, float(f[0] @ w), float(square[0]), spread)
    return out, [_slope_step(float(second[0]), kappa, layer.name, slopes[1] ** 2 * signal.spread)]


def _dropout_map(layer, signal, context):
    keep = 1.0 - float(layer.p)
    if keep <= 0.0:
        raise ValueError(f"{context.owner}: {layer.label()} drops everything; there is no gradient to predict")
    # training mode, as the probe runs: a mask of 0 or 1 / keep on every unit, forward and back
    # a mask on n units adds (3 / keep - 3) / n to the relative variance of a Gaussian signal's mean_sq
    out = Signal(signal.width, signal.mean, signal.mean_sq / keep,
                 signal.spread + (3.0 / keep - 3.0) / signal.width)
    return out, [_slope_step(1.0 / keep, (1.0 - keep) / keep, layer.label())]


def _layer_norm_map(layer, signal, context):
    k = signal.width
    if tuple(layer.normalized_shape) != (k,):
        raise ValueError(f"{context.owner}: {layer.label()} normalizes {tuple(layer.normalized_shape)}, "
                         f"but the layer before gives {k} features")
    if k < 3:
        raise ValueError(f"{context.owner}: {layer.label()}: the theory needs at least 3 features")
    params = dict(layer.named_parameters())
    weight_sq = float(np.mean(params["weight"].data ** 2)) if "weight" in params else 1.0
    bias = params["bias"].data if "bias" in params else np.zeros(1)
    variance = signal.variance + float(layer.eps)
    # (1 / s) (I - 11^T / k - u u^T / k): two of k directions removed, k s^2 / variance ~ chi2(k - 1)
    gain = weight_sq * (1.0 - 2.0 / k) / variance

    def backward(moments):
        log_gain = (math.log(weight_sq * (1.0 - 2.0 / k) / variance)
                    - expected_log_chi2_mean(k - 1) + math.log((k - 1) / k))
        return gain, log_gain, 2.0 / (k - 1), moments

    out = Signal(k, float(np.mean(bias)), weight_sq + float(np.mean(bias * bias)))
    return out, [Step(backward, label=layer.label())]


def _sequential_map(layer, signal, context):
    steps = []
    for _, child in layer.named_children():
        signal, inner = context.map(child, signal)
        steps += inner
    return signal, steps


def _residual_map(layer, signal, context):
    alpha = float(layer.alpha.data) if layer.learnable_alpha else float(layer.alpha)
    branch, inner = context.map(layer.block, signal)
    if branch.width != signal.width:
        raise ValueError(f"{context.owner}: {layer.label()}: the block gives {branch.width} features "
                         f"for {signal.width} in")
    k = signal.width
    a2 = alpha * alpha
    # the branch is independent of the input given its norm: only the means meet in the cross term
    mean_sq = signal.mean_sq + 2.0 * alpha * signal.mean * branch.mean + a2 * branch.mean_sq
    spread = ((signal.mean_sq ** 2 * signal.spread + a2 * a2 * branch.mean_sq ** 2 * branch.spread)
              / (mean_sq * mean_sq) if mean_sq > 0 else 0.0)
    out = Signal(k, signal.mean + alpha * branch.mean, mean_sq, spread)

    def backward(moments):
        u, delta = moments
        g, log_g, var_g, (u_branch, delta_branch) = _chain(inner, moments)
        # ||M (I + a J)||^2 / ||M||^2 = 1 + 2a tr(A J) / tr A + a^2 G: the cross term has mean 0
        mean = 1.0 + a2 * g
        norm = mean * mean
        var = (4.0 * a2 * g * u / k + a2 * a2 * g * g * math.expm1(var_g)) / norm
        after = ((u * (1.0 + 2.0 * a2 * g) + 2.0 * a2 * g / k + a2 * a2 * g * g * u_branch) / norm,
                 (delta + 4.0 * a2 * g * u / k + 2.0 * a2 * g / k + a2 * a2 * g * g * delta_branch) / norm)
        return mean, math.log(mean) - var / 2.0, var, tuple(min(m, 1.0) for m in after)

    estimated = any(s.estimated for s in inner)
    return out, [Step(backward, measured=True, estimated=estimated, label=layer.label())]


def _chain(steps, moments):
    """Compose ``steps`` (forward order) backward from ``(u, delta)``: gain, E log, Var log, (u, delta)."""
    gain, log_gain, var = 1.0, 0.0, 0.0
    for step in reversed(steps):
        g, log_g, v, moments = step.backward(moments)
        gain, log_gain, var = gain * g, log_gain + log_g, var + v
    return gain, log_gain, var, moments


def _own_map(layer, signal, context):
    """The layer's own ``theory_map``: what it says of its output and its gain."""
    who = f"{context.owner}: {layer.label()}.theory_map"
    answer = layer.theory_map(signal.width, signal.mean, signal.mean_sq)
    if not isinstance(answer, dict) or not {"mean", "mean_sq", "gain"} <= set(answer):
        raise TypeError(f"{who} must return a dict with mean, mean_sq and gain, got {answer!r}")
    gain, var = float(answer["gain"]), float(answer.get("log_gain_variance", 0.0))
    if not gain >= 0.0 or not var >= 0.0:
        raise ValueError(f"{who} gave gain {gain} and log_gain_variance {var}; both must be >= 0")
    width = int(answer.get("width", signal.width))

    def backward(moments):
        return gain, (math.log(gain) if gain > 0 else -math.inf) - var / 2.0, var, moments

    out = Signal(width, float(answer["mean"]), float(answer["mean_sq"]), signal.spread)
    return out, [Step(backward, measured=_holds_linear(layer), label=layer.label())]


def _estimated_map(layer, signal, context):
    """Estimate the layer's map from its own forward and backward on Gaussian inputs (seeded)."""
    rng = context.rng
    x = signal.mean + math.sqrt(signal.variance) * rng.standard_normal((ESTIMATE_SAMPLES, signal.width))
    # a user's backward may accumulate into .grad whatever requires_grad says: keep each as it was
    flags = [(p, p.requires_grad, p.grad) for p in layer.parameters()]
    modes = [(m, m.training) for m in layer.modules()]
    buffers = [(b, b.copy()) for _, b in layer.named_buffers()]
    try:  # as the probe runs it: training mode, no parameter gradients, buffers left as they were
        for p, _, _ in flags:
            p.requires_grad = False
            p.grad = None if p.grad is None else p.grad.copy()
        layer.train()
        with np.errstate(all="ignore"):
            y = np.asarray(layer.forward(x), dtype=np.float64)
            dy = rng.standard_normal(y.shape)
            dx = np.asarray(layer.backward(dy), dtype=np.float64)
    except Exception as e:  # whatever the user's layer raises, the reason is that it does not run
        raise ValueError(f"{context.owner}: no rule for {type(layer).__name__} layers ({layer.label()}), and "
                         f"its map cannot be estimated: on Gaussian inputs of shape {x.shape} it raised "
                         f"{type(e).__name__}: {e}") from e
    finally:
        for p, flag, grad in flags:
            p.requires_grad, p.grad = flag, grad
        for m, mode in modes:
            m.training = mode
        for b, saved in buffers:
            b[...] = saved
    if y.ndim != 2 or dx.shape != x.shape or not (np.all(np.isfinite(y)) and np.all(np.isfinite(dx))):
        raise ValueError(f"{context.owner}: {layer.label()}: no rule, and its forward and backward on "
                         f"Gaussian inputs of shape {x.shape} gave {'no finite' if y.ndim == 2 else 'no 2-D'} output "
                         "to estimate a map from")
    # per input: the gain of a random cotangent's squared norm
    gains = np.sum(dx * dx, axis=1) / np.sum(dy * dy, axis=1)
    gain = float(np.mean(gains))
    # the spread between inputs, less the chi-square noise of the random cotangent itself
    var = max(float(np.var(np.log(gains))) - 2.0 * 2.0 / y.shape[1], 0.0) if gain > 0 else 0.0

    def backward(moments):
        # a random cotangent has delta = 3 / width; one spread over more rows averages the spread down
        share = min(1.0, moments[1] * y.shape[1] / 3.0)
        return gain, math.log(gain) - share * var / 2.0 if gain > 0 else -math.inf, share * var, moments

    out = Signal(y.shape[1], float(np.mean(y)), float(np.mean(y * y)), signal.spread)
    return out, [Step(backward, measured=_holds_linear(layer), estimated=True, label=layer.label())]


def _holds_linear(layer):
    return any(isinstance(m, tinynet.Linear) for m in layer.modules())


def _refuse_batch_norm(layer, signal, context):
    raise ValueError(f"{context.owner}: {layer.label()} inside a network of other blocks: the theory "
                     "predicts BatchNorm1d only in a stack of identical Linear -> BatchNorm1d -> "
                     "activation blocks (docs/theory.md, part 4d)")


#: One map per layer kind, ``map(layer, signal, context) -> (signal, steps)``, found through the MRO.
MAPS = {
    tinynet.Linear: _linear_map,
    tinynet.Activation: _activation_map,
    tinynet.Dropout: _dropout_map,
    tinynet.LayerNorm: _layer_norm_map,
    tinynet.BatchNorm1d: _refuse_batch_norm,
    tinynet.Sequential: _sequential_map,
    tinynet.Residual: _residual_map,
}


class _Context:
    def __init__(self, owner, rng):
        self.owner, self.rng = owner, rng

    def map(self, layer, signal):
        if callable(getattr(layer, "theory_map", None)):
            return _own_map(layer, signal, self)
        for cls in type(layer).__mro__:
            if cls in MAPS:
                return MAPS[cls](layer, signal, self)
        return _estimated_map(layer, signal, self)


def compose(net, signal, owner="compose", rng=None):
    """The forward map of ``net`` from ``signal``: (the output's Signal, the Steps in forward order)."""
    return _Context(owner, np.random.default_rng(0) if rng is None else rng).map(net, signal)


def backward_profile(steps, out_features):
    """Per measured step, backward order: log10 of the mean-field and typical norms, and the sd.

    Also the labels of the measured steps and whether any map was estimated.
    """
    moments = (1.0 / out_features, 1.0 / out_features)
    start = 0.5 * math.log10(out_features)
    gain_log, typical_log, var = 0.0, 0.0, 0.0
    labels, mean_field, typical, sd = [], [], [], []
    for step in reversed(steps):
        g, log_g, v, moments = step.backward(moments)
        gain_log += math.log(g) if g > 0 else -math.inf
        typical_log += log_g
        var += v
        if step.measured:
            labels.append(step.label)
            mean_field.append(start + gain_log / (2.0 * math.log(10.0)))
            typical.append(start + typical_log / (2.0 * math.log(10.0)))
            sd.append(math.sqrt(var) / (2.0 * math.log(10.0)))
    estimated = any(s.estimated for s in steps)
    return labels, np.array(mean_field), np.array(typical), np.array(sd), start, estimated


def predict_composed(owner, net, x, rng, refused):
    """``predict_network`` for a network the exact walk ``refused`` (its ValueError): a ``GradientProfile``."""
    if any(isinstance(m, tinynet.BatchNorm1d) for m in net.modules()):
        raise refused  # its reason is the one that holds: no composed rule for a batch
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"{owner}: rng must be a numpy.random.Generator, got {rng!r}")
    width = _in_features(net)
    if width is None and x is None:
        raise ValueError(f"{owner}: {net.label()} does not say how many features it takes; give x")
    x = np.ones(width) if x is None else np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 1 or (width is not None and x.shape != (width,)):
        raise ValueError(f"{owner}: x must be one input of shape ({width},) or (1, {width}), got {x.shape}")
    signal, steps = compose(net, Signal(x.shape[0], float(np.mean(x)), float(np.mean(x * x))), owner, rng)
    labels, mean_field, typical, sd, start, estimated = backward_profile(steps, signal.width)
    if not labels:
        raise ValueError(f"{owner}: {net.label()} has no Linear layer; there is nothing to predict")
    return GradientProfile(tuple(labels), typical, start, "estimated" if estimated else "predicted",
                           per_layer_grad_norm_log10_sd=sd, mean_field_per_layer_grad_norm_log10=mean_field)


def _in_features(net):
    """The first Linear's in_features, if the network starts (after elementwise layers) with one."""
    for m in net.modules():
        if isinstance(m, tinynet.Linear):
            return m.in_features
    return None
