"""The experiments: what each command computes, as plain data in and typed results out.

The lecture's two experiments (a product of random matrices; the gradient
of a deep MLP at initialization, averaged over fresh networks) are
described in docs/tutorial-numerical-stability.md. Here they are
configurations (``ProbeConfig``, names and text forms only, so they can
run in other processes) and runs (``synthetic_gradient``, ``sweep``,
``run_lecture``); beside them, what ``critical``, ``spectrum`` and
``train`` compute. Every result carries the theory's prediction in typed
fields. Each configuration draws from its own child of
``numpy.random.SeedSequence(seed)``, so results do not depend on how many
workers run them, or in what order. Nothing here prints: see
``diagnostics.report``.
"""

import math
from dataclasses import dataclass

import numpy as np

import tinynet as tn

from . import theory
from .deep import stream_probe
from .monitor import TrainingMonitor
from .numerics import float_from_log10, log10_mean
from .probes import gradient_probe, matrix_product
from .spectrum import NonFiniteNetwork, jacobian_spectrum, largest_log10_normalized_variance

#: The gradient is *stable* when its norm changes by less than this many
#: decades (a factor of 10) from the network's output to its input;
#: below that it is *vanishing*, above it *exploding*.
STABLE_DECADES = 1.0

MATRIX_SCALES = (0.5, 0.7)
LECTURE_SCALES = (0.1, 0.2, 0.4, 0.8)

#: n (lambda_1 - lambda_2) from which a product counts as rank one, where the
#: typical prediction of its entries holds (the lecture's k = 4, n = 100 has 19).
RANK_ONE_MARGIN = 5.0

#: A network whose weights would take more bytes than this is probed one
#: layer at a time (``diagnostics.deep.stream_probe``): memory O(depth x
#: width) instead of O(depth x width^2). A fixed bound, not the memory the
#: machine has free, so the same command gives the same numbers everywhere
#: (the streamed network draws its weights differently). 512 MB is depth
#: 6,710 at width 100 in float64.
MAX_NETWORK_BYTES = 512 * 2**20


@dataclass(frozen=True)
class ProbeConfig:
    """One network to probe: the lecture's MLP with a given activation and initializer."""

    activation: str
    init: str  # a tinynet.init.from_spec string, e.g. "normal:0.1"
    depth: int = 50
    width: int = 100
    repeats: int = 10
    bias_std: float = None  # None: no bias, as in the lecture
    dtype: str = "float64"
    max_network_bytes: int = MAX_NETWORK_BYTES

    def build(self, rng):
        """A fresh network of this configuration, weights drawn from ``rng``."""
        bias = self.bias_std is not None
        try:
            with np.errstate(over="raise"):  # a draw beyond the dtype's range is a bad option, not inf
                return tn.MLP([self.width] * (self.depth + 1), tn.activation(self.activation),
                              weight_init=tn.init.from_spec(self.init), bias=bias,
                              bias_init=tn.init.Normal(std=self.bias_std) if bias else None,
                              final_activation=True, rng=rng, dtype=np.dtype(self.dtype))
        except FloatingPointError:
            biases = "" if self.bias_std is None else f" or biases of std {self.bias_std:g}"
            raise ValueError(f"weights {tn.init.from_spec(self.init)!r}{biases} overflow {self.dtype} "
                             f"(largest {float(np.finfo(self.dtype).max):.3g})") from None

    @property
    def streamed(self):
        """True when the whole network would not fit in ``max_network_bytes``: probe it layer by layer."""
        return self.depth * self.width ** 2 * np.dtype(self.dtype).itemsize > self.max_network_bytes

    @property
    def init_name(self):
        return tn.init.from_spec(self.init).name

    @property
    def scale(self):
        """The weight std for ``normal`` specs (the lecture's *scale*), else None."""
        init = tn.init.from_spec(self.init)
        # as given, not sqrt(variance): the square of a std beyond 1e154 overflows
        return float(init.get_config()["std"]) if init.name == "normal" else None


