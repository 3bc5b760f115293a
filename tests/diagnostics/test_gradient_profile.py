"""GradientProfile is the one curve type: what a probe measures and what the theory predicts line up."""

import numpy as np
import pytest

import tinynet as tn
from diagnostics import theory
from diagnostics.deep import stream_probe
from diagnostics.experiments import ProbeConfig, predict_config
from diagnostics.probes import batch_gradient_probe, gradient_probe
from diagnostics.profile import GradientProfile


def _linear(rng, k=20):
    return tn.Linear(k, k, bias=False, weight_init="he_normal", rng=rng)


NETWORKS = {
    "plain": lambda rng: [_linear(rng), tn.Tanh()],
    "residual": lambda rng: [tn.Residual(tn.Sequential(_linear(rng), tn.ReLU()), alpha=0.5)],
    "layer norm": lambda rng: [_linear(rng), tn.LayerNorm(20), tn.ReLU()],
    "composed": lambda rng: [_linear(rng), tn.ReLU(), tn.LayerNorm(20)],
}


@pytest.mark.parametrize("name", NETWORKS)
def test_the_probe_and_the_prediction_of_one_network_are_the_same_curve(name):
    rng = np.random.default_rng(0)
    net = tn.Sequential(*[m for _ in range(4) for m in NETWORKS[name](rng)])
    measured, predicted = gradient_probe(net), theory.predict_network(net)
    assert isinstance(measured, GradientProfile) and isinstance(predicted, GradientProfile)
    assert (measured.source, predicted.source) == ("measured", "predicted")
    assert len(measured.layers) == len(predicted.layers) == 4
    assert measured.log10_initial_norm == pytest.approx(predicted.log10_initial_norm)
    # one network at width 20 strays from the typical one by a few tenths of a decade
    assert abs(measured.change_log10 - predicted.change_log10) < 1.0


def test_a_batch_probe_and_batch_norms_prediction_are_of_the_same_batch():
    rng = np.random.default_rng(0)
    net = tn.Sequential(*[m for _ in range(3) for m in (_linear(rng), tn.BatchNorm1d(20), tn.ReLU())])
    measured = batch_gradient_probe(net, batch_size=16, rng=rng)
    predicted = theory.predict_network(net, batch_size=16)
    assert measured.batch_size == predicted.batch_size == 16
    assert measured.log10_initial_norm == pytest.approx(predicted.log10_initial_norm)
    assert predicted.statistic in ("typical", "mean-field")


def test_the_streamed_probe_and_the_experiments_prediction_are_profiles_too():
    config = ProbeConfig("tanh", "normal:0.2", depth=6, width=10, repeats=1)
    streamed = stream_probe("tanh", "normal:0.2", 6, 10, rng=np.random.default_rng(0))
    prediction, note = predict_config(config)
    assert note is None and isinstance(prediction.profile, GradientProfile)
    assert len(streamed.layers) == len(prediction.profile.layers) == 6
    np.testing.assert_allclose(prediction.profile.per_layer_grad_norm_log10,
                               theory.predict("tanh", 0.2 * 10 ** 0.5, 6, 10).profile.per_layer_grad_norm_log10)


def test_a_pass_that_is_not_finite_gives_an_empty_profile_that_says_where():
    net = tn.MLP([10] * 201, "relu", weight_init=tn.init.Normal(std=30.0), bias=True,
                 bias_init=tn.init.Constant(1.0), final_activation=True, rng=np.random.default_rng(0))
    r = gradient_probe(net)
    assert not r.finite and r.layers == () and r.change_log10 is None and r.log10_grad_norm is None
    assert r.nonfinite["pass"] == "forward"
    with pytest.raises(ValueError, match="holds no Jacobian"):
        r.jacobian


def test_a_profile_that_contradicts_itself_is_refused_by_name():
    with pytest.raises(ValueError, match="source must be one of"):
        GradientProfile(("a",), np.zeros(1), 0.0, "guessed")
    with pytest.raises(ValueError, match="statistic must be one of"):
        GradientProfile(("a",), np.zeros(1), 0.0, "predicted", statistic="median")
    with pytest.raises(ValueError, match="2 layers but 1 norms"):
        GradientProfile(("a", "b"), np.zeros(1), 0.0, "measured")
    with pytest.raises(ValueError, match="1 layers but 2 entries in per_layer_grad_norm_log10_sd"):
        GradientProfile(("a",), np.zeros(1), 0.0, "predicted", per_layer_grad_norm_log10_sd=np.zeros(2))


def test_the_replaced_classes_names_still_answer_for_one_release_with_a_warning():
    p = theory.predict("tanh", 1.1, 8, 30)
    with pytest.warns(DeprecationWarning, match="use profile.change_log10_sd"):
        assert p.log10_grad_norm_sd == p.profile.change_log10_sd
    with pytest.warns(DeprecationWarning, match="use profile.mean_field_per_layer_grad_norm_log10"):
        # a Prediction's per_layer_grad_norm_log10 was the mean-field curve, and still is
        np.testing.assert_array_equal(p.per_layer_grad_norm_log10, p.profile.mean_field_per_layer_grad_norm_log10)
    residual = theory.predict_residual("relu", 1.0, 1.0, 8, 30)
    with pytest.warns(DeprecationWarning, match="use change_log10"):
        assert residual.typical_change_log10 == residual.change_log10
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        residual.no_such_name
