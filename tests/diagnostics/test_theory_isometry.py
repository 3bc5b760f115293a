import math

import numpy as np
import pytest

import tinynet
from diagnostics.theory import jacobian_spectrum

DEPTH, WIDTH, SEEDS = 4, 100, 20


def matmul(a, b):
    """``a @ b`` in column blocks small enough for BLAS to run each on one thread.

    On a busy machine a threaded 100 x 100 product can take 100 times longer
    than the same product done in two halves.
    """
    block = max(1, 500_000 // (a.shape[0] * a.shape[1]))
    return np.concatenate([a @ b[:, i:i + block] for i in range(0, b.shape[1], block)], axis=1)


def jacobian(name, sigma_w, weights, seed, depth=DEPTH, width=WIDTH):
    """Input-output Jacobian of the lecture's network (input ones) with the given weights."""
    act = tinynet.activation(name)
    init = (tinynet.init.Orthogonal(gain=sigma_w) if weights == "orthogonal"
            else tinynet.init.Normal(std=sigma_w / math.sqrt(width)))
    rng = np.random.default_rng(seed)
    h, result = np.ones(width), np.eye(width)
    for _ in range(depth):
        w = init((width, width), rng)
        z = w @ h
        result = act.derivative(z)[:, None] * matmul(w, result)
        h = act.fn(z)
    return result


def measured_spectrum(name, sigma_w, weights):
    """Mean and normalized variance of the eigenvalues of J^T J, pooled over SEEDS networks."""
    first, second = [], []
    for seed in range(SEEDS):
        j = jacobian(name, sigma_w, weights, seed)
        gram = matmul(j.T, j)
        first.append(np.trace(gram) / WIDTH)
        second.append(np.sum(gram * gram) / WIDTH)
    mean = np.mean(first)
    return mean, (np.mean(second) - mean ** 2) / mean ** 2


def test_linear_orthogonal_network_is_exactly_isometric():
    spectrum = jacobian_spectrum("identity", 1.0, depth=10, weights="orthogonal")
    assert (spectrum.mean, spectrum.variance) == (1.0, 0.0)
    j = jacobian("identity", 1.0, "orthogonal", seed=0, depth=10, width=64)
    np.testing.assert_allclose(j.T @ j, np.eye(64), atol=1e-10)


@pytest.mark.parametrize("name, sigma_w, weights, spread_per_layer", [
    ("identity", 1.0, "gaussian", 1.0),        # Marchenko-Pastur adds 1 per layer
    ("relu", math.sqrt(2), "gaussian", 2.0),   # half the units off adds another 1
    ("relu", math.sqrt(2), "orthogonal", 1.0),
])
def test_normalized_variance_adds_up_over_layers(name, sigma_w, weights, spread_per_layer):
    spectrum = jacobian_spectrum(name, sigma_w, DEPTH, weights=weights)
    assert spectrum.mean == pytest.approx(1.0, rel=1e-10)
    assert spectrum.normalized_variance == pytest.approx(DEPTH * spread_per_layer, rel=1e-10)
    mean, normalized_variance = measured_spectrum(name, sigma_w, weights)
    assert mean == pytest.approx(spectrum.mean, rel=0.2)
    assert normalized_variance == pytest.approx(spectrum.normalized_variance, rel=0.15)


def test_saturating_network_spectrum_matches_simulation():
    spectrum = jacobian_spectrum("tanh", 1.2, DEPTH)
    mean, normalized_variance = measured_spectrum("tanh", 1.2, "gaussian")
    assert mean == pytest.approx(spectrum.mean, rel=0.2)
    assert normalized_variance == pytest.approx(spectrum.normalized_variance, rel=0.15)


def test_unknown_weight_distribution_is_named():
    with pytest.raises(ValueError, match="weights must be 'gaussian' or 'orthogonal'"):
        jacobian_spectrum("relu", 1.0, depth=3, weights="uniform")
