import functools
import math
import subprocess
import sys

import numpy as np
import pytest

import tinynet
from diagnostics.theory import predict, predict_lecture, sigma_w_from_init

WIDTH, DEPTH, SEEDS = 100, 50, 20

# the lecture's 13 configurations: (activation, weight std or initializer spec)
LECTURE = [("relu", s) for s in (0.1, 0.2, 0.4, 0.8)] + [("relu", "xavier_uniform")] + [
    ("sigmoid", s) for s in (0.1, 0.2, 0.4, 0.8)] + [("scaled_sigmoid", s) for s in (0.1, 0.2, 0.4, 0.8)]


def matmul(a, b):
    """``a @ b`` in column blocks small enough for BLAS to run each on one thread.

    On a busy machine a threaded 100 x 100 product can take 100 times longer
    than the same product done in two halves.
    """
    block = max(1, 500_000 // (a.shape[0] * a.shape[1]))
    return np.concatenate([a @ b[:, i:i + block] for i in range(0, b.shape[1], block)], axis=1)


def lecture_run(act, init, seed, depth=DEPTH, width=WIDTH):
    """The lecture's loop in float64: per-layer log10 ||M_i||_F (backward order) and log10 mean|J|."""
    rng = np.random.default_rng(seed)
    h = np.ones(width)
    weights, slopes = [], []
    for _ in range(depth):
        w = init((width, width), rng)
        z = w @ h
        weights.append(w)
        slopes.append(act.derivative(z))
        h = act.fn(z)
        if act.positively_homogeneous:  # rescaling h leaves the Jacobian unchanged
            h = h / np.linalg.norm(h)
    # backward from the last block, renormalizing y and keeping a running log
    y, log_norm, per_layer = np.eye(width), 0.0, []
    for w, d in zip(reversed(weights), reversed(slopes)):
        y = matmul(y, d[:, None] * w)
        norm = np.linalg.norm(y)
        log_norm += math.log10(norm)
        y /= norm
        per_layer.append(log_norm)
    return np.array(per_layer), log_norm + math.log10(np.mean(np.abs(y)))


@functools.lru_cache(maxsize=None)
def measured(name, init_or_std, depth=DEPTH, seeds=SEEDS):
    """Median over ``seeds`` networks of the per-layer log10 norms and of log10 mean|J|."""
    init = (tinynet.init.from_spec(init_or_std) if isinstance(init_or_std, str)
            else tinynet.init.Normal(std=init_or_std))
    runs = [lecture_run(tinynet.activation(name), init, seed, depth=depth) for seed in range(seeds)]
    return np.median([r[0] for r in runs], axis=0), float(np.median([r[1] for r in runs]))


@pytest.mark.parametrize("name, init_or_std", LECTURE)
def test_typical_prediction_matches_the_median_network(name, init_or_std):
    prediction = predict_lecture(name, init_or_std, depth=DEPTH, width=WIDTH)
    _, median = measured(name, init_or_std)
    assert abs(prediction.profile.log10_mean_abs_grad - median) < 0.3


def test_mean_field_misses_heavy_tailed_gains_by_decades():
    # scaled sigmoid at std 0.8: a few unsaturated units carry the gradient, so the
    # log of the mean is 1.5 decades above what a network shows; the typical value is not
    prediction = predict_lecture("scaled_sigmoid", 0.8)
    _, median = measured("scaled_sigmoid", 0.8)
    assert prediction.profile.mean_field_log10_mean_abs_grad - median > 1.0
    assert abs(prediction.profile.log10_mean_abs_grad - median) < 0.3


def test_mean_field_slope_of_relu_per_layer_norms():
    # relu gains are not heavy-tailed: the norm grows by sqrt(chi) = sqrt(sigma_w^2 / 2) per layer
    per_layer, _ = measured("relu", 0.2)
    prediction = predict_lecture("relu", 0.2)
    layers = np.arange(10, DEPTH)
    measured_slope = np.polyfit(layers, per_layer[10:], 1)[0]
    assert measured_slope == pytest.approx(0.5 * math.log10(100 * 0.04 / 2), abs=0.005)
    assert np.polyfit(layers, prediction.profile.mean_field_per_layer_grad_norm_log10[10:], 1)[0] == pytest.approx(
        measured_slope, abs=0.005)


@pytest.mark.parametrize("name, std", [("relu", 0.2), ("sigmoid", 0.8)])
def test_typical_per_layer_norms_follow_the_median_network(name, std):
    per_layer, _ = measured(name, std)
    prediction = predict_lecture(name, std)
    assert np.abs(prediction.profile.per_layer_grad_norm_log10 - per_layer).max() < 0.2


def test_relu_mean_field_norms_in_closed_form():
    prediction = predict("relu", 2.0, depth=7, width=64)
    steps = np.arange(1, 8)
    np.testing.assert_allclose(prediction.profile.mean_field_per_layer_grad_norm_log10,
                               0.5 * math.log10(64) + 0.5 * steps * math.log10(2.0), rtol=1e-12)
    np.testing.assert_allclose(prediction.q, 4.0 * 2.0 ** np.arange(7), rtol=1e-12)
    assert prediction.regime == "chaotic"


def test_backward_order_meets_the_last_layer_first():
    # sigmoid's q grows from layer 1 to its fixed point, so chi differs along depth
    prediction = predict("sigmoid", 8.0, depth=5, width=100)
    assert prediction.chi[0] != pytest.approx(prediction.chi[-1], rel=0.05)
    last_block = 0.5 * math.log10(100) + 0.5 * math.log10(prediction.chi[-1])
    assert prediction.profile.mean_field_per_layer_grad_norm_log10[0] == pytest.approx(last_block)
    assert prediction.q[0] == pytest.approx(64.0)
    assert len(prediction.profile.per_layer_grad_norm_log10) == 5


def test_input_and_bias_set_the_first_variance():
    prediction = predict("tanh", 1.5, depth=3, width=10, sigma_b=0.5, input_sq=2.0)
    assert prediction.q[0] == pytest.approx(1.5 ** 2 * 2.0 + 0.25)


def test_lecture_parametrization():
    # xavier uniform at fan_in = fan_out = 100 has the variance of normal(0, 0.1)
    assert sigma_w_from_init(tinynet.init.Normal(std=0.1), 100) == pytest.approx(1.0)
    assert sigma_w_from_init("xavier_uniform", 100) == pytest.approx(1.0)
    uniform = tinynet.init.Uniform(low=-0.3, high=0.3)  # variance 0.3**2 / 3
    assert sigma_w_from_init(uniform, 100) == pytest.approx(math.sqrt(100 * 0.09 / 3))
    assert sigma_w_from_init(tinynet.init.HeNormal(), 50, 200) == pytest.approx(math.sqrt(2.0))
    assert sigma_w_from_init(tinynet.init.Orthogonal(gain=1.3), 64) == pytest.approx(1.3)
    from_std = predict_lecture("relu", 0.1)
    from_init = predict_lecture("relu", tinynet.init.XavierUniform())
    assert from_std.profile.log10_mean_abs_grad == pytest.approx(from_init.profile.log10_mean_abs_grad)


def test_custom_activation_is_accepted():
    sine = tinynet.Activation(np.sin, np.cos, name="sine")
    prediction = predict(sine, 1.0, depth=4, width=32)
    assert prediction.activation == "sine"
    assert np.all(np.isfinite(prediction.profile.per_layer_grad_norm_log10))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="depth must be >= 1"):
        predict("relu", 1.0, depth=0, width=10)
    with pytest.raises(TypeError, match="depth must be an int"):
        predict("relu", 1.0, depth=2.5, width=10)
    with pytest.raises(ValueError, match="sigma_w must be > 0"):
        predict("relu", -1.0, depth=3, width=10)
    with pytest.raises(ValueError, match="width must be >= 1"):
        predict("relu", 1.0, depth=3, width=0)
    with pytest.raises(ValueError, match="unknown activation"):
        predict("swish2", 1.0, depth=3, width=10)
    with pytest.raises(TypeError, match="activation must be a tinynet Activation"):
        predict(tinynet.Linear(3, 3), 1.0, depth=3, width=10)
    with pytest.raises(ValueError, match="zero-mean"):
        predict_lecture("relu", tinynet.init.Normal(mean=1.0, std=0.1))
    with pytest.raises(ValueError, match="std must be > 0"):
        predict_lecture("relu", -0.1)


