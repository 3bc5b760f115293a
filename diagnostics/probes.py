"""Training-free probes: products of random matrices and the input-output Jacobian.

Both keep every magnitude as a log10. The maps they follow are linear in
the signal they rescale (a product of matrices; a backward pass, linear in
the incoming gradient), so a hook can divide the signal by its norm and add
the log10 of that norm to a running sum: the product after every factor,
the gradient whenever its norm strays far from 1 (``LogRescaler``). The
true value is ``mantissa * 10 ** log10_scale``, finite at any depth and in
float32.
"""

import contextlib
import math
from dataclasses import dataclass

import numpy as np

import tinynet as tn
from tinynet.checks import check_rng, check_size

from .numerics import frobenius_norm, log10_mean, to_float64
from .profile import GradientProfile
from .recorders import NonFiniteDetector

_LOG10_2 = math.log10(2.0)


def is_scale_equivariant(layer):
    """True if ``layer(a * x) == a * layer(x)`` for every a > 0.

    Then rescaling the forward signal leaves every later Jacobian unchanged,
    so the probe may rescale the forward pass too.
    """
    if isinstance(layer, tn.Linear):
        return layer.bias is None
    return isinstance(layer, tn.Activation) and layer.positively_homogeneous


# ---------------------------------------------------------------------------
# Products of random matrices
# ---------------------------------------------------------------------------

@dataclass
class MatrixProductResult:
    """The product ``Y = W_n ... W_1`` of ``n`` random ``k x k`` matrices, in log form."""

    scale: float
    k: int
    n: int
    mantissa: np.ndarray  # Y / 10**log10_scale, entries of order one
    log10_scale: float
    per_step_log10_norm: np.ndarray  # log10 ||W_i ... W_1||_F for i = 1..n
    prediction: object = None  # the theory's RandomProductPrediction, where a caller added it

    @property
    def measured_log10_per_step(self):
        """The growth rate of log10 ||Y||: the least-squares slope over the steps.

        Step 0 is the identity the product starts from (norm sqrt(k)), so a
        single step's rate is its growth from there, not ||W_1|| itself.
        """
        norms = np.concatenate([[0.5 * math.log10(self.k)], self.per_step_log10_norm])
        return float(np.polyfit(np.arange(len(norms)), norms, 1)[0])

    @property
    def log10_mean_abs(self):
        """log10 of the mean absolute entry of Y (the lecture's statistic)."""
        return math.log10(float(np.mean(np.abs(self.mantissa)))) + self.log10_scale

    @property
    def product(self):
        """Y as an ordinary float64 array; OverflowError where it leaves float range."""
        return to_float64(self.mantissa, self.log10_scale, "the product")


def matrix_product(scale, k=4, n=100, rng=None, dtype=np.float64):
    """The lecture's first experiment: ``n`` left-multiplications of ``k x k`` N(0, scale^2) matrices.

    Runs as a tinynet network of ``n`` bias-free ``Linear(k -> k)`` layers
    with ``Normal(std=scale)`` weights: forwarding the identity gives
    ``I @ W_1.T @ ... @ W_n.T``, the transpose of ``W_n ... W_1``.
    """
    if not scale > 0:
        raise ValueError(f"matrix_product: scale must be > 0, got {scale}")
    rng = np.random.default_rng() if rng is None else rng
    # W = scale * Z with Z ~ N(0, 1): the network multiplies by Z and the
    # scale joins the log10 bookkeeping, so a scale near float's limit
    # (1e308) draws no infinite weight
    net = tn.Sequential(*[tn.Linear(k, k, bias=False, weight_init=tn.init.Normal(std=1.0), rng=rng,
                                    dtype=dtype) for _ in range(n)])
    log10_step = math.log10(scale)
    log10_scale = 0.0
    per_step = []

    def rescale(layer, x, y):
        nonlocal log10_scale
        norm = frobenius_norm(y)
        log10_scale += math.log10(norm) + log10_step
        per_step.append(log10_scale)
        return y / y.dtype.type(norm)

    with tn.register_hooks(net, forward=rescale), tn.no_grad():
        out = net.forward(np.eye(k, dtype=dtype))
    return MatrixProductResult(float(scale), int(k), int(n), out.T.copy(), log10_scale,
                               np.array(per_step))


