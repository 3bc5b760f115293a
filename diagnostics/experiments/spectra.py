"""``spectrum``: how evenly J stretches, measured and predicted."""

import math
from dataclasses import dataclass

import numpy as np

import tinynet as tn

from .. import theory
from ..blas import one_blas_thread
from ..spectrum import NonFiniteNetwork, jacobian_spectrum, largest_log10_normalized_variance
from .gradient import ProbeConfig


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


@one_blas_thread
def measure_spectra(config, seed=0, progress=True):
    """Build ``config.repeats`` networks from ``default_rng(seed)`` and measure J's singular values.

    ``progress``: a bar over the networks (``tinynet.progress_bar``); False: silent.
    """
    rng = np.random.default_rng(seed)
    spectra, failures = [], []
    for i in tn.progress_bar(range(config.repeats), desc="spectra", enabled=progress, unit="network"):
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
        init = config.initializer
        sigma_w = theory.sigma_w_from_init(init, fan_in=config.width)
        p = theory.jacobian_spectrum(config.activation, sigma_w, config.depth, sigma_b=config.bias_std or 0.0,
                                     weights=theory.weights_kind(init))
        predicted = math.log10(p.normalized_variance) if p.normalized_variance > 0 else -math.inf
    except (ValueError, TypeError, OverflowError) as e:
        note = str(e)
    return SpectrumResult(config, spectra, failures, float(np.median(values)) if values else None,
                          predicted, note, largest_log10_normalized_variance(config.width))
