"""The gradient experiment: one MLP configuration, probed on fresh networks beside the theory's prediction.

A ``ProbeConfig`` is names and text forms only, so it can run in another
process; ``synthetic_gradient`` probes its networks and averages as the
lecture did, and ``predict_config`` says what ``diagnostics.theory``
expects of them.
"""

import math
from dataclasses import dataclass, field

import numpy as np

import tinynet as tn
from tinynet.checks import check_bool, check_size

from .. import theory
from ..deep import stream_probe
from ..numerics import float_from_log10, log10_mean
from ..probes import gradient_probe
from ..profile import HELD_PROFILE_RENAMED, GradientProfile, renamed_attribute

#: The gradient is *stable* when its norm changes by less than this many
#: decades (a factor of 10) from the network's output to its input;
#: below that it is *vanishing*, above it *exploding*.
STABLE_DECADES = 1.0

#: A network whose weights would take more bytes than this is probed one
#: layer at a time (``diagnostics.deep.stream_probe``): memory O(depth x
#: width) instead of O(depth x width^2). A fixed bound, not the memory the
#: machine has free, so the same command gives the same numbers everywhere
#: (the streamed network draws its weights differently). 512 MB is depth
#: 6,710 at width 100 in float64. Only the lecture's MLP (one width, the
#: activation after every layer) can be streamed; a larger network of
#: mixed widths is refused.
MAX_NETWORK_BYTES = 512 * 2**20


@dataclass(frozen=True)
class ProbeConfig:
    """One MLP to probe: the lecture's (``depth`` layers ``width -> width``) or one of mixed ``sizes``.

    ``sizes``, when given, lists the widths from the input to the output
    (at least 2, each a positive int) and sets ``depth`` to
    ``len(sizes) - 1`` and ``width`` to the one width, or None where they
    differ. ``final_linear``: no activation after the last layer. ``init``:
    a ``tinynet.init`` initializer or its text form (e.g. ``"normal:0.1"``),
    kept as text; ``initializer`` is it parsed, once.
    """

    activation: str
    init: str
    depth: int = 50
    width: int = 100
    repeats: int = 10
    bias_std: float = None  # None: no bias, as in the lecture
    dtype: str = "float64"
    max_network_bytes: int = MAX_NETWORK_BYTES
    sizes: tuple = None
    final_linear: bool = False
    initializer: tn.init.Initializer = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        owner = "ProbeConfig"
        check_bool(owner, "final_linear", self.final_linear)
        if isinstance(self.init, tn.init.Initializer):
            initializer = self.init
            object.__setattr__(self, "init", initializer.to_spec())
        elif isinstance(self.init, str):
            initializer = tn.init.from_spec(self.init)
        else:
            raise TypeError(f"{owner}: init must be a tinynet.init initializer or its text form "
                            f"(e.g. 'normal:0.1'), got {self.init!r}")
        object.__setattr__(self, "initializer", initializer)
        if self.sizes is not None:
            sizes = check_sizes(owner, "sizes", self.sizes)
            object.__setattr__(self, "sizes", sizes)
            object.__setattr__(self, "depth", len(sizes) - 1)
            object.__setattr__(self, "width", sizes[0] if len(set(sizes)) == 1 else None)
        if not self.square and self.network_bytes > self.max_network_bytes:
            raise ValueError(f"{owner}: an MLP of sizes {_shape(self.layer_sizes)} would take "
                             f"{self.network_bytes / 2**20:,.0f} MB to probe, more than "
                             f"{self.max_network_bytes / 2**20:,.0f} MB; only an MLP of one width with the "
                             "activation after every layer can be probed one layer at a time")

    @property
    def layer_sizes(self):
        """The widths from the input to the output, ``depth + 1`` of them."""
        return self.sizes if self.sizes is not None else (self.width,) * (self.depth + 1)

    @property
    def square(self):
        """True for the lecture's MLP: every layer ``width -> width``, the activation after each."""
        return self.width is not None and not self.final_linear

    @property
    def network_bytes(self):
        """The weights' bytes; for mixed widths also the probe's largest backward batch (out x width)."""
        sizes = self.layer_sizes
        count = sum(a * b for a, b in zip(sizes, sizes[1:]))
        if not self.square:
            count += sizes[-1] * max(sizes)
        return count * np.dtype(self.dtype).itemsize

    def build(self, rng):
        """A fresh network of this configuration, weights drawn from ``rng``."""
        bias = self.bias_std is not None
        try:
            with np.errstate(over="raise"):  # a draw beyond the dtype's range is a bad option, not inf
                return tn.MLP(list(self.layer_sizes), tn.activation(self.activation),
                              weight_init=self.initializer, bias=bias,
                              bias_init=tn.init.Normal(std=self.bias_std) if bias else None,
                              final_activation=not self.final_linear, rng=rng, dtype=np.dtype(self.dtype))
        except FloatingPointError:
            biases = "" if self.bias_std is None else f" or biases of std {self.bias_std:g}"
            raise ValueError(f"weights {self.initializer!r}{biases} overflow {self.dtype} "
                             f"(largest {float(np.finfo(self.dtype).max):.3g})") from None

    @property
    def streamed(self):
        """True when the lecture's MLP would not fit in ``max_network_bytes``: probe it layer by layer."""
        return self.square and self.network_bytes > self.max_network_bytes

    @property
    def init_name(self):
        """The initializer's ``from_spec`` name, e.g. ``"normal"``."""
        return self.initializer.name

    @property
    def scale(self):
        """The weight std for ``normal`` specs (the lecture's *scale*), else None."""
        init = self.initializer
        # as given, not sqrt(variance): the square of a std beyond 1e154 overflows
        return float(init.get_config()["std"]) if isinstance(init, tn.init.Normal) else None


