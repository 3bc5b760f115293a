import math

import numpy as np
import pytest

import tinynet as tn
from diagnostics import theory
from diagnostics.probes import gradient_probe


def test_the_typical_change_is_zero_there():
    sw = theory.stable_sigma_w("relu", 50, 100)
    assert theory.typical_change("relu", sw, 50, 100) == pytest.approx(0.0, abs=1e-9)


def test_finite_width_asks_for_a_little_more_than_mean_field():
    # the typical gain per layer is below its mean at width k, so sigma_w rises above He's sqrt(2) ...
    narrow = theory.stable_sigma_w("relu", 50, 100)
    assert math.sqrt(2) < narrow < 1.45
    # ... and comes back to it as the width grows
    assert theory.stable_sigma_w("relu", 50, 10000) == pytest.approx(math.sqrt(2), abs=2e-3)


def test_the_probe_confirms_it():
    depth, width = 50, 100
    changes = {}
    for label, sw in (("critical", math.sqrt(2)), ("stable", theory.stable_sigma_w("relu", depth, width))):
        rng = np.random.default_rng(1)
        init = tn.init.VarianceScaling(scale=sw ** 2, mode="fan_in", distribution="untruncated_normal")
        measured = []
        for _ in range(20):
            net = tn.MLP([width] * (depth + 1), "relu", weight_init=init, bias=False, final_activation=True, rng=rng)
            r = gradient_probe(net)
            measured.append(r.log10_grad_norm - r.log10_initial_norm)
        changes[label] = (float(np.median(measured)), theory.typical_change("relu", sw, depth, width))
    for label, (measured, predicted) in changes.items():
        assert measured == pytest.approx(predicted, abs=0.2), label
    assert changes["critical"][1] < -0.1  # mean-field criticality is not quite enough at width 100


def test_no_solution_is_an_error():
    with pytest.raises(theory.NoCriticalPoint, match="no sigma_w in \\[0.1, 0.5\\] keeps the typical"):
        theory.stable_sigma_w("relu", 50, 100, bounds=(0.1, 0.5))
