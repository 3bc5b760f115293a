"""The remedies experiment: the lecture's failing networks, each with each remedy, probed and predicted.

The networks (docs/remedies.md) are the lecture's MLPs of ``depth``
layers of ``width`` units whose gradient fails: ReLU at weight std 0.1
(vanishing) and 0.4 (exploding), the sigmoid at 0.1. Each is built as it
is ("none") and with each remedy: the critical initialization (He's for
ReLU), residual blocks ``Residual(Sequential(Linear, activation), alpha)``
with alpha 1 and 1/sqrt(depth), ``Linear -> LayerNorm -> activation`` and
``Linear -> BatchNorm1d -> activation`` at each batch size. Every
configuration is probed on ``repeats`` fresh networks (BatchNorm ones on a
N(0, I) batch, by ``batch_gradient_probe``) and predicted by
``theory.predict_network`` from the same architecture. Each configuration
draws from its own child of ``SeedSequence(seed)``. Nothing here prints:
see ``diagnostics.report``.
"""

import math
from dataclasses import dataclass

import numpy as np

import tinynet as tn

from .. import theory
from ..blas import one_blas_thread
from ..numerics import finite_or_none
from ..probes import batch_gradient_probe, gradient_probe
from ..profile import GradientProfile
from ..report import remedies_text
from .gradient import verdict

#: The lecture's failing networks: (activation, weight std).
NETWORKS = (("relu", 0.1), ("relu", 0.4), ("sigmoid", 0.1))

#: The remedies, in the table's order; "batch_norm" once per batch size.
REMEDIES = ("none", "critical_init", "residual", "residual_scaled", "layer_norm", "batch_norm")

BATCH_SIZES = (8, 64)

#: Gaussian cotangents per BatchNorm network (docs/remedies.md: at B = 64, 2 are within 0.02 decades).
COTANGENTS = 2

#: A prediction agrees with its measurement when they differ by at most this many decades.
AGREEMENT_DECADES = 0.5


@dataclass(frozen=True)
class RemedyConfig:
    """One failing network with one remedy: names and numbers only, so it can run in another process."""

    activation: str
    scale: float  # the failing network's weight std
    remedy: str  # one of REMEDIES
    depth: int = 50
    width: int = 100
    repeats: int = 10
    dtype: str = "float64"
    batch_size: int = None  # BatchNorm's batch; None for the others
    cotangents: int = COTANGENTS  # per BatchNorm network

    @property
    def network(self):
        """The failing network's name, e.g. ``"relu 0.1"``."""
        return f"{self.activation} {self.scale:g}"

    @property
    def alpha(self):
        """The residual branch's scale: 1, or 1/sqrt(depth)."""
        return 1.0 if self.remedy == "residual" else 1.0 / math.sqrt(self.depth)

    @property
    def sigma_w(self):
        """The weights' sigma_w = std * sqrt(width): the critical one for ``critical_init``."""
        if self.remedy == "critical_init":
            return theory.critical_sigma_w(self.activation)
        return self.scale * math.sqrt(self.width)

    @property
    def label(self):
        """The remedy as the table names it."""
        if self.remedy == "critical_init":
            return f"critical init, sigma_w = {self.sigma_w:.4g}"
        if self.remedy == "residual":
            return "Residual, alpha = 1"
        if self.remedy == "residual_scaled":
            return f"Residual, alpha = 1/sqrt({self.depth})"
        if self.remedy == "layer_norm":
            return "LayerNorm"
        if self.remedy == "batch_norm":
            return f"BatchNorm, B = {self.batch_size}"
        return "none"

    def build(self, rng):
        """A fresh network of this configuration, weights drawn from ``rng``."""
        k, dtype = self.width, np.dtype(self.dtype)
        init = tn.init.Normal(std=self.sigma_w / math.sqrt(k))
        blocks = []
        for _ in range(self.depth):
            linear = tn.Linear(k, k, bias=False, weight_init=init, rng=rng, dtype=dtype)
            act = tn.activation(self.activation)
            if self.remedy in ("residual", "residual_scaled"):
                blocks.append(tn.Residual(tn.Sequential(linear, act), alpha=self.alpha))
            elif self.remedy == "layer_norm":
                blocks += [linear, tn.LayerNorm(k, dtype=dtype), act]
            elif self.remedy == "batch_norm":
                blocks += [linear, tn.BatchNorm1d(k, dtype=dtype), act]
            else:
                blocks += [linear, act]
        return tn.Sequential(*blocks)


def remedy_configs(depth=50, width=100, repeats=10, dtype="float64", batch_sizes=BATCH_SIZES):
    """Every failing network with every remedy, in the table's order."""
    kw = dict(depth=depth, width=width, repeats=repeats, dtype=dtype)
    configs = []
    for act, scale in NETWORKS:
        for remedy in REMEDIES:
            sizes = batch_sizes if remedy == "batch_norm" else (None,)
            configs += [RemedyConfig(act, scale, remedy, batch_size=b, **kw) for b in sizes]
    return configs


