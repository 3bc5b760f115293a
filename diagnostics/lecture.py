"""The lecture's synthetic-gradient experiment, sweeps of it, and the whole lecture.

See ``../shared/lecture/EXPERIMENTS.md`` for what the lecture computed. A
configuration is plain data (activation name, initializer spec), so sweeps
can run in other processes; each configuration draws from its own child of
``numpy.random.SeedSequence(seed)``, so results do not depend on how many
workers run them, or in what order.
"""

import math
from dataclasses import asdict, dataclass, field

import numpy as np

import tinynet as tn

from .probes import gradient_probe, matrix_product
from .table import Table, float_from_log10, format_log10

#: The gradient is *stable* when its norm changes by less than this many
#: decades (a factor of 10) from the network's output to its input;
#: below that it is *vanishing*, above it *exploding*.
STABLE_DECADES = 1.0

MATRIX_SCALES = (0.5, 0.7)
LECTURE_SCALES = (0.1, 0.2, 0.4, 0.8)


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

    def build(self, rng):
        """A fresh network of this configuration, weights drawn from ``rng``."""
        bias = self.bias_std is not None
        return tn.MLP([self.width] * (self.depth + 1), tn.activation(self.activation),
                      weight_init=tn.init.from_spec(self.init), bias=bias,
                      bias_init=tn.init.Normal(std=self.bias_std) if bias else None,
                      rng=rng, dtype=np.dtype(self.dtype))

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


@dataclass
class ExperimentResult:
    """The lecture's statistic for one configuration, averaged over repeats as it did.

    ``log10_mean_abs_grad`` is log10 of the mean over repeats of mean |J|;
    ``per_layer_grad_norm_log10[i]`` is log10 of the mean over repeats of
    ||gradient||_F after the i-th last layer.
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
    extra: dict = field(default_factory=dict)

    @property
    def mean_abs_grad(self):
        """mean |J| as a float; None where it lies beyond float64's range."""
        return float_from_log10(self.log10_mean_abs_grad)

    def to_json(self):
        d = asdict(self)
        d.pop("extra")
        d["mean_abs_grad"] = self.mean_abs_grad
        d.update(self.extra)
        return _json_safe(d)


def log10_mean(log10_values):
    """log10 of the mean of ``10 ** v``, computed without leaving float range."""
    v = np.asarray(log10_values, dtype=np.float64)
    top = np.max(v, axis=0)
    if np.all(np.isneginf(top)):
        return top
    safe_top = np.where(np.isfinite(top), top, 0.0)
    return safe_top + np.log10(np.mean(10.0 ** (v - safe_top), axis=0))


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
    """What diagnostics.theory predicts for ``config`` (input of ones), as ``ExperimentResult.extra``.

    Empty, with a ``prediction_note``, where the theory does not apply
    (an initializer with a non-zero mean, for one) or its numbers leave
    float range. Orthogonal weights are predicted as orthogonal.
    """
    from . import theory

    try:
        sigma_w = theory.sigma_w_from_init(config.init, fan_in=config.width)
        p = theory.predict(config.activation, sigma_w, config.depth, config.width,
                           sigma_b=config.bias_std or 0.0, input_sq=1.0,
                           weights=theory.weights_kind(config.init))
    except (ValueError, TypeError, OverflowError) as e:
        return {"prediction_note": str(e)}
    return {
        "sigma_w": sigma_w,
        "predicted_log10_mean_abs_grad": float(p.log10_mean_abs_grad),
        "typical_log10_mean_abs_grad": float(p.typical_log10_mean_abs_grad),
        "predicted_per_layer_grad_norm_log10": [float(v) for v in p.per_layer_grad_norm_log10],
        "typical_per_layer_grad_norm_log10": [float(v) for v in p.typical_per_layer_grad_norm_log10],
        "regime": p.regime,
        "chi_1": float(p.chi_fixed_point),
    }


def synthetic_gradient(config, rng):
    """Run ``config.repeats`` fresh networks through :func:`gradient_probe` and average.

    Each repeat after the first redraws the same network's weights in place
    (``reset_parameters``): the same numbers as building it anew from
    ``rng``, without allocating and faulting in new memory for every network.
    """
    stats, curves = [], []
    initial = None
    net = None
    for repeat in range(config.repeats):
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
            return ExperimentResult(config.activation, config.init_name, config.scale, config.depth,
                                    config.width, config.repeats, None, [], [], None, "non-finite", note,
                                    extra=predict_config(config))
        stats.append(result.log10_mean_abs_grad)
        curves.append(result.per_layer_grad_norm_log10)
        initial = result.log10_initial_norm
    curve = log10_mean(curves)
    change = float(curve[-1] - initial)
    return ExperimentResult(
        config.activation, config.init_name, config.scale, config.depth, config.width,
        config.repeats, float(log10_mean(stats)), [float(c) for c in curve],
        [float(s) for s in stats], change / config.depth, verdict(change), extra=predict_config(config))