def lecture_configs(depth=50, width=100, repeats=10, dtype="float64"):
    """The lecture's 13 configurations, in its order."""
    kw = dict(depth=depth, width=width, repeats=repeats, dtype=dtype)
    configs = [ProbeConfig("relu", f"normal:{s}", **kw) for s in LECTURE_SCALES]
    configs.append(ProbeConfig("relu", "xavier_uniform", **kw))
    for act in ("sigmoid", "scaled_sigmoid"):
        configs += [ProbeConfig(act, f"normal:{s}", **kw) for s in LECTURE_SCALES]
    return configs


@dataclass(frozen=True)
class NetworkPrediction:
    """What ``diagnostics.theory`` predicts for one configuration (input of ones).

    ``log10_mean_abs_grad`` (mean-field: the log of the mean over infinitely
    wide networks) and ``typical_log10_mean_abs_grad`` (one network at this
    width); the same per layer, log10 of the gradient's Frobenius norm in
    backward order; ``log10_grad_norm_sd``, the spread of that log between
    networks, where the theory gives one (else None).
    """

    sigma_w: float
    log10_mean_abs_grad: float
    typical_log10_mean_abs_grad: float
    per_layer_grad_norm_log10: list
    typical_per_layer_grad_norm_log10: list
    regime: str
    chi_1: float
    depth_scale: float
    log10_grad_norm_sd: float = None


@dataclass
class ExperimentResult:
    """The lecture's statistic for one configuration, averaged over repeats as it did.

    ``log10_mean_abs_grad`` is log10 of the mean over repeats of mean |J|;
    ``per_layer_grad_norm_log10[i]`` is log10 of the mean over repeats of
    ||gradient||_F after the i-th last layer. ``prediction`` is the
    theory's, or None with the reason in ``prediction_note``.
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
    prediction: NetworkPrediction = None
    prediction_note: str = None
    streamed: bool = False

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
    """``(NetworkPrediction or None, note)``: the theory's prediction for ``config``, or why there is none.

    None where the theory does not apply (an initializer with a non-zero
    mean, for one) or its numbers leave float range. Orthogonal weights
    are predicted as orthogonal.
    """
    try:
        sigma_w = theory.sigma_w_from_init(config.init, fan_in=config.width)
        p = theory.predict(config.activation, sigma_w, config.depth, config.width,
                           sigma_b=config.bias_std or 0.0, input_sq=1.0,
                           weights=theory.weights_kind(config.init))
    except (ValueError, TypeError, OverflowError) as e:
        return None, str(e)
    return NetworkPrediction(
        sigma_w=sigma_w, log10_mean_abs_grad=float(p.log10_mean_abs_grad),
        typical_log10_mean_abs_grad=float(p.typical_log10_mean_abs_grad),
        per_layer_grad_norm_log10=[float(v) for v in p.per_layer_grad_norm_log10],
        typical_per_layer_grad_norm_log10=[float(v) for v in p.typical_per_layer_grad_norm_log10],
        regime=p.regime, chi_1=float(p.chi_fixed_point), depth_scale=float(p.depth_scale)), None


def synthetic_gradient(config, rng):
    """Probe ``config.repeats`` fresh networks and average as the lecture did.

    Each repeat after the first redraws the same network's weights in place
    (``reset_parameters``): the same numbers as building it anew from
    ``rng``, without allocating and faulting in new memory for every
    network. A network too large to hold (``config.streamed``) is probed
    one layer at a time instead.
    """
    prediction, note = predict_config(config)
    common = dict(activation=config.activation, init=config.init_name, scale=config.scale,
                  depth=config.depth, width=config.width, repeats=config.repeats,
                  prediction=prediction, prediction_note=note, streamed=config.streamed)
    stats, curves = [], []
    initial = None
    net = None
    for repeat in range(config.repeats):
        if config.streamed:
            bias = None if config.bias_std is None else tn.init.Normal(std=config.bias_std)
            result = stream_probe(config.activation, config.init, config.depth, config.width, rng=rng,
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


@dataclass(frozen=True)
class ProductPrediction:
    """What the theory predicts for a product of random matrices.

    ``lyapunov_log10_per_step``: the exact typical growth rate, decades per
    factor; ``typical_log10_mean_abs``: log10 mean |entry| of one product,
    None before the product has collapsed to rank one (``rank_one_margin``
    = n (lambda_1 - lambda_2) below ``RANK_ONE_MARGIN``), where it does not hold.
    """

    lyapunov_log10_per_step: float
    typical_log10_mean_abs: float
    rank_one_margin: float


def random_product(scale, k, n, dtype, rng):
    """``matrix_product`` with the theory's prediction in ``prediction`` (a :class:`ProductPrediction`)."""
    result = matrix_product(scale, k=k, n=n, rng=rng, dtype=np.dtype(dtype))
    p = theory.predict_random_product(scale, k, n)
    collapsed = p.rank_one_margin >= RANK_ONE_MARGIN
    result.prediction = ProductPrediction(p.log10_rate, p.typical_log10_mean_abs_entry if collapsed else None,
                                          p.rank_one_margin)
    return result