@dataclass
class RemedyResult:
    """One configuration probed on ``repeats`` networks, beside the theory's prediction.

    ``measured_changes``: per network, the decades by which the gradient
    norm changes from output to input (-inf where it became exactly 0,
    None where a pass was not finite); ``measured_log10_change`` their
    median (None if any is None), ``measured_sd`` their standard deviation
    (None unless all are finite); ``measured_per_block``: the median change after each block,
    backward order. ``prediction``: the theory's ``GradientProfile`` for
    the architecture, None with the reason in ``prediction_note`` (which
    otherwise holds the prediction's own note, if any); from it
    ``predicted_log10_change``, the typical network's change (mean-field
    where no finite-width theory exists, ``prediction_kind`` says which),
    ``predicted_sd``, the spread between networks where derived, and
    ``predicted_per_block``. ``input``: what was probed, ``"ones"`` or
    ``"N(0, I) batch of B"``.
    """

    config: RemedyConfig
    input: str
    measured_changes: list
    measured_log10_change: float
    measured_sd: float
    measured_per_block: list
    prediction: GradientProfile = None
    prediction_note: str = None

    @property
    def predicted_log10_change(self):
        """The predicted change from output to input, in decades; None without a prediction."""
        return None if self.prediction is None else finite_or_none(self.prediction.change_log10)

    @property
    def predicted_sd(self):
        """The predicted spread of that change between networks; None where not derived."""
        return None if self.prediction is None else finite_or_none(self.prediction.change_log10_sd)

    @property
    def predicted_per_block(self):
        """The predicted change after each block, backward order; None without a prediction."""
        if self.prediction is None:
            return None
        return [finite_or_none(c - self.prediction.log10_initial_norm)
                for c in self.prediction.per_layer_grad_norm_log10]

    @property
    def prediction_kind(self):
        """``"typical"`` or ``"mean-field"``: which network the prediction is of; None without one."""
        return None if self.prediction is None else self.prediction.statistic

    @property
    def verdict(self):
        """vanishing, stable or exploding, from the measured change."""
        return verdict(self.measured_log10_change)

    @property
    def agrees(self):
        """True if the prediction lies within AGREEMENT_DECADES of the measurement (None: nothing to compare)."""
        if self.predicted_log10_change is None or self.measured_log10_change is None:
            return None
        return abs(self.predicted_log10_change - self.measured_log10_change) <= AGREEMENT_DECADES

    def __repr__(self):
        def decades(value):
            return "-" if value is None else f"{value:+.2f}"
        return (f"RemedyResult({self.config.network}, {self.config.label}: measured "
                f"{decades(self.measured_log10_change)}, predicted {decades(self.predicted_log10_change)} "
                f"decades, {self.verdict})")


class RemedyResults(list):
    """What :func:`run_remedies` returns: the :class:`RemedyResult` list, with the seed it ran from.

    A list, so it indexes and iterates as one; in Jupyter it shows as the
    table ``remedies`` prints.
    """

    def __init__(self, results, seed):
        super().__init__(results)
        self.seed = seed

    def __repr__(self):
        verdicts = [r.verdict for r in self]
        counts = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
        return f"RemedyResults({len(self)} networks and remedies, seed {self.seed}: {counts})"

    def _repr_html_(self):
        """The table ``remedies`` prints, in HTML."""
        return remedies_text(self, self.seed).to_html()


def predict_remedy(config, net):
    """``(GradientProfile or None, note)``: the theory's prediction for ``net``, or None and why not."""
    try:
        p = theory.predict_network(net, batch_size=config.batch_size)
    except (ValueError, OverflowError) as e:
        return None, str(e)
    if finite_or_none(p.change_log10) is None:
        return None, "the prediction leaves float range"
    return p, p.note


def run_remedy(config, rng):
    """Probe ``config.repeats`` fresh networks of ``config`` and predict them: a :class:`RemedyResult`."""
    changes, curves, prediction = [], [], None
    for _ in range(config.repeats):
        net = config.build(rng)
        if prediction is None:  # from the initializers, the same for every network
            prediction = predict_remedy(config, net)
        if config.batch_size is None:
            r = gradient_probe(net)
        else:
            r = batch_gradient_probe(net, batch_size=config.batch_size, cotangents=config.cotangents, rng=rng)
        if r.finite:
            curves.append(np.asarray(r.per_layer_grad_norm_log10) - r.log10_initial_norm)
        # -inf where the gradient became exactly 0 (all of it lost); None where a pass was not finite
        changes.append(r.change_log10)
    complete = None not in changes
    finite = [c for c in changes if c is not None and math.isfinite(c)]
    with np.errstate(invalid="ignore"):  # a gradient of exactly 0 is -inf in every later block
        per_block = [finite_or_none(v) for v in np.median(curves, axis=0)] if curves else []
    source = "ones" if config.batch_size is None else f"N(0, I) batch of {config.batch_size}"
    return RemedyResult(config, source, changes, float(np.median(changes)) if complete else None,
                        float(np.std(finite)) if complete and len(finite) == len(changes) else None,
                        per_block, *prediction)


def _run(task):
    config, seed = task
    return run_remedy(config, np.random.default_rng(seed))


@one_blas_thread
def run_remedies(configs, seed=0, executor=None, progress=True):
    """Run every :class:`RemedyConfig`, each seeded by its own child of ``SeedSequence(seed)``.

    ``executor``: any ``concurrent.futures.Executor`` (None: here, in
    order); the results are the same whatever it is. ``progress``: a bar over
    the configurations; False: silent.
    """
    tasks = list(zip(configs, np.random.SeedSequence(seed).spawn(len(configs))))
    mapped = map(_run, tasks) if executor is None else executor.map(_run, tasks)
    return RemedyResults(tn.progress_bar(mapped, total=len(tasks), desc="remedies", enabled=progress), seed)
