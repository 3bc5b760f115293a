"""Values a fuzz found past the checks: huge ints, sizes past numpy's limit, float16 at its edge."""

import numpy as np
import pytest

import tinynet as tn

HUGE = 10**400  # an int float() cannot hold


@pytest.mark.parametrize("build", [
    lambda: tn.Residual(tn.Linear(3, 3), alpha=HUGE),
    lambda: tn.LeakyReLU(negative_slope=HUGE),
    lambda: tn.ELU(alpha=HUGE),
    lambda: tn.LayerNorm(3, eps=HUGE),
    lambda: tn.BatchNorm1d(3, momentum=HUGE),
    lambda: tn.Dropout(HUGE),
    lambda: tn.init.Normal(std=HUGE),
], ids=["Residual.alpha", "LeakyReLU", "ELU", "LayerNorm.eps", "BatchNorm1d.momentum", "Dropout.p",
        "Normal.std"])
def test_a_huge_int_is_a_value_error_naming_the_argument(build):
    with pytest.raises(ValueError, match="must be finite, got an integer of 1329 bits"):
        build()


@pytest.mark.parametrize("build, name", [
    (lambda: tn.Linear(2**63, 2), "in_features"),
    (lambda: tn.datasets.xor(2**63), "n_samples"),
])
def test_a_size_past_numpys_limit_is_a_value_error(build, name):
    with pytest.raises(ValueError, match=f"{name} is too large for an array dimension"):
        build()


def test_gradcheck_names_a_bad_dy():
    with pytest.raises(TypeError, match="gradcheck: dy must be a real numeric array"):
        tn.gradcheck(tn.Linear(2, 2, rng=np.random.default_rng(0)), np.ones((1, 2)), dy="x")


def test_dropout_near_one_on_float16_zeroes_what_it_drops():
    # 1 / (1 - p) = 1e5 is past float16's range: a kept entry is inf, as IEEE rounds, and a dropped one 0
    drop = tn.Dropout(0.99999, rng=np.random.default_rng(0))
    x = np.ones((4, 100_000), np.float16)
    y = drop(x)
    dx = drop.backward(np.ones_like(y))
    for out in (y, dx):
        assert out.dtype == np.float16 and not np.isnan(out).any()
        assert set(np.unique(out)) <= {0.0, np.inf} and (out == 0).sum() > 0.999 * out.size


def test_dropout_keeps_the_float64_numbers():
    drop = tn.Dropout(0.3, rng=np.random.default_rng(1))
    x = np.random.default_rng(2).standard_normal((5, 7))
    keep = np.random.default_rng(1).random(x.shape) >= 0.3
    np.testing.assert_array_equal(drop(x), np.where(keep, x * (1 / 0.7), 0.0))  # as PyTorch scales
