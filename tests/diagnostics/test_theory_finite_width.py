import math

import numpy as np
import pytest

from diagnostics.theory import expected_log_chi2_mean, expected_log_mean, gaussian_nodes


@pytest.mark.parametrize("k, dof", [(1, 1.0), (3, 2.5), (100, 1.0), (100, 40.0), (7, math.inf)])
def test_constant_values_give_a_chi_square_mean(k, dof):
    # a_j = 1: the mean of k chi2_dof / dof is chi2_(k dof) / (k dof)
    assert expected_log_mean([1.0], [1.0], k, dof) == pytest.approx(
        expected_log_chi2_mean(k * dof), abs=1e-7)


# (k = 1 is left out: log z^2 is singular at 0, which the nodes resolve only to ~1e-4)
@pytest.mark.parametrize("k", [2, 10, 100])
def test_squared_gaussians_give_a_chi_square_mean(k):
    z, w = gaussian_nodes(1.0)
    expected = math.log(2.0) + _digamma(k / 2) - math.log(k)
    assert expected_log_mean(z * z, w, k) == pytest.approx(expected, abs=1e-7)


def test_an_atom_at_zero_is_conditioned_away():
    # relu-like: a = 0 or 1 with probability 1/2, k = 3: mean = j / 3 with j ~ Binomial(3, 1/2), j > 0
    expected = sum(math.comb(3, j) / 8 * math.log(j / 3) for j in (1, 2, 3)) / (1 - 1 / 8)
    assert expected_log_mean([0.0, 1.0], [0.5, 0.5], 3) == pytest.approx(expected, abs=1e-7)
    assert expected_log_mean([0.0], [1.0], 3) == -math.inf


def test_chi_square_mean_limits():
    assert expected_log_chi2_mean(math.inf) == 0.0
    assert expected_log_chi2_mean(1.0) == pytest.approx(-0.5772156649015329 - math.log(2), abs=1e-14)
    assert expected_log_chi2_mean(1e9) == pytest.approx(-1e-9, rel=1e-6)


def test_heavy_tails_lower_the_expected_log_far_below_the_log_of_the_mean():
    # a is 1000 with probability 1e-3, else 0.001: the mean is ~2 but most draws are small
    values, weights = np.array([1e-3, 1e3]), np.array([1 - 1e-3, 1e-3])
    assert expected_log_mean(values, weights, 10) < math.log(values @ weights) - 3.0
    rng = np.random.default_rng(0)
    draws = rng.choice(values, p=weights, size=(200_000, 10)).mean(axis=1)
    assert expected_log_mean(values, weights, 10) == pytest.approx(np.log(draws).mean(), abs=0.02)


def _digamma(x):
    from scipy.special import digamma

    return float(digamma(x))
