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


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e160), (np.float32, 1e20), (np.float16, 6e4)])
def test_layernorm_of_huge_values_is_what_it_is_at_any_scale(dtype, big):
    # y is invariant to scaling x, and dx scales as 1 / scale; squares past the dtype's range change neither
    x = np.array([[1.0, -1.0, 0.3]])
    dy = np.array([[1.0, 2.0, 3.0]])
    ln = tn.LayerNorm(3, eps=1e-30, dtype=np.float64)  # at scale 1: eps as small against the variance
    y1, dx1 = ln(x), ln.backward(dy)
    ln = tn.LayerNorm(3, eps=1e-5, dtype=dtype)
    y2 = ln(np.asarray(x * big, dtype))
    dx2 = ln.backward(np.asarray(dy, dtype))
    tol = {np.float64: 1e-12, np.float32: 1e-6, np.float16: 2e-3}[dtype]
    np.testing.assert_allclose(y2, y1, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx2.astype(np.float64) * big, dx1, rtol=tol * 10, atol=tol * 10)


def test_layernorm_with_an_eps_below_float32s_range_keeps_a_constant_sample_at_zero():
    ln = tn.LayerNorm(2, eps=1e-50, dtype=np.float32)
    np.testing.assert_array_equal(ln(np.ones((1, 2), np.float32)), np.zeros((1, 2), np.float32))