# ---------------------------------------------------------------------------
# The input-output Jacobian
# ---------------------------------------------------------------------------

def rescale_limit(dtype):
    """How many decades from 1 a signal may stray before the probe rescales it.

    A tenth or so of the float's range, so one more layer cannot carry it
    out of range unless it gains more than the rest (1e278 in float64, 1e34
    in float32, 6,500 in float16, whose largest number is 65,504).
    """
    return _RESCALE_LIMIT.get(np.dtype(dtype).itemsize, 30)


_RESCALE_LIMIT = {2: 1, 4: 4}  # float16, float32; 30 for float64 and wider


class LogRescaler:
    """Hooks that keep a signal's size as a running log10, rescaling it before it leaves float range.

    ``backward_hook`` measures the gradient leaving a layer: ``records``
    gets ``(layer name, log10 of its true norm)``. When the norm strays more
    than ``rescale_limit(dtype)`` decades from 1, the hook
    divides the gradient by it and adds its log10 to ``log10_scale``, so the
    true gradient is always ``dx * 10 ** log10_scale``. Rescaling only then,
    not after every layer, saves a pass over the gradient per layer and a
    rounding each time. The division is by the power of two nearest the
    norm: exact, and finite for a subnormal norm too, where 1 / norm is
    inf. ``nonfinite`` names the first layer whose gradient held a nan or
    inf, as :class:`~diagnostics.recorders.NonFiniteDetector` would.
    ``forward_hook`` divides the forward signal by its largest entry when
    that entry strays more than ``rescale_limit(dtype)`` decades from 1 (only
    valid for scale-equivariant networks, where it leaves every Jacobian
    unchanged).
    """

    def __init__(self, names):
        self.names = names
        self.log10_scale = 0.0
        self.records = []
        self.nonfinite = None

    def backward_hook(self, layer, dx, dy):
        norm = frobenius_norm(dx)
        result = None
        if norm == 0 or not math.isfinite(norm):
            # exactly zero stays zero (-inf); a non-finite norm cannot be rescaled
            self.log10_scale = -math.inf if norm == 0 else math.nan
            log10_norm = self.log10_scale
            if norm != 0 and self.nonfinite is None:
                self.nonfinite = {"layer": self.names[id(layer)], "type": type(layer).__name__,
                                  "pass": "backward", "input_finite": bool(np.all(np.isfinite(dy)))}
        else:
            decades = math.log10(norm)
            log10_norm = self.log10_scale + decades
            if abs(decades) > rescale_limit(dx.dtype):
                # dx / 2**exponent: its norm lands in [0.5, 1) with no rounding at all
                exponent = math.frexp(norm)[1]
                np.ldexp(dx, -exponent, out=dx)  # in place: dx is the layer's fresh output
                self.log10_scale += exponent * _LOG10_2
                result = dx
        self.records.append((self.names[id(layer)], log10_norm))
        return result

    @staticmethod
    def forward_hook(layer, x, y):
        m = float(np.abs(y).max()) if y.size else 0.0
        # only when the signal strays far from 1, as in backward_hook: in a
        # scale-equivariant network J does not depend on the forward scale
        if m > 0 and math.isfinite(m) and abs(math.log10(m)) > rescale_limit(y.dtype):
            return y / y.dtype.type(m)
        return None


def gradient_probe(net, x=None):
    """Forward one input, backward the identity: the input-output Jacobian and per-layer norms.

    ``x``: ``(in_features,)`` or ``(1, in_features)``; the default, as in the
    lecture, is a vector of ones. The backward pass starts from the identity
    (one cotangent per output), so what comes out is ``J: (out, in)``,
    row i the gradient of output i. The gradient is measured where it
    leaves each block (``measured_layers``): each Linear, or each
    ``Residual`` as a whole, whose gradient is the skip's plus the branch's.
    Backward hooks there record the norm and rescale. When every layer is
    scale-equivariant (bias-free ``Linear``, ReLU-like activations), the
    forward signal is rescaled too, which keeps it finite at any depth
    without changing J; otherwise a nan or inf in the forward pass is
    reported (``nonfinite``), not propagated; so is one in the backward pass
    (a gradient that overflows within a layer). The pass runs in training
    mode (a ``Dropout`` draws one mask, which the backward pass reuses);
    a network with ``BatchNorm1d`` needs a batch: see
    ``batch_gradient_probe``. Parameter gradients are not computed; the
    network is left as it was, modes and buffers included. Returns a
    measured ``GradientProfile``: the norms after each measured layer, log10
    mean |J| and J itself (``jacobian``), or where a pass became non-finite.
    """
    for _, m in net.named_modules():
        if isinstance(m, tn.BatchNorm1d):
            raise ValueError(f"gradient_probe: {m.label()} normalizes over a batch and one input is none; "
                             "probe the network with batch_gradient_probe(net, batch_size=...)")
    named = [(name, m) for name, m in net.named_modules() if not m.is_container]
    leaves = [m for _, m in named]
    x = _probe_input(x, [m for m in leaves if isinstance(m, tn.Linear)])
    with _probing(net):
        # rescaling after each measured block is enough: an activation
        # alone cannot carry the signal out of range before the next one
        measured = measured_layers(net)
        rescaled = measured if all(is_scale_equivariant(m) for m in leaves) else []
        y, nonfinite = _forward(net, x, rescaled)
        if nonfinite is not None:
            return not_finite(nonfinite)
        rescaler = _measured_backward(net, measured, np.eye(y.shape[1], dtype=y.dtype))
    if rescaler.nonfinite is not None:
        return not_finite(rescaler.nonfinite)
    return measured_profile(rescaler.records, 0.5 * math.log10(y.shape[1]), rescaler.dx, rescaler.log10_scale)


def measured_profile(records, log10_initial_norm, mantissa, log10_scale):
    """The ``GradientProfile`` of one probed network from its ``(layer, log10 norm)`` records and J's parts."""
    mean = float(np.mean(np.abs(mantissa)))
    log10_mean_abs = math.log10(mean) + log10_scale if mean > 0 else -math.inf
    return GradientProfile(tuple(n for n, _ in records), np.array([v for _, v in records]), log10_initial_norm,
                           "measured", log10_mean_abs_grad=log10_mean_abs, jacobian_mantissa=mantissa,
                           log10_scale=log10_scale)


def not_finite(where):
    """The empty measured ``GradientProfile`` of a pass that produced nan or inf, ``where`` naming the layer."""
    return GradientProfile((), np.array([]), float("nan"), "measured", nonfinite=where)


def batch_gradient_probe(net, x=None, batch_size=64, cotangents=2, rng=None):
    """Probe a network that couples the samples of a batch (``BatchNorm1d`` in training mode).

    Such a network maps a batch X to a batch Y; what is measured is
    ``||dY/dX||_F`` (docs/remedies.md). ``x``: the batch,
    ``(batch, in_features)``; by default ``batch_size`` rows drawn from
    N(0, I) with ``rng`` (a ``numpy.random.Generator``), mean(x**2) = 1 as
    the lecture's ones. Each of ``cotangents`` passes backpropagates a
    Gaussian cotangent G on the whole output batch, and E||G J||^2 =
    ||J||_F^2: the norms are the root mean square over the passes. The
    gradient is measured after the same blocks as ``gradient_probe``; the
    network is left as it was. Returns a measured ``GradientProfile`` with
    ``batch_size`` set (no Jacobian: it is never formed).
    """
    cotangents = check_size("batch_gradient_probe", "cotangents", cotangents)
    rng = check_rng("batch_gradient_probe", "rng", rng)
    linears = [m for m in net.modules() if isinstance(m, tn.Linear)]
    if x is None:
        batch_size = check_size("batch_gradient_probe", "batch_size", batch_size)
        if not linears:
            raise ValueError("batch_gradient_probe: give x; the network has no Linear layer to size it by")
        x = rng.standard_normal((batch_size, linears[0].in_features)).astype(linears[0].dtype)
    else:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[0] < 2:
            raise ValueError(f"batch_gradient_probe: x must be a batch (batch, in_features) of at least "
                             f"2 rows, got shape {x.shape}")
    measured = measured_layers(net)
    runs = []
    with _probing(net):
        for _ in range(cotangents):
            y, nonfinite = _forward(net, x, [])
            if nonfinite is not None:
                return not_finite(nonfinite)
            rescaler = _measured_backward(net, measured, rng.standard_normal(y.shape).astype(y.dtype))
            if rescaler.nonfinite is not None:
                return not_finite(rescaler.nonfinite)
            runs.append([v for _, v in rescaler.records])
    # the root mean square over the passes, in logs: log10 sqrt(mean(10 ** (2 v)))
    norms = 0.5 * log10_mean(2.0 * np.array(runs))
    return GradientProfile(tuple(n for n, _ in rescaler.records), norms, 0.5 * math.log10(y.size), "measured",
                           batch_size=len(x))