def _run_task(task):
    kind, payload, seed = task
    rng = np.random.default_rng(seed)
    if kind == "matrices":
        return random_product(*payload, rng)
    return synthetic_gradient(payload, rng)


def run_tasks(tasks, seed, executor=None, progress=False, desc="probing"):
    """Run ``(kind, payload)`` tasks, each seeded by its own child of ``SeedSequence(seed)``.

    ``kind`` is ``"gradient"`` (payload a ``ProbeConfig``) or ``"matrices"``
    (payload ``(scale, k, n, dtype)``). ``executor`` is any
    ``concurrent.futures.Executor`` (None: run here, in order). The results
    come back in task order and are the same whatever the executor.
    """
    children = np.random.SeedSequence(seed).spawn(len(tasks))
    seeded = [(kind, payload, child) for (kind, payload), child in zip(tasks, children)]
    mapped = map(_run_task, seeded) if executor is None else executor.map(_run_task, seeded)
    if progress:
        from tqdm import tqdm

        mapped = tqdm(mapped, total=len(seeded), desc=desc, disable=None, leave=False)
    return list(mapped)


def sweep(configs, seed=0, executor=None, progress=False):
    """Probe every :class:`ProbeConfig`; one :class:`ExperimentResult` each, in order."""
    return run_tasks([("gradient", c) for c in configs], seed, executor, progress)


@dataclass
class LectureResult:
    """Everything the lecture computed: two matrix products and 13 gradient experiments."""

    seed: int
    dtype: str
    matrices: list
    experiments: list


def lecture_tasks(dtype="float64", k=4, n=100):
    """The lecture's tasks for :func:`run_tasks`: its two matrix products, then its 13 networks."""
    return ([("matrices", (s, k, n, dtype)) for s in MATRIX_SCALES]
            + [("gradient", c) for c in lecture_configs(dtype=dtype)])


def run_lecture(seed=0, dtype="float64", executor=None, progress=False, k=4, n=100):
    """Run all of the lecture's experiments with one seed."""
    results = run_tasks(lecture_tasks(dtype, k, n), seed, executor, progress, desc="lecture")
    nm = len(MATRIX_SCALES)
    return LectureResult(seed, str(np.dtype(dtype)), results[:nm], results[nm:])


# ---------------------------------------------------------------------------
# critical: which weight scale keeps the gradient, and does the probe agree
# ---------------------------------------------------------------------------

@dataclass
class ScaleCheck:
    """One candidate sigma_w of ``critical``: the theory's change over the depth beside the probe's."""

    label: str
    sigma_w: float
    sensitivity: tuple = None  # decades moved by sigma_w 1% lower, 1% higher
    predicted_change: float = None  # typical change of log10 ||gradient||, output to input
    measured_changes: list = None  # per network; None where its pass became non-finite

    @property
    def measured_median(self):
        """The median of the networks' measured changes (None: none was finite)."""
        values = [c for c in self.measured_changes or [] if c is not None]
        return float(np.median(values)) if values else None

    @property
    def verdict(self):
        """:func:`verdict` of the median change."""
        return verdict(self.measured_median)

    @property
    def init_spec(self):
        """The initializer's text form for this sigma_w, to pass to ``--init``."""
        return critical_init_spec(self.sigma_w)


@dataclass
class CriticalResult:
    """What ``critical`` finds: candidate scales, why one is missing, and the lecture's scales."""

    activation: str
    sigma_b: float
    fan_in: int
    depth: int
    repeats: int
    candidates: list  # ScaleCheck
    missing: list  # messages: why there is no critical (or stable) sigma_w
    lecture_scales: list  # (scale, theory.Regime)


