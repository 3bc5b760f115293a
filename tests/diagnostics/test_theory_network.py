import math

import numpy as np
import pytest

import tinynet as tn
from diagnostics.probes import gradient_probe
from diagnostics import theory
from diagnostics.theory import predict, predict_network

SEEDS = 40
MIXED = [30, 50, 20, 40] * 5 + [10]  # 20 Linear layers of mixed widths, the last one without activation

# (activation, weight_init, bias_init or None for no bias): Gaussian, uniform and orthogonal
# weights, with and without biases; the fan-average initializer gives each layer its own scale
CASES = [
    ("relu", "he_normal", None),
    ("relu", "he_uniform", "normal:0.3"),
    ("relu", "orthogonal:1.414", None),
    ("tanh", "xavier_uniform", None),
    ("tanh", "orthogonal", "normal:0.1"),
    ("sigmoid", "normal:0.5", None),
]


def build(sizes, act, init, bias_init, seed, final_activation=False):
    return tn.MLP(sizes, act, weight_init=init, bias=bias_init is not None, bias_init=bias_init,
                  final_activation=final_activation, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("act, init, bias_init", CASES)
def test_median_and_spread_of_real_networks_match_the_prediction(act, init, bias_init):
    measured = np.array([gradient_probe(build(MIXED, act, init, bias_init, seed)).log10_grad_norm
                         for seed in range(SEEDS)])
    p = predict_network(build(MIXED, act, init, bias_init, 0))
    assert abs(np.median(measured) - p.log10_grad_norm) < 0.3
    ratio = measured.std(ddof=1) / p.change_log10_sd
    assert 1 / 1.6 < ratio < 1.6


def test_per_layer_prediction_follows_the_probe_layer_by_layer():
    runs = [gradient_probe(build(MIXED, "relu", "he_normal", None, seed)) for seed in range(SEEDS)]
    measured = np.array([r.per_layer_grad_norm_log10 for r in runs])
    p = predict_network(build(MIXED, "relu", "he_normal", None, 0))
    assert p.per_layer_grad_norm_log10.shape == measured.shape[1:] == (20,)
    assert np.all(np.abs(np.median(measured, axis=0) - p.per_layer_grad_norm_log10) < 0.15)
    # the spread grows with depth as sqrt(sum of per-layer variances)
    assert np.all(np.diff(p.per_layer_grad_norm_log10_sd) > 0)
    assert p.log10_initial_norm == pytest.approx(runs[0].log10_initial_norm)


def test_relu_spread_is_hanins_five_over_width_per_layer():
    # deep in a ReLU network, Var log ||J||^2 grows by 5 / n per layer (Hanin 2018)
    p = predict_network(tn.MLP([50] * 101, "relu", weight_init="he_normal", bias=False,
                               final_activation=True, rng=np.random.default_rng(0)))
    var = (2 * math.log(10) * p.per_layer_grad_norm_log10_sd) ** 2
    assert np.diff(var)[-50:] == pytest.approx(5 / 50, rel=0.05)


def test_the_square_network_gives_what_predict_gives():
    net = tn.MLP([100] * 31, "tanh", weight_init="normal:0.12", bias=True, bias_init="normal:0.05",
                 final_activation=True, rng=np.random.default_rng(0))
    p, q = predict_network(net), predict("tanh", 1.2, depth=30, width=100, sigma_b=0.05)
    for name in ("per_layer_grad_norm_log10", "mean_field_per_layer_grad_norm_log10",
                 "per_layer_grad_norm_log10_sd"):
        np.testing.assert_allclose(getattr(p, name), getattr(q.profile, name), rtol=1e-12)
    for name in ("log10_mean_abs_grad", "mean_field_log10_mean_abs_grad"):
        assert getattr(p, name) == pytest.approx(getattr(q.profile, name), rel=1e-12)
    assert p.change_log10_sd == q.profile.change_log10_sd > 0


def test_the_users_classifier_is_predicted_layer_by_layer():
    net = tn.MLP([784, 256, 128, 10], "relu", weight_init="xavier_uniform", final_activation=False,
                 rng=np.random.default_rng(0))
    p = predict_network(net)
    assert p.layers == tuple(m.label() for m in net.modules() if isinstance(m, tn.Linear))[::-1]
    # Xavier's fan average gives every layer its own sigma_w^2 = 2 fan_in / (fan_in + fan_out); the
    # mean-field gain of a block is sigma_w^2 E[phi'^2]: 1/2 for ReLU, 1 after the last Linear
    gains = 10 ** (2 * np.diff(np.concatenate([[p.log10_initial_norm], p.mean_field_per_layer_grad_norm_log10])))
    np.testing.assert_allclose(gains, [2 * 128 / 138, 256 / 384, 784 / 1040], rtol=1e-9)


def test_the_input_enters_through_its_mean_square():
    net = tn.MLP([100] * 11, "tanh", weight_init="normal:0.12", final_activation=True,
                 rng=np.random.default_rng(0))
    x = np.full(100, 2.0)
    p, q = predict_network(net, x), predict("tanh", 1.2, depth=10, width=100, input_sq=4.0).profile
    np.testing.assert_allclose(p.per_layer_grad_norm_log10, q.per_layer_grad_norm_log10, rtol=1e-12)
    assert p.log10_grad_norm != pytest.approx(predict_network(net).log10_grad_norm, abs=0.01)


def test_what_the_theory_cannot_read_is_refused_by_name():
    with pytest.raises(ValueError, match="no rule for Custom .* cannot be estimated"):
        class Custom(tn.Layer):
            pass
        predict_network(tn.Sequential(tn.Linear(3, 3, rng=np.random.default_rng(0)), Custom()))
    with pytest.raises(ValueError, match="bias initializer .* mean 0.1"):
        predict_network(tn.Linear(3, 3, bias_init="constant:0.1", rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"x must be one input of shape \(3,\)"):
        predict_network(tn.Linear(3, 3, rng=np.random.default_rng(0)), np.ones(4))
    with pytest.raises(TypeError, match="net must be a tinynet layer"):
        predict_network([tn.Linear(3, 3, rng=np.random.default_rng(0))])


# ---------------------------------------------------------------------------
# the remedy layers: one rule each, handed to the remedies' theory
# ---------------------------------------------------------------------------

def _linear(rng, std=0.1, width=100, bias=False):
    return tn.Linear(width, width, bias=bias, weight_init=tn.init.Normal(std=std), rng=rng,
                     bias_init=tn.init.Normal(std=0.1) if bias else None)


def _blocks(make, depth=50):
    rng = np.random.default_rng(0)
    return tn.Sequential(*[m for _ in range(depth) for m in make(rng)])


@pytest.mark.parametrize("alpha", [1.0, 50 ** -0.5])
def test_a_residual_network_is_predicted_by_predict_residual(alpha):
    net = _blocks(lambda rng: [tn.Residual(tn.Sequential(_linear(rng, 0.4), tn.ReLU()), alpha=alpha)])
    p, q = predict_network(net), theory.predict_residual("relu", 4.0, alpha, depth=50, width=100)
    np.testing.assert_allclose(p.per_layer_grad_norm_log10, q.per_layer_grad_norm_log10, rtol=1e-12)
    np.testing.assert_allclose(p.per_layer_grad_norm_log10_sd, q.per_layer_grad_norm_log10_sd, rtol=1e-12)


def test_normalized_and_dropout_networks_are_predicted_by_their_modules():
    ln = _blocks(lambda rng: [_linear(rng), tn.LayerNorm(100), tn.ReLU()])
    assert predict_network(ln).change_log10 == pytest.approx(theory.predict_layer_norm("relu", 50, 100).change_log10)
    bn = _blocks(lambda rng: [_linear(rng), tn.BatchNorm1d(100), tn.ReLU()])
    assert predict_network(bn, batch_size=8).change_log10 == pytest.approx(
        theory.predict_batch_norm("relu", 8, 50, 100).change_log10)
    drop = _blocks(lambda rng: [_linear(rng), tn.ReLU(), tn.Dropout(0.1, rng=rng)])
    assert predict_network(drop).change_log10 == pytest.approx(
        theory.predict_dropout("relu", 1.0, 0.1, 50, 100).change_log10)


@pytest.mark.parametrize("make, kw, message", [
    (lambda rng: [_linear(rng), tn.BatchNorm1d(100), tn.Sigmoid()], {"batch_size": 3}, "no prediction at batch_size 3"),
    (lambda rng: [_linear(rng), tn.BatchNorm1d(100), tn.ReLU()], {}, "batch_size"),
])
def test_where_the_remedies_theory_does_not_hold_it_says_so(make, kw, message):
    with pytest.raises(ValueError, match=message):
        predict_network(_blocks(make, depth=3), **kw)