def test_prediction_needs_no_scipy():
    # scipy takes longer to import than the whole lecture prediction takes to run
    code = ("import sys, diagnostics.theory as t; "
            "[t.predict_lecture(a, s) for a in ('relu', 'sigmoid', 'scaled_sigmoid') for s in (0.1, 0.8)]; "
            "print('scipy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_orthogonal_linear_network_keeps_its_norm_exactly():
    # J is a product of orthogonal matrices: orthogonal, so its Frobenius norm stays
    # sqrt(width) and no typical loss may be predicted (a chi-square spread per layer
    # would lose 0.4 decades over 200 layers)
    prediction = predict_lecture("identity", "orthogonal", depth=200, width=WIDTH)
    np.testing.assert_allclose(prediction.profile.per_layer_grad_norm_log10, 0.5 * math.log10(WIDTH),
                               atol=1e-12)
    per_layer, median = measured("identity", "orthogonal", depth=200)
    np.testing.assert_allclose(per_layer, 0.5 * math.log10(WIDTH), atol=1e-9)
    assert prediction.profile.log10_mean_abs_grad == pytest.approx(median, abs=0.01)
    assert prediction.weights == "orthogonal"


def test_orthogonal_tanh_typical_matches_the_median_network():
    # at depth 200 the Gaussian model of the weight step would predict -2.74
    prediction = predict_lecture("tanh", "orthogonal", depth=200, width=WIDTH)
    _, median = measured("tanh", "orthogonal", depth=200, seeds=8)
    assert abs(prediction.profile.log10_mean_abs_grad - median) < 0.1
    gaussian = predict("tanh", 1.0, depth=200, width=WIDTH)
    assert gaussian.profile.log10_mean_abs_grad < median - 0.3  # the model that does not apply


def test_sigma_w_from_extreme_stds_without_squaring():
    assert sigma_w_from_init("normal:1e200", 100) == pytest.approx(1e201, rel=1e-12)
    assert sigma_w_from_init("normal:1e-200", 100) == pytest.approx(1e-199, rel=1e-12, abs=0)
    assert sigma_w_from_init("uniform:1e-200", 3) == pytest.approx(1e-200, rel=1e-12, abs=0)
    assert sigma_w_from_init(tinynet.init.Orthogonal(gain=1e200), 64) == pytest.approx(1e200, rel=1e-12)
    with pytest.raises(OverflowError, match="beyond float64's range"):
        sigma_w_from_init("uniform:1e308", 100)


def test_tiny_sigma_w_predicts_in_logs():
    # sigma_w**2 = 1e-398 underflows to 0; ReLU's gain is sigma_w**2 / 2 whatever q is
    prediction = predict("relu", 1e-199, depth=3, width=100)
    per_layer = 0.5 * (-398 + math.log10(0.5))
    np.testing.assert_allclose(prediction.profile.mean_field_per_layer_grad_norm_log10, 1.0 + per_layer * np.arange(1, 4),
                               rtol=1e-12)
    assert prediction.profile.log10_mean_abs_grad == pytest.approx(prediction.profile.mean_field_log10_mean_abs_grad, abs=0.1)


def test_a_prediction_that_overflows_says_so():
    from diagnostics.theory import jacobian_spectrum, regime

    for call in (lambda: predict("relu", 1e201, depth=3, width=100), lambda: regime("tanh", 1e201),
                 lambda: jacobian_spectrum("relu", 1e201, depth=3),
                 lambda: predict("tanh", 1.0, depth=3, width=10, input_sq=1e308, sigma_b=1e200)):
        with pytest.raises(OverflowError, match="beyond float64's range"):
            call()
