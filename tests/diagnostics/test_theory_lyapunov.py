import math

import numpy as np
import pytest

from diagnostics.theory import (
    lyapunov_exponent, lyapunov_exponent_log10, lyapunov_spectrum, predict_random_product,
)

K, STEPS, SEEDS = 4, 100, 400


def simulate(scale, k=K, steps=STEPS, seeds=SEEDS, seed=0):
    """The lecture's product, ``seeds`` copies at once, renormalized every step.

    Returns per copy: log ||Y_n||_F after steps/2 and after steps, log ||Y_n e_1||,
    and log10 mean|entries of Y_n|.
    """
    rng = np.random.default_rng(seed)
    y = np.broadcast_to(np.eye(k), (seeds, k, k)).copy()
    v = np.zeros((seeds, k, 1))
    v[:, 0] = 1.0
    log_y, log_v, log_half = np.zeros(seeds), np.zeros(seeds), None
    for step in range(1, steps + 1):
        w = rng.normal(0.0, scale, (seeds, k, k))
        y, v = w @ y, w @ v
        norm_y = np.linalg.norm(y, axis=(1, 2))
        norm_v = np.linalg.norm(v[:, :, 0], axis=1)
        log_y += np.log(norm_y)
        log_v += np.log(norm_v)
        y /= norm_y[:, None, None]
        v /= norm_v[:, None, None]
        if step == steps // 2:
            log_half = log_y.copy()
    log10_mean_abs = (log_y + np.log(np.abs(y).mean(axis=(1, 2)))) / math.log(10)
    return log_half, log_y, log_v, log10_mean_abs


def test_closed_form_uses_the_digamma_function():
    from scipy.special import digamma

    for k in (1, 2, 3, 4, 7, 100, 1000):
        assert lyapunov_exponent(0.3, k) == pytest.approx(
            math.log(0.3) + 0.5 * (math.log(2) + digamma(k / 2)), rel=1e-13, abs=1e-15)
    assert lyapunov_exponent_log10(0.3, 4) == pytest.approx(lyapunov_exponent(0.3, 4) / math.log(10))


@pytest.mark.parametrize("scale", [0.5, 0.7])
def test_simulated_growth_rates_approach_lambda_1(scale):
    log_half, log_y, log_v, _ = simulate(scale)
    rate = lyapunov_exponent(scale, K)
    # a fixed vector grows at exactly lambda_1 per step on average
    assert log_v.mean() / STEPS == pytest.approx(rate, abs=0.01)
    # the whole product too, once the starting identity is forgotten
    assert (log_y - log_half).mean() / (STEPS - STEPS // 2) == pytest.approx(rate, abs=0.01)


@pytest.mark.parametrize("scale", [0.5, 0.7])
def test_typical_size_of_the_entries(scale):
    *_, log10_mean_abs = simulate(scale, seed=1)
    prediction = predict_random_product(scale, K, STEPS)
    assert prediction.rank_one_margin > 10  # the prediction's condition holds
    assert log10_mean_abs.mean() == pytest.approx(prediction.typical_log10_mean_abs_entry, abs=0.3)


def test_the_lectures_orders_of_magnitude():
    # lecture: ~1e-6 at scale 0.5, ~1e9 to 1e10 (its largest entries) at 0.7
    assert -7.0 < predict_random_product(0.5, 4, 100).typical_log10_mean_abs_entry < -5.0
    assert 8.0 < predict_random_product(0.7, 4, 100).typical_log10_mean_abs_entry < 10.0


def test_the_mean_is_exact_and_far_above_the_typical_value():
    rng = np.random.default_rng(2)
    w = rng.normal(0.0, 0.7, (3, 200_000, K, K))
    product = w[2] @ w[1] @ w[0]
    measured = np.abs(product).mean()
    assert math.log10(measured) == pytest.approx(
        predict_random_product(0.7, K, 3).log10_expected_mean_abs_entry, abs=0.01)
    long = predict_random_product(0.7, K, 100)
    assert long.log10_expected_mean_abs_entry - long.typical_log10_mean_abs_entry > 2.0


def test_spectrum_sums_to_the_growth_of_the_determinant():
    spectrum = lyapunov_spectrum(0.5, K)
    assert spectrum[0] == pytest.approx(lyapunov_exponent(0.5, K))
    assert np.all(np.diff(spectrum) < 0)
    w = np.random.default_rng(3).normal(0.0, 0.5, (100_000, K, K))
    log_det = np.linalg.slogdet(w)[1]
    assert log_det.mean() == pytest.approx(spectrum.sum(), abs=0.02)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="scale must be > 0"):
        lyapunov_exponent(0.0, 4)
    with pytest.raises(ValueError, match="k must be >= 1"):
        lyapunov_exponent(0.5, 0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        predict_random_product(0.5, 4, 0)