def critical_init_spec(sigma_w):
    """The initializer's text form for weights N(0, sigma_w^2 / fan_in)."""
    return f"variance_scaling:{sigma_w ** 2:.10g},fan_in,untruncated_normal"


def check_scales(activation, bias_std=None, fan_in=100, depth=50, repeats=10, seed=0):
    """The critical and the depth-stable sigma_w of ``activation``, each probed on ``repeats`` networks."""
    act = tn.activation(activation)
    sigma_b = bias_std or 0.0
    candidates, missing = [], []
    try:
        candidates.append(ScaleCheck("mean-field critical", theory.critical_sigma_w(act, sigma_b)))
    except theory.NoCriticalPoint as e:
        missing.append(f"{act.name}: {e}")
    if depth:
        try:
            candidates.append(ScaleCheck(f"stable at depth {depth}",
                                         theory.stable_sigma_w(act, depth, fan_in, sigma_b)))
        except theory.NoCriticalPoint as e:
            missing.append(f"{act.name}: {e}")
    lecture = [(s, theory.regime(act, theory.sigma_w_from_std(s, fan_in), sigma_b)) for s in LECTURE_SCALES]
    if depth:
        seeds = np.random.SeedSequence(seed).spawn(len(candidates))
        for c, child in zip(candidates, seeds):
            change = theory.typical_change(act, c.sigma_w, depth, fan_in, sigma_b)
            c.predicted_change = change
            c.sensitivity = tuple(theory.typical_change(act, c.sigma_w * f, depth, fan_in, sigma_b) - change
                                  for f in (0.99, 1.01))
            config = ProbeConfig(act.name, critical_init_spec(c.sigma_w), depth=depth, width=fan_in,
                                 repeats=repeats, bias_std=bias_std or None)
            c.measured_changes = _measured_changes(config, np.random.default_rng(child))
    return CriticalResult(act.name, sigma_b, fan_in, depth, repeats, candidates, missing, lecture)


def _measured_changes(config, rng):
    """Per network: decades by which the probe's gradient norm changes through it (None: non-finite)."""
    changes = []
    for _ in range(config.repeats):
        r = gradient_probe(config.build(rng))
        changes.append(float(r.log10_grad_norm - r.log10_initial_norm) if r.finite else None)
    return changes


# ---------------------------------------------------------------------------
# spectrum: how evenly J stretches, measured and predicted
# ---------------------------------------------------------------------------

@dataclass
class SpectrumResult:
    """Singular values of J for ``config.repeats`` networks, and var/mean^2 of J J^T's eigenvalues.

    ``spectra[i]`` is a ``Spectrum``, or None where network i became
    non-finite (``failures`` says where). ``log10_normalized_variance`` is
    the median over the networks where J is not zero (None if none is);
    ``predicted_log10_normalized_variance`` the theory's (None, with
    ``prediction_note``, where it has none); ``largest`` is log10(width - 1),
    the most any ``width`` values can have.
    """

    config: ProbeConfig
    spectra: list
    failures: list
    log10_normalized_variance: float
    predicted_log10_normalized_variance: float
    prediction_note: str
    largest: float


def measure_spectra(config, seed=0):
    """Build ``config.repeats`` networks from ``default_rng(seed)`` and measure J's singular values."""
    rng = np.random.default_rng(seed)
    spectra, failures = [], []
    for i in range(config.repeats):
        try:
            spectra.append(jacobian_spectrum(config.build(rng)))
        except NonFiniteNetwork as e:
            # a network that overflows is a finding about it, not a bad option
            spectra.append(None)
            failures.append(f"network {i + 1}: the {e.where['pass']} pass became non-finite at layer "
                            f"{e.where['layer']} ({e.where['type']}), so J is not defined")
    values = [s.log10_normalized_variance for s in spectra if s is not None]
    values = [v for v in values if not math.isnan(v)]  # nan: J is exactly zero
    predicted, note = None, None
    try:
        init = tn.init.from_spec(config.init)
        sigma_w = theory.sigma_w_from_init(init, fan_in=config.width)
        p = theory.jacobian_spectrum(config.activation, sigma_w, config.depth, sigma_b=config.bias_std or 0.0,
                                     weights=theory.weights_kind(init))
        predicted = math.log10(p.normalized_variance) if p.normalized_variance > 0 else -math.inf
    except (ValueError, TypeError, OverflowError) as e:
        note = str(e)
    return SpectrumResult(config, spectra, failures, float(np.median(values)) if values else None,
                          predicted, note, largest_log10_normalized_variance(config.width))