def check_sizes(owner, name, value):
    """``value`` as a tuple of at least 2 positive ints (layer widths, input first), else an error."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{owner}: {name} must be a list of layer widths, input first, got {value!r}")
    if len(value) < 2:
        raise ValueError(f"{owner}: {name} needs at least 2 widths (the input's and the output's), "
                         f"got {list(value)}")
    return tuple(check_size(owner, f"{name}[{i}]", v) for i, v in enumerate(value))


def _shape(sizes):
    return " -> ".join(map(str, sizes))


@dataclass(frozen=True)
class ConfigPrediction:
    """What ``diagnostics.theory`` predicts for one ``ProbeConfig`` (input of ones): its profile and regime.

    ``profile``: the predicted ``GradientProfile`` (typical and mean-field
    log10 norms per layer, backward order, the spread between networks,
    log10 mean |J|). ``sigma_w``, ``regime``, ``chi_1``, ``depth_scale``:
    of the layers with the activation, None (with ``regime_note``) where
    they have no single sigma_w and sigma_b.
    """

    profile: GradientProfile
    sigma_w: float
    regime: str
    chi_1: float
    depth_scale: float
    regime_note: str = None

    def __getattr__(self, name):
        # the curve's fields before ``profile`` held them, for one release
        return renamed_attribute(self, name, HELD_PROFILE_RENAMED)


@dataclass
class ExperimentResult:
    """The lecture's statistic for one configuration, averaged over repeats as it did.

    ``log10_mean_abs_grad`` is log10 of the mean over repeats of mean |J|;
    ``per_layer_grad_norm_log10[i]`` is log10 of the mean over repeats of
    ||gradient||_F after the i-th last layer. ``prediction`` is the
    theory's, or None with the reason in ``prediction_note``. ``sizes``:
    the widths, input first, of an MLP that is not the lecture's (mixed
    widths, or ``final_linear``), else None.
    """

    activation: str
    init: str
    scale: float
    depth: int
    width: int
    repeats: int
    log10_mean_abs_grad: float
    per_layer_grad_norm_log10: list
    repeat_log10_mean_abs_grad: list
    decades_per_layer: float
    verdict: str
    nonfinite: str = None
    prediction: ConfigPrediction = None
    prediction_note: str = None
    streamed: bool = False
    sizes: tuple = None
    final_linear: bool = False

    @property
    def mean_abs_grad(self):
        """mean |J| as a float; None where it lies beyond float64's range."""
        return float_from_log10(self.log10_mean_abs_grad)


def verdict(decades):
    """``vanishing``, ``stable`` or ``exploding`` for a total change of ``decades``."""
    if decades is None or math.isnan(decades):
        return "non-finite"
    if decades < -STABLE_DECADES:
        return "vanishing"
    if decades > STABLE_DECADES:
        return "exploding"
    return "stable"


def predict_config(config):
    """``(ConfigPrediction or None, note)``: the theory's prediction for ``config``, or why there is none.

    None where the theory does not apply (an initializer with a non-zero
    mean, for one) or its numbers leave float range. Orthogonal weights
    are predicted as orthogonal. The lecture's MLP is predicted by
    ``theory.predict``, any other by ``theory.predict_network``.
    """
    try:
        if config.square:
            return _predict_square(config), None
        return _predict_mixed(config), None
    except (ValueError, TypeError, OverflowError) as e:
        return None, str(e)


