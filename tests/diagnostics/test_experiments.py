import math
import re
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import tinynet as tn
from diagnostics import experiments as ex
from diagnostics import report, theory
from diagnostics.numerics import log10_mean


def test_lecture_configs_are_the_lectures_thirteen():
    configs = ex.lecture_configs()
    assert len(configs) == 13
    assert [(c.activation, c.init_name, c.scale) for c in configs[:5]] == [
        ("relu", "normal", 0.1), ("relu", "normal", 0.2), ("relu", "normal", 0.4),
        ("relu", "normal", 0.8), ("relu", "xavier_uniform", None)]
    assert {c.activation for c in configs[5:9]} == {"sigmoid"}
    assert {c.activation for c in configs[9:]} == {"scaled_sigmoid"}
    assert all((c.depth, c.width, c.repeats, c.bias_std) == (50, 100, 10, None) for c in configs)


def test_config_builds_the_lecture_network():
    net = ex.ProbeConfig("relu", "normal:0.1", depth=3, width=4).build(np.random.default_rng(0))
    assert isinstance(net, tn.MLP) and len(net) == 6
    assert all(isinstance(m, tn.ReLU) for m in list(net)[1::2])  # the last layer too
    assert all(m.bias is None for m in list(net)[::2])


def test_log10_mean_is_the_log_of_the_arithmetic_mean():
    assert log10_mean([0.0, 1.0]) == pytest.approx(math.log10(5.5))
    assert log10_mean([1000.0, 1000.0]) == pytest.approx(1000.0)  # beyond float range
    assert log10_mean([-math.inf, 0.0]) == pytest.approx(math.log10(0.5))
    np.testing.assert_allclose(log10_mean([[0.0, 2.0], [0.0, 2.0]]), [0.0, 2.0])