#: n (lambda_1 - lambda_2) from which a product counts as rank one, where the
#: typical prediction of its entries holds (the lecture's k = 4, n = 100 has 19).
RANK_ONE_MARGIN = 5.0


def _run_task(task):
    kind, payload, seed = task
    rng = np.random.default_rng(seed)
    if kind == "matrices":
        scale, k, n, dtype = payload
        result = matrix_product(scale, k=k, n=n, rng=rng, dtype=np.dtype(dtype))
        from .theory import predict_random_product

        p = predict_random_product(scale, k, n)
        # the typical value assumes the product has collapsed to rank one
        collapsed = p.rank_one_margin >= RANK_ONE_MARGIN
        result.extra = {"lyapunov_log10_per_step": p.log10_rate,
                        "measured_log10_per_step": result.measured_log10_per_step,
                        "typical_log10_mean_abs": p.typical_log10_mean_abs_entry if collapsed else None,
                        "rank_one_margin": p.rank_one_margin}
        return result
    return synthetic_gradient(payload, rng)


def run_tasks(tasks, seed, executor=None, progress=False, desc="probing"):
    """Run ``(kind, payload)`` tasks, each seeded by its own child of ``SeedSequence(seed)``.

    ``executor`` is any ``concurrent.futures.Executor`` (None: run here, in
    order). The results come back in task order and are the same whatever
    the executor.
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
    """Everything ``EXPERIMENTS.md`` computes: two matrix products and 13 gradient experiments."""

    seed: int
    dtype: str
    matrices: list
    experiments: list

    def to_json(self):
        return {
            "seed": self.seed,
            "dtype": self.dtype,
            "matrices": [matrix_json(m) for m in self.matrices],
            "experiments": [e.to_json() for e in self.experiments],
        }


def matrix_json(m):
    """The JSON record of a :class:`MatrixProductResult`."""
    return _json_safe({"scale": m.scale, "k": m.k, "n": m.n, "log10_mean_abs": m.log10_mean_abs,
                       "per_step_log10_norm": [float(v) for v in m.per_step_log10_norm], **m.extra})


def run_lecture(seed=0, dtype="float64", executor=None, progress=False, k=4, n=100):
    """Run all of the lecture's experiments with one seed."""
    configs = lecture_configs(dtype=dtype)
    tasks = [("matrices", (s, k, n, dtype)) for s in MATRIX_SCALES]
    tasks += [("gradient", c) for c in configs]
    results = run_tasks(tasks, seed, executor, progress, desc="lecture")
    nm = len(MATRIX_SCALES)
    return LectureResult(seed, str(np.dtype(dtype)), results[:nm], results[nm:])


def experiment_table(results, title=None):
    """The per-configuration table the command line prints: measured, then predicted.

    ``log10`` is the measured log10 mean |J|; ``typical`` and ``mean-field``
    are the theory's predictions of it (the value one network shows, and the
    log of the mean over networks); ``regime`` is the theory's.
    """
    columns = ["activation", "init", "scale", "mean|J|", "log10", "typical", "mean-field",
               "decades/layer", "regime", "verdict"]
    table = Table(columns, title=title,
                  formats={"log10": ".2f", "typical": ".2f", "mean-field": ".2f",
                           "decades/layer": "+.3f", "scale": "g"})
    for r in results:
        table.append({
            "activation": r.activation, "init": r.init, "scale": r.scale,
            "mean|J|": None if r.log10_mean_abs_grad is None else format_log10(r.log10_mean_abs_grad),
            "log10": r.log10_mean_abs_grad,
            "typical": r.extra.get("typical_log10_mean_abs_grad"),
            "mean-field": r.extra.get("predicted_log10_mean_abs_grad"),
            "decades/layer": r.decades_per_layer, "regime": r.extra.get("regime"),
            "verdict": r.verdict if r.nonfinite is None else f"{r.verdict}: {r.nonfinite}"})
    return table


def _json_safe(obj):
    """Replace infinities and nan (not valid JSON) by None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj
