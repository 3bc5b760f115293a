"""``critical``: which weight scale keeps the gradient, and does the probe agree."""

from dataclasses import dataclass

import numpy as np

import tinynet as tn

from .. import theory
from ..blas import one_blas_thread
from ..probes import gradient_probe
from ..profile import GradientProfile
from ..report import critical_text
from .gradient import ProbeConfig, verdict
from .lecture import LECTURE_SCALES


@dataclass
class ScaleCheck:
    """One candidate sigma_w of ``critical``: the theory's change over the depth beside the probe's."""

    label: str
    sigma_w: float
    sensitivity: tuple = None  # decades moved by sigma_w 1% lower, 1% higher
    predicted_change: float = None  # typical change of log10 ||gradient||, output to input
    predicted_sd: float = None  # how far one network strays from it: the sd between networks, decades
    measured_changes: list = None  # per network; None where its pass became non-finite
    prediction: GradientProfile = None  # the theory's at this sigma_w, depth and fan-in
    measured_per_layer: list = None  # per network, log10 ||gradient|| after each layer back; None: non-finite

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

    def __repr__(self):
        found = "; ".join(f"{c.label} sigma_w = {c.sigma_w:.4g}" + ("" if c.measured_changes is None else
                                                                    f" ({c.verdict})") for c in self.candidates)
        return (f"CriticalResult({self.activation}, sigma_b {self.sigma_b:g}, {self.depth} layers of "
                f"{self.fan_in}: {found or 'no candidate sigma_w'})")

    def _repr_html_(self):
        """The tables ``critical`` prints, in HTML."""
        return critical_text(self).to_html()


def critical_init_spec(sigma_w):
    """The initializer's text form for weights N(0, sigma_w^2 / fan_in)."""
    return f"variance_scaling:{sigma_w ** 2:.10g},fan_in,untruncated_normal"


@one_blas_thread
def check_scales(activation, bias_std=None, fan_in=100, depth=50, repeats=10, seed=0, progress=True,
                 dtype="float64"):
    """The critical and the depth-stable sigma_w of ``activation``, each probed on ``repeats`` networks.

    ``progress``: a bar over the networks probed (``tinynet.progress_bar``); False: silent. ``dtype``:
    the probed networks' floating type.
    """
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
        bar = tn.progress_bar(total=len(candidates) * repeats, desc="probing", enabled=progress, unit="network")
        seeds = np.random.SeedSequence(seed).spawn(len(candidates))
        for c, child in zip(candidates, seeds):
            p = theory.predict(act, c.sigma_w, depth, fan_in, sigma_b)
            change = theory.typical_change(act, c.sigma_w, depth, fan_in, sigma_b)
            c.predicted_change, c.predicted_sd = change, p.profile.change_log10_sd
            c.sensitivity = tuple(theory.typical_change(act, c.sigma_w * f, depth, fan_in, sigma_b) - change
                                  for f in (0.99, 1.01))
            config = ProbeConfig(act.name, critical_init_spec(c.sigma_w), depth=depth, width=fan_in,
                                 repeats=repeats, bias_std=bias_std or None, dtype=dtype)
            c.prediction = p.profile
            _measure(c, config, np.random.default_rng(child), bar)
        bar.close()
    return CriticalResult(act.name, sigma_b, fan_in, depth, repeats, candidates, missing, lecture)


def _measure(check, config, rng, bar):
    """Probe ``config.repeats`` networks: each one's change and its per-layer norms (None: non-finite)."""
    check.measured_changes, check.measured_per_layer = [], []
    for _ in range(config.repeats):
        r = gradient_probe(config.build(rng))
        check.measured_changes.append(r.change_log10)
        check.measured_per_layer.append([float(v) for v in r.per_layer_grad_norm_log10] if r.finite else None)
        bar.update(1)