def measured_layers(net):
    """The layers after which a probe measures the gradient, forward order: one per block.

    ``Sequential`` containers are looked through; any other layer is a unit
    (a ``Residual`` with everything inside it). The units that hold a
    ``Linear`` are measured: the lecture's "layer" is a Linear with what
    follows it (an activation, a normalization), and a residual block's
    gradient is the one leaving the whole block. A network without a Linear
    is measured after each unit with parameters, or after every unit.
    """
    units = []

    def walk(layer):
        if isinstance(layer, tn.Sequential):
            for child in layer.children():
                walk(child)
        else:
            units.append(layer)

    walk(net)
    for holds in (lambda u: any(isinstance(m, tn.Linear) for m in u.modules()),
                  lambda u: any(True for _ in u.parameters())):
        chosen = [u for u in units if holds(u)]
        if chosen:
            return chosen
    return units


@contextlib.contextmanager
def _probing(net):
    """Run ``net`` as a probe needs it: training mode (dropout masks, batch statistics), no
    parameter gradients; on leaving, every layer's mode, ``requires_grad`` and buffer (BatchNorm's
    running statistics) as they were."""
    modes = [(m, m.training) for m in net.modules()]
    flags = [(p, p.requires_grad) for p in net.parameters()]
    buffers = [(b, b.copy()) for _, b in net.named_buffers()]
    for p, _ in flags:
        p.requires_grad = False
    net.train()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad = flag
        for b, saved in buffers:
            b[...] = saved


def _measured_backward(net, measured, dy):
    """Backpropagate ``dy`` through ``net`` with a ``LogRescaler`` on each measured layer; the rescaler.

    Its ``dx`` is the gradient at the input, divided by ``10 ** log10_scale``.
    """
    rescaler = LogRescaler({id(m): name for name, m in net.named_modules()})
    # as in the forward pass: an overflow on the way (a saturated slope exp(-2|z|) at
    # |z| near the float's limit is 0, its true value) is measured, not warned about
    with tn.HandleGroup(m.register_backward_hook(rescaler.backward_hook) for m in measured), \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rescaler.dx = net.backward(dy)
    return rescaler


def _probe_input(x, linears):
    """The probe's single input row: ``x`` checked, or ones sized by the first Linear."""
    if x is None:
        if not linears:
            raise ValueError("gradient_probe: give x; the network has no Linear layer to size it by")
        return np.ones((1, linears[0].in_features), dtype=linears[0].dtype)
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] != 1:
        raise ValueError(f"gradient_probe: x must be one input, (in_features,) or (1, in_features); got {x.shape}")
    return x


def _forward(net, x, rescaled):
    """Forward ``x``, rescaling after each layer in ``rescaled`` if needed. Returns ``(y, nonfinite)``.

    Only the output is checked on the way: a nan or inf inside the network
    reaches the output (or is saturated away by an activation, whose
    derivative there is then 0, its true limit). When the output is not
    finite, the same deterministic forward runs again with a
    :class:`NonFiniteDetector` to name the layer where it began.
    """
    def run():
        hooks = tn.HandleGroup(m.register_forward_hook(LogRescaler.forward_hook) for m in rescaled)
        with hooks, np.errstate(over="ignore", invalid="ignore"):
            return net.forward(x)

    y = run()
    if np.all(np.isfinite(y)):
        return y, None
    with NonFiniteDetector(net) as detector, tn.no_grad():
        run()
    return y, detector.first