# ---------------------------------------------------------------------------
# train: the probe's verdict, then whether the network trains
# ---------------------------------------------------------------------------

#: The toy data sets of ``tn.datasets`` and their number of classes.
DATASETS = {"spirals": 3, "moons": 2, "xor": 2, "blobs": 3}


@dataclass
class TrainResult:
    """A network probed untrained, the theory's regime for its hidden layers, then its training.

    ``change`` is the decades by which the gradient norm changes from output
    to input (-inf: it vanished to exactly 0; None: non-finite, see
    ``probe.nonfinite``); ``hidden_gains`` the decades per hidden
    ``width -> width`` layer (None where the gradient was already 0);
    ``regime`` the theory's (None, with ``regime_note``, where it has none).
    ``history`` and ``monitor`` are None until :func:`train` has run.
    """

    net: object
    x: np.ndarray
    y: np.ndarray
    rng: np.random.Generator
    n_classes: int
    probe: object
    change: float
    hidden_gains: list
    regime: object
    regime_note: str
    history: object = None
    monitor: object = None
    clip_grad_norm: float = None

    @property
    def verdict(self):
        """:func:`verdict` of the untrained network's change (``vanishing`` when it fell to 0)."""
        return verdict(self.change)


def probe_before_training(activation, init, dataset="spirals", depth=2, width=64, seed=0):
    """Draw a toy data set and an MLP from ``default_rng(seed)``, and probe the MLP untrained."""
    act = tn.activation(activation)
    init = tn.init.get(init, "probe_before_training")
    rng = np.random.default_rng(seed)
    x, y = getattr(tn.datasets, dataset)(rng=rng)
    sizes = [x.shape[1]] + [width] * depth + [DATASETS[dataset]]
    net = tn.MLP(sizes, act, weight_init=init, final_activation=False, rng=rng)
    probe = gradient_probe(net)
    change, hidden = None, []
    if probe.finite:
        change = probe.log10_grad_norm - probe.log10_initial_norm
        # backward order: the output layer first, the input layer last; only the square
        # layers between them have the fan-in and the gain the theory's line is about
        with np.errstate(invalid="ignore"):  # -inf - -inf: a gradient that was already 0
            hidden = [None if math.isnan(g) else float(g) for g in probe.per_layer_gain_log10[1:depth]]
    try:
        regime, note = theory.regime(act, theory.sigma_w_from_init(init, fan_in=width)), None
    except (ValueError, TypeError, OverflowError) as e:
        regime, note = None, str(e)  # e.g. an initializer with a non-zero mean
    return TrainResult(net, x, y, rng, DATASETS[dataset], probe, change, hidden, regime, note)


def train(result, epochs=100, batch_size=32, optimizer="sgd", lr=0.01, progress=False, clip_grad_norm=None):
    """Train ``result.net`` with cross-entropy, recording it with a ``TrainingMonitor``; fills ``result``.

    ``clip_grad_norm`` (None: no clipping) is ``fit``'s max gradient norm.
    """
    net = result.net
    opt = (tn.optim.SGD(net.parameters(), lr=lr, momentum=0.9) if optimizer == "sgd"
           else tn.optim.Adam(net.parameters(), lr=lr))
    result.monitor = TrainingMonitor(net, every=10)
    # a diverging run overflows on its way to nan; fit stops there and says where,
    # so numpy's warnings along the way would only repeat it less clearly
    with np.errstate(over="ignore", invalid="ignore"):
        result.history = tn.fit(net, tn.CrossEntropyLoss(), opt, result.x, result.y, epochs=epochs,
                                batch_size=batch_size, rng=result.rng, callbacks=[result.monitor],
                                progress=progress, clip_grad_norm=clip_grad_norm)
    result.clip_grad_norm = clip_grad_norm
    return result
