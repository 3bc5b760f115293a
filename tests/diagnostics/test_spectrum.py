import numpy as np
import pytest

import tinynet as tn
from diagnostics.spectrum import jacobian_spectrum


def deep(activation, init, depth=30, width=40, seed=0):
    return tn.MLP([width] * (depth + 1), activation, weight_init=init, bias=False,
                  final_activation=True, rng=np.random.default_rng(seed))


def test_orthogonal_linear_network_is_exactly_isometric():
    spec = jacobian_spectrum(deep("identity", tn.init.Orthogonal()))
    np.testing.assert_allclose(spec.log10_singular_values, 0.0, atol=1e-12)
    assert spec.spread < 1e-12


def test_gaussian_layers_of_the_same_variance_are_not():
    spec = jacobian_spectrum(deep("identity", tn.init.LeCunNormal()))
    assert spec.log10_condition_number > 10  # 30 Gaussian layers: ill conditioned
    assert abs(spec.log10_max) < 1  # though the largest direction keeps its size
    # the Lyapunov spectrum of Gaussian products: the median decays by
    # 0.5 * (log(2 / k) + digamma(k / 4)) nats a layer, here -0.35
    from scipy.special import digamma

    median_rate = 0.5 * (np.log(2 / 40) + digamma(40 / 4 + 0.5)) / np.log(10)
    assert spec.log10_median == pytest.approx(30 * median_rate, abs=1.0)
    assert not spec.resolved.all()  # the smallest are beyond what an SVD resolves


def test_critical_tanh_lies_between():
    ortho_linear = jacobian_spectrum(deep("identity", tn.init.Orthogonal())).spread
    gauss_linear = jacobian_spectrum(deep("identity", tn.init.LeCunNormal())).spread
    tanh = jacobian_spectrum(deep("tanh", tn.init.Orthogonal())).spread
    assert ortho_linear < tanh < gauss_linear


def test_matches_numpy_svd_where_finite():
    net = deep("tanh", tn.init.Normal(std=0.2), depth=5, width=10)
    from diagnostics.probes import gradient_probe

    expected = np.linalg.svd(gradient_probe(net).jacobian, compute_uv=False)
    np.testing.assert_allclose(jacobian_spectrum(net).log10_singular_values, np.log10(expected), atol=1e-10)


def test_beyond_float_range():
    spec = jacobian_spectrum(deep("relu", tn.init.Normal(std=0.8), depth=800, width=30))
    assert spec.log10_max > 300
    assert np.all(np.isfinite(spec.log10_singular_values[spec.resolved]))
    assert np.isfinite(spec.spread)  # exact zeros (a rank-deficient ReLU J) are left out


def test_nonfinite_forward_is_an_error():
    net = tn.MLP([10] * 251, "relu", weight_init=tn.init.Normal(std=30.0), bias_init=tn.init.Constant(1.0),
                 final_activation=True, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="forward pass became non-finite at layer"):
        jacobian_spectrum(net)


def test_median_is_withheld_when_it_lies_among_unresolved_values():
    from diagnostics.spectrum import Spectrum

    assert np.isnan(Spectrum(np.array([0.0, -20.0, -21.0, -22.0]), 15.0).log10_median)
    assert Spectrum(np.array([0.0, -1.0, -2.0, -22.0]), 15.0).log10_median == pytest.approx(-1.5)


def test_normalized_variance_takes_every_eigenvalue():
    # 50 tanh layers of Gaussian weights: about 30 of the 100 singular values lie
    # below what the SVD resolves; they still count, as (nearly) zero eigenvalues
    from diagnostics.probes import gradient_probe

    net = deep("tanh", tn.init.XavierNormal(), depth=50, width=100)
    spec = jacobian_spectrum(net)
    assert 0 < spec.resolved.sum() < 90
    eig = np.linalg.svd(gradient_probe(net).jacobian, compute_uv=False) ** 2
    expected = np.log10(eig.var() / eig.mean() ** 2)
    assert spec.log10_normalized_variance == pytest.approx(expected, abs=1e-9)
    # leaving the unresolved ones out gives a clearly different (lower) number
    kept = eig[spec.resolved]
    assert np.log10(kept.var() / kept.mean() ** 2) < expected - 0.1


def test_normalized_variance_of_a_single_resolved_value_is_the_largest_possible():
    from diagnostics.spectrum import Spectrum, largest_log10_normalized_variance

    one = Spectrum(np.array([0.0, -20.0, -25.0, -np.inf]), 15.0)
    assert one.log10_normalized_variance == pytest.approx(np.log10(3))
    assert largest_log10_normalized_variance(4) == pytest.approx(np.log10(3))
    assert largest_log10_normalized_variance(1) == -np.inf
    assert Spectrum(np.array([2.0, 2.0, 2.0]), 15.0).log10_normalized_variance == -np.inf
    assert np.isnan(Spectrum(np.full(3, -np.inf), 15.0).log10_normalized_variance)
    # far beyond float range the statistic is the same: it depends on ratios only
    shifted = Spectrum(np.array([400.0, 399.0, 380.0]), 15.0)
    plain = Spectrum(np.array([0.0, -1.0, -20.0]), 15.0)
    assert shifted.log10_normalized_variance == pytest.approx(plain.log10_normalized_variance)


def test_nonfinite_network_names_the_pass():
    from diagnostics.spectrum import NonFiniteNetwork

    net = tn.MLP([10] * 251, "relu", weight_init=tn.init.Normal(std=30.0), bias_init=tn.init.Constant(1.0),
                 final_activation=True, rng=np.random.default_rng(0))
    with pytest.raises(NonFiniteNetwork) as info:
        jacobian_spectrum(net)
    assert info.value.where["pass"] == "forward" and info.value.where["type"] == "Linear"