def test_synthetic_gradient_averages_the_repeats_like_the_lecture():
    from diagnostics.probes import gradient_probe

    config = ex.ProbeConfig("tanh", "normal:0.15", depth=6, width=12, repeats=4)
    result = ex.synthetic_gradient(config, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    means = [np.abs(gradient_probe(config.build(rng)).jacobian).mean() for _ in range(4)]
    assert result.log10_mean_abs_grad == pytest.approx(math.log10(np.mean(means)), abs=1e-12)
    assert result.repeat_log10_mean_abs_grad == pytest.approx(np.log10(means), abs=1e-12)
    assert len(result.per_layer_grad_norm_log10) == 6


@pytest.mark.parametrize("decades, expected", [(-1.5, "vanishing"), (0.5, "stable"), (-0.99, "stable"),
                                               (3.0, "exploding"), (math.nan, "non-finite")])
def test_verdict_thresholds(decades, expected):
    assert ex.verdict(decades) == expected


def test_nonfinite_forward_becomes_a_verdict_not_a_nan():
    config = ex.ProbeConfig("relu", "normal:30", depth=250, width=10, repeats=2, bias_std=1.0)
    result = ex.synthetic_gradient(config, np.random.default_rng(0))
    assert result.verdict == "non-finite" and result.log10_mean_abs_grad is None
    assert "forward pass became non-finite at layer" in result.nonfinite
    assert report.experiment_json(result)["mean_abs_grad"] is None


def small_sweep():
    return [ex.ProbeConfig(a, i, depth=8, width=16, repeats=3)
            for a in ("relu", "tanh") for i in ("normal:0.2", "xavier_uniform")]


def test_sweep_is_the_same_serially_and_with_two_processes():
    serial = ex.sweep(small_sweep(), seed=7)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = ex.sweep(small_sweep(), seed=7, executor=pool)
    assert [report.experiment_json(r) for r in serial] == [report.experiment_json(r) for r in parallel]
    other_seed = ex.sweep(small_sweep(), seed=8)
    assert serial[0].log10_mean_abs_grad != other_seed[0].log10_mean_abs_grad


def test_sweep_on_a_local_dask_cluster():
    distributed = pytest.importorskip("distributed")
    serial = ex.sweep(small_sweep(), seed=7)
    with distributed.Client(processes=True, n_workers=2, threads_per_worker=1,
                            dashboard_address=None) as client:
        dask = ex.sweep(small_sweep(), seed=7, executor=client.get_executor())
    assert [report.experiment_json(r) for r in serial] == [report.experiment_json(r) for r in dask]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_lecture_configuration_is_finite_in_both_dtypes(dtype):
    configs = ex.lecture_configs(repeats=2, dtype=dtype)
    results = ex.sweep(configs, seed=0)
    assert all(math.isfinite(r.log10_mean_abs_grad) for r in results)
    assert all(len(r.per_layer_grad_norm_log10) == 50 for r in results)


def test_predict_config_knows_orthogonal_weights():
    # a linear network of orthogonal layers has an orthogonal J: its entries are those
    # of a random orthogonal matrix, mean|J| = sqrt(2 / pi) / sqrt(width) at any depth
    prediction, note = ex.predict_config(ex.ProbeConfig("identity", "orthogonal", depth=200, width=100))
    assert note is None
    assert prediction.profile.log10_mean_abs_grad == pytest.approx(math.log10(math.sqrt(2 / math.pi) / 10), abs=0.01)


def test_predict_config_of_extreme_stds():
    assert ex.ProbeConfig("relu", "normal:1e200").scale == 1e200
    assert ex.ProbeConfig("relu", "normal:1e-200").scale == 1e-200
    prediction, note = ex.predict_config(ex.ProbeConfig("relu", "normal:1e200"))
    assert prediction is None and "beyond float64's range" in note


def test_a_short_product_gets_no_rank_one_prediction_and_its_rate_counts_from_the_identity():
    children = np.random.SeedSequence(0).spawn(2)
    short = ex.random_product(0.1, 100, 10, "float64", np.random.default_rng(children[0]))
    assert short.prediction.rank_one_margin < ex.RANK_ONE_MARGIN
    assert short.prediction.typical_log10_mean_abs is None
    one = ex.random_product(1.0, 4, 1, "float64", np.random.default_rng(children[1]))
    # one factor: the growth from the identity's norm sqrt(4), not ||W_1|| itself
    expected = one.per_step_log10_norm[0] - 0.5 * np.log10(4)
    assert one.measured_log10_per_step == pytest.approx(expected)
    long_ = ex.random_product(1.0, 4, 100, "float64", np.random.default_rng(children[1]))
    assert long_.prediction.typical_log10_mean_abs is not None


def test_repeats_reuse_one_network_with_the_numbers_of_fresh_ones():
    from diagnostics.probes import gradient_probe

    config = ex.ProbeConfig("tanh", "normal:0.15", depth=6, width=8, repeats=3, bias_std=0.1)
    result = ex.synthetic_gradient(config, np.random.default_rng(4))
    rng = np.random.default_rng(4)
    fresh = [gradient_probe(config.build(rng)).log10_mean_abs_grad for _ in range(3)]
    assert result.repeat_log10_mean_abs_grad == fresh


def test_predict_config_carries_the_theorys_spread_between_networks():
    config = ex.ProbeConfig("tanh", "normal:0.15", depth=12, width=24)
    p, note = ex.predict_config(config)
    theirs = theory.predict("tanh", 0.15 * np.sqrt(24), 12, 24)
    assert note is None and p.profile.change_log10_sd == pytest.approx(theirs.profile.change_log10_sd)
    np.testing.assert_allclose(p.profile.per_layer_grad_norm_log10_sd, theirs.profile.per_layer_grad_norm_log10_sd)
    # the same network given by its sizes takes predict_network's path, and agrees
    mixed = ex.predict_config(ex.ProbeConfig("tanh", "normal:0.15", sizes=[24] * 13, final_linear=False))[0]
    assert mixed.profile.log10_mean_abs_grad == pytest.approx(p.profile.log10_mean_abs_grad)
    assert mixed.profile.change_log10_sd == pytest.approx(p.profile.change_log10_sd) and mixed.regime == p.regime


def test_probe_config_of_mixed_sizes_is_what_predict_network_describes():
    config = ex.ProbeConfig("relu", "he_normal", sizes=(30, 20, 5), final_linear=True, repeats=2)
    assert (config.depth, config.width, config.square, config.streamed) == (2, None, False, False)
    net = config.build(np.random.default_rng(0))
    assert [layer.label() for layer in net] == ["Linear(30 -> 20)", "ReLU()", "Linear(20 -> 5)"]
    p, _ = ex.predict_config(config)
    assert p.profile.log10_mean_abs_grad == pytest.approx(theory.predict_network(net).log10_mean_abs_grad)


@pytest.mark.parametrize("sizes, error, message", [
    ((5,), ValueError, "sizes needs at least 2 widths"),
    ("5,3", TypeError, "sizes must be a list of layer widths"),
    ((5, 0), ValueError, "sizes[1] must be a positive integer, got 0"),
    ((5, 2.0), TypeError, "sizes[1] must be a positive integer, got 2.0"),
    ((10**5, 3, 10**5), ValueError, "more than 512 MB"),
])
def test_probe_config_refuses_bad_sizes_naming_them(sizes, error, message):
    with pytest.raises(error, match=re.escape(message)):
        ex.ProbeConfig("relu", "he_normal", sizes=sizes)


def test_probe_config_final_linear_takes_a_bool():
    with pytest.raises(TypeError, match="final_linear must be True or False"):
        ex.ProbeConfig("relu", "he_normal", final_linear="False")
