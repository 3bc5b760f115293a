import tracemalloc
import warnings

import numpy as np
import pytest

import tinynet as tn
from diagnostics.deep import stream_probe
from diagnostics.probes import gradient_probe


def same_network(activation, init, depth, width, seed, bias_init=None):
    """The MLP stream_probe builds, held whole: layer l drawn from the l-th seed it takes."""
    seeds = np.random.default_rng(seed).integers(0, 2**63, size=depth)
    layers = []
    for s in seeds:
        layers.append(tn.Linear(width, width, bias=bias_init is not None, weight_init=init,
                                bias_init=bias_init, rng=np.random.default_rng(s)))
        layers.append(tn.activation(activation))
    return tn.Sequential(*layers)


@pytest.mark.parametrize("activation, init, bias", [
    ("relu", tn.init.Normal(std=0.3), None),
    ("tanh", tn.init.Normal(std=0.15), tn.init.Normal(std=0.1)),
    ("sigmoid", tn.init.XavierUniform(), None),
])
def test_stream_probe_equals_the_whole_network_probe(activation, init, bias):
    streamed = stream_probe(activation, init, 12, 16, rng=np.random.default_rng(3), bias_init=bias)
    whole = gradient_probe(same_network(activation, init, 12, 16, 3, bias))
    assert streamed.layers == whole.layers
    np.testing.assert_allclose(streamed.per_layer_grad_norm_log10, whole.per_layer_grad_norm_log10, atol=1e-12)
    assert streamed.log10_mean_abs_grad == pytest.approx(whole.log10_mean_abs_grad, abs=1e-12)


def test_memory_is_depth_times_width_not_depth_times_width_squared():
    depth, width = 2000, 64
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = stream_probe("relu", "normal:0.8", depth, width, rng=np.random.default_rng(0))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    weights = depth * width * width * 8  # what holding the network would take: 65 MB
    assert peak < weights / 10
    assert 1000 < result.log10_mean_abs_grad < 1500  # far beyond float range, finite


def test_nonfinite_forward_names_the_layer():
    result = stream_probe("relu", "normal:30", 300, 10, rng=np.random.default_rng(0),
                          bias_init=tn.init.Constant(1.0))
    assert not result.finite and result.nonfinite["pass"] == "forward"
    assert result.nonfinite["type"] in ("Linear", "ReLU")


def test_a_dead_network_gives_minus_infinity_like_the_whole_network_probe():
    assert stream_probe("relu", "constant:-1", 3, 4, rng=np.random.default_rng(0)).log10_mean_abs_grad == -np.inf


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"x must hold one input of width 4, got shape \(5,\)"):
        stream_probe("relu", "he_normal", 3, 4, x=np.ones(5))
    with pytest.raises(ValueError, match="depth must be a positive integer, got 0"):
        stream_probe("relu", "he_normal", 0, 4)
