"""tinynet.init's torch-style functions against PyTorch's, and VarianceScaling against Keras's formulas."""

import math
import re

import numpy as np
import pytest

from tinynet import init
from test_torch_reference import reference

CASES, ARRAYS = reference("init")


def cases(kind):
    return [c for c in CASES if c["name"].startswith(kind + "/")]


@pytest.mark.parametrize("case", cases("moments"), ids=lambda c: c["name"])
def test_draws_have_pytorchs_moments_and_bounds(case):
    w = np.empty(case["shape"])
    out = getattr(init, case["function"])(w, **case["kwargs"], rng=np.random.default_rng(0))
    assert out is w
    v, n = w.ravel(), case["count"]
    assert v.size == n
    # two independent draws of n: their means and variances differ by a few standard errors
    spread = math.sqrt(case["var"])
    assert abs(v.mean() - case["mean"]) < 5 * spread * math.sqrt(2 / n)
    assert v.var() == pytest.approx(case["var"], rel=5 * 2 / math.sqrt(n))
    # the shape of the distribution: quantiles from 1% to 99% agree to about 5 of their standard
    # errors (0.1 std for 32,768 draws), which catches a normal drawn where a uniform belongs
    got = np.quantile(v, [0.01, 0.1, 0.5, 0.9, 0.99])
    np.testing.assert_allclose(got, case["quantiles"], rtol=0, atol=20 * spread / math.sqrt(n))
    if case["function"] in ("uniform_", "trunc_normal_", "xavier_uniform_", "kaiming_uniform_"):
        # bounded: 32,768 draws reach within a hair of the bounds
        width = case["max"] - case["min"]
        assert v.min() == pytest.approx(case["min"], abs=0.01 * width)
        assert v.max() == pytest.approx(case["max"], abs=0.01 * width)
    if case["function"] == "orthogonal_":
        gram = w @ w.T
        assert np.mean(np.diag(gram)) == pytest.approx(case["gram_diagonal"], rel=1e-12)
        assert np.max(np.abs(gram - np.diag(np.diag(gram)))) < 1e-12 > case["gram_offdiagonal_max"] - 1e-12


@pytest.mark.parametrize("case", cases("exact"), ids=lambda c: c["name"])
def test_deterministic_fills_equal_pytorchs(case):
    w = np.full(case["shape"], 7.0)
    getattr(init, case["function"])(w, **case["kwargs"], **({"rng": np.random.default_rng(0)}
                                                           if case["function"] == "orthogonal_" else {}))
    expected = ARRAYS["exact/" + case["key"]] if ("exact/" + case["key"]) in ARRAYS else ARRAYS[case["key"]]
    got = w.reshape(w.shape[0], -1) @ w.reshape(w.shape[0], -1).T if case["function"] == "orthogonal_" else w
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", cases("errors"), ids=lambda c: c["name"])
def test_errors_where_pytorch_raises_and_no_op_on_empty_arrays(case):
    w = np.full(case["shape"], 7.0)
    fn = getattr(init, case["function"])
    if case["raises"]:
        # PyTorch raises ValueError or RuntimeError; tinynet's bad values are ValueErrors naming the function
        with pytest.raises(ValueError, match="^" + re.escape(case["function"] + ": ")):
            fn(w, **case["kwargs"])
    else:
        assert fn(w, **case["kwargs"]) is w and w.size == 0


@pytest.mark.parametrize("case", cases("gain"), ids=lambda c: c["name"])
def test_calculate_gain(case):
    assert init.calculate_gain(case["nonlinearity"], case["param"]) == pytest.approx(case["gain"], rel=1e-15)


def test_every_function_is_compared_with_pytorch():
    compared = {c["function"] for c in CASES if "function" in c}
    assert compared == {name for name in init.__all__ if name.endswith("_")}


def test_functions_use_the_classes_draws():
    # one place per distribution: the function and the class draw the same numbers from the same rng
    a = init.normal_(np.empty((4, 5)), 0.0, 0.3, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, init.Normal(std=0.3)((4, 5), np.random.default_rng(1)))
    b = init.uniform_(np.empty((4, 5)), -0.5, 0.5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(b, init.Uniform(low=-0.5, high=0.5)((4, 5), np.random.default_rng(1)))
    c = init.kaiming_uniform_(np.empty((4, 5)), rng=np.random.default_rng(1))
    bound = math.sqrt(3.0) * (math.sqrt(2.0) / math.sqrt(5))  # sqrt(3) std, std = gain / sqrt(fan_in)
    np.testing.assert_array_equal(c, init.Uniform(low=-bound, high=bound)((4, 5), np.random.default_rng(1)))


def test_float32_and_bad_targets():
    w = init.xavier_normal_(np.empty((3, 4), dtype=np.float32), rng=np.random.default_rng(0))
    assert w.dtype == np.float32
    with pytest.raises(TypeError, match="normal_: expected a floating-point numpy array to fill, got list"):
        init.normal_([0.0, 1.0])
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="ones_: the array is read-only"):
        init.ones_(frozen)
    with pytest.raises(TypeError, match="uniform_: rng must be a numpy.random.Generator"):
        init.uniform_(np.zeros(3), rng=0)


# ---- VarianceScaling is Keras 3's: its documented formulas, for every distribution and mode

KERAS_TRUNCATED_STD = 0.87962566103423978


@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform", "normal", "Uniform"])
@pytest.mark.parametrize("mode, shape, n", [("fan_in", (300, 200), 200), ("fan_out", (300, 200), 300),
                                            ("fan_avg", (300, 200), 250), ("fan_in", (60_000,), 60_000),
                                            ("fan_avg", (20, 10, 3, 3), 135)])
def test_variance_scaling_follows_keras(distribution, mode, shape, n):
    scale = 2.0
    vs = init.VarianceScaling(scale, mode, distribution)
    w = vs(shape, np.random.default_rng(0))
    var = scale / max(1.0, n)  # Keras: scale /= max(1., fan)
    kind = {"normal": "truncated_normal", "uniform": "uniform"}.get(distribution.lower(), distribution)
    assert vs.get_config() == {"scale": scale, "mode": mode, "distribution": kind, "seed": None}
    assert vs.variance(shape) == pytest.approx(var, rel=1e-15)
    assert w.var() == pytest.approx(var, rel=0.05) and abs(w.mean()) < 5 * math.sqrt(var / w.size)
    if kind == "uniform":
        limit = math.sqrt(3.0 * var)  # Keras: limit = sqrt(3 * scale)
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    elif kind == "truncated_normal":
        stddev = math.sqrt(var) / KERAS_TRUNCATED_STD  # Keras's std before the cut at 2 std
        assert np.abs(w).max() <= 2 * stddev and np.abs(w).max() > 1.95 * stddev
    else:
        assert np.abs(w).max() > 3 * math.sqrt(var)  # untruncated: tails past 2 std


def test_variance_scaling_config_round_trip_and_errors():
    vs = init.VarianceScaling(0.5, "fan_out", "NORMAL")
    assert init.from_config("variance_scaling", vs.get_config()) == vs
    assert init.VarianceScaling(**vs.get_config()).get_config() == vs.get_config()
    with pytest.raises(ValueError, match="VarianceScaling: seed must be None"):
        init.VarianceScaling(seed=3)
    with pytest.raises(ValueError, match="VarianceScaling: mode must be one of 'fan_in', 'fan_out', 'fan_avg', got 'FAN_IN'"):
        init.VarianceScaling(mode="FAN_IN")  # as in Keras, the mode's case matters