def _predict_square(config):
    sigma_w = theory.sigma_w_from_init(config.initializer, fan_in=config.width)
    p = theory.predict(config.activation, sigma_w, config.depth, config.width, sigma_b=config.bias_std or 0.0,
                       input_sq=1.0, weights=theory.weights_kind(config.initializer))
    return ConfigPrediction(p.profile, sigma_w=sigma_w, regime=p.regime, chi_1=float(p.chi_fixed_point),
                            depth_scale=float(p.depth_scale))


def _predict_mixed(config):
    # the prediction reads each layer's initializers, not the values drawn
    net = config.build(np.random.default_rng(0))
    profile = theory.predict_network(net)
    # the regime is a property of a deep stack of like layers: those with the activation
    linears = [m for m in net.modules() if isinstance(m, tn.Linear)]
    hidden = linears[:-1] if config.final_linear else linears
    sigma_ws = np.array([theory.sigma_w_from_init(m.weight_init, m.in_features, m.out_features) for m in hidden])
    sigma_w, fixed, note = None, None, None
    if not len(sigma_ws):
        note = "no layer has the activation"
    elif np.ptp(sigma_ws) > 1e-12 * sigma_ws.max():
        note = ("the layers with the activation have different sigma_w (" + ", ".join(f"{v:.4g}" for v in sigma_ws)
                + "), so no single regime")
    else:
        sigma_w = float(sigma_ws[0])
        fixed = theory.regime(config.activation, sigma_w, config.bias_std or 0.0)
    return ConfigPrediction(
        profile, sigma_w=sigma_w, regime=None if fixed is None else fixed.name,
        chi_1=None if fixed is None else float(fixed.chi),
        depth_scale=None if fixed is None else float(fixed.depth_scale), regime_note=note)


def synthetic_gradient(config, rng, progress=True):
    """Probe ``config.repeats`` fresh networks and average as the lecture did.

    Each repeat after the first redraws the same network's weights in place
    (``reset_parameters``): the same numbers as building it anew from
    ``rng``, without allocating and faulting in new memory for every
    network. A network too large to hold (``config.streamed``) is probed
    one layer at a time instead. ``progress``: a bar over the repeats
    (``tinynet.progress_bar``); False: silent.
    """
    prediction, note = predict_config(config)
    common = dict(activation=config.activation, init=config.init_name, scale=config.scale,
                  depth=config.depth, width=config.width, repeats=config.repeats,
                  prediction=prediction, prediction_note=note, streamed=config.streamed,
                  sizes=None if config.square else config.layer_sizes, final_linear=config.final_linear)
    stats, curves = [], []
    initial = None
    net = None
    for repeat in tn.progress_bar(range(config.repeats), desc="probing", enabled=progress, unit="network"):
        if config.streamed:
            bias = None if config.bias_std is None else tn.init.Normal(std=config.bias_std)
            result = stream_probe(config.activation, config.initializer, config.depth, config.width, rng=rng,
                                  dtype=np.dtype(config.dtype), bias_init=bias)
        else:
            if net is None:
                net = config.build(rng)
            else:
                net.reset_parameters(rng)
            result = gradient_probe(net)
        if not result.finite:
            where = result.nonfinite
            note = (f"repeat {repeat}: the {where['pass']} pass became non-finite at layer {where['layer']} "
                    f"({where['type']})")
            # the prediction does not depend on the measurement: keep it beside the failure
            return ExperimentResult(**common, log10_mean_abs_grad=None, per_layer_grad_norm_log10=[],
                                    repeat_log10_mean_abs_grad=[], decades_per_layer=None,
                                    verdict="non-finite", nonfinite=note)
        stats.append(result.log10_mean_abs_grad)
        curves.append(result.per_layer_grad_norm_log10)
        initial = result.log10_initial_norm
    curve = log10_mean(curves)
    change = float(curve[-1] - initial)
    return ExperimentResult(**common, log10_mean_abs_grad=float(log10_mean(stats)),
                            per_layer_grad_norm_log10=[float(c) for c in curve],
                            repeat_log10_mean_abs_grad=[float(s) for s in stats],
                            decades_per_layer=change / config.depth, verdict=verdict(change))
