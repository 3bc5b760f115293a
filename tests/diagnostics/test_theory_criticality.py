import math

import numpy as np
import pytest

import tinynet
from diagnostics.theory import (
    CRITICAL_TOLERANCE, NoCriticalPoint, critical_init, critical_sigma_w, depth_scale, predict, regime,
    sigma_w_from_std,
)


@pytest.mark.parametrize("name, sigma_w_squared", [
    ("relu", 2.0),                       # He
    ("identity", 1.0),
    ("tanh", 1.0),
    ("scaled_sigmoid", 1.0),             # 2 tanh(x / 2): slope 1 at 0, like tanh
    ("leaky_relu", 2.0 / (1 + 0.01 ** 2)),
])
def test_known_critical_points(name, sigma_w_squared):
    assert critical_sigma_w(name) ** 2 == pytest.approx(sigma_w_squared, abs=1e-6)


def test_identity_and_relu_critical_points_do_not_depend_on_the_bias():
    assert critical_sigma_w("relu", 0.5) ** 2 == pytest.approx(2.0, abs=1e-6)
    assert critical_sigma_w("identity", 0.5) ** 2 == pytest.approx(1.0, abs=1e-6)


def test_tanh_critical_sigma_w_grows_with_the_bias():
    assert critical_sigma_w("tanh", 0.5) > 1.2


def test_sigmoid_has_a_critical_point_far_out():
    # phi(0) = 1/2 keeps q* > 0, so sigmoid saturates before chi_1 reaches 1
    sigma_w = critical_sigma_w("sigmoid")
    assert 9.0 < sigma_w < 11.0
    found = regime("sigmoid", sigma_w)
    assert found.name == "critical"
    assert abs(found.chi - 1.0) <= CRITICAL_TOLERANCE


def test_critical_init_draws_weights_with_the_critical_variance():
    init = critical_init("relu")
    assert isinstance(init, tinynet.init.Initializer)
    assert init.variance((300, 300)) == pytest.approx(2.0 / 300, rel=1e-6)
    he = tinynet.init.HeNormal()
    assert init.variance((300, 300)) == pytest.approx(he.variance((300, 300)), rel=1e-6)
    weights = init((300, 300), np.random.default_rng(0))
    assert weights.var() == pytest.approx(2.0 / 300, rel=0.02)


def test_gelu_without_bias_jumps_over_criticality():
    # q* = 0 is stable for small sigma_w (chi_1 = sigma_w^2 / 4 < 1 there); when
    # the variance reached from the input escapes to infinity, chi_1 = sigma_w^2 / 2 > 1
    with pytest.raises(NoCriticalPoint, match="jumps over 1"):
        critical_sigma_w("gelu")
    assert critical_sigma_w("gelu", 0.5) == pytest.approx(1.4, abs=0.01)


def test_no_critical_point_for_a_constant_activation():
    constant = tinynet.Activation(lambda z: np.full_like(z, 0.5), np.zeros_like, name="constant")
    with pytest.raises(NoCriticalPoint, match="stays below 1"):
        critical_sigma_w(constant)


def test_no_critical_point_outside_the_searched_bounds():
    with pytest.raises(NoCriticalPoint, match=r"sigma_w in \[0.1, 5\]"):
        critical_sigma_w("sigmoid", bounds=(0.1, 5.0))
    assert issubclass(NoCriticalPoint, ValueError)


# the lecture's story: relu 0.1 vanishes, 0.2..0.8 explode, Xavier is like
# normal(0, 0.1), sigmoid vanishes at every scale, scaled sigmoid 0.1 is stable
@pytest.mark.parametrize("name, std, expected", [
    ("relu", 0.1, "ordered"), ("relu", 0.2, "chaotic"), ("relu", 0.4, "chaotic"),
    ("relu", 0.8, "chaotic"), ("sigmoid", 0.1, "ordered"), ("sigmoid", 0.8, "ordered"),
    ("scaled_sigmoid", 0.1, "critical"), ("scaled_sigmoid", 0.2, "chaotic"),
    ("scaled_sigmoid", 0.8, "chaotic"),
])
def test_regime_of_the_lecture_scales(name, std, expected):
    assert regime(name, sigma_w_from_std(std, 100)).name == expected


def test_tanh_regimes_around_sigma_w_one():
    assert regime("tanh", 0.99).name == "ordered"
    assert regime("tanh", 1.0).name == "critical"
    assert regime("tanh", 1.01).name == "chaotic"
    assert regime("tanh", 0.99).chi == pytest.approx(0.99 ** 2, rel=1e-10)


def test_depth_scale():
    assert depth_scale(math.exp(-1.0)) == pytest.approx(1.0)
    assert depth_scale(math.exp(0.5)) == pytest.approx(2.0)
    assert depth_scale(1.0) == math.inf
    relu = regime("relu", 1.0)
    assert relu.chi == pytest.approx(0.5)
    assert relu.depth_scale == pytest.approx(1 / math.log(2))
    assert regime("identity", 1.0).depth_scale == math.inf


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="sigma_w must be > 0"):
        regime("relu", -1.0)
    with pytest.raises(ValueError, match="sigma_b must be >= 0"):
        critical_sigma_w("relu", -0.1)
    with pytest.raises(ValueError, match="low < high"):
        critical_sigma_w("relu", bounds=(2.0, 1.0))
    with pytest.raises(TypeError, match="activation must be a tinynet Activation"):
        critical_sigma_w(tinynet.Linear(2, 2))


@pytest.mark.parametrize("name", ["softplus", "elu", "gelu", "silu", "selu"])
def test_an_unbounded_variance_reports_how_it_grows_not_the_solvers_cut_off(name):
    r = regime(name, 2.0)  # sigma_w^2 = 4
    # chaotic by its gradient (chi_1 > 1), with no c*: there is no q* to take the correlation map at
    assert r.q_fixed_point == math.inf and r.name == "chaotic"
    assert r.c_star is r.chi_c is r.xi_c is r.xi_q is None
    # these activations are ReLU-like far out: q and the squared gradient both grow by chi_1 per layer
    scale = 1.0507009873554805 ** 2 if name == "selu" else 1.0
    assert r.chi == pytest.approx(2.0 * scale, rel=1e-9)
    assert r.growth == f"q grows by a factor {r.chi:.7g} per layer"
    assert "nan" not in str(r) and "q grows by a factor" in str(r)


def test_softplus_at_hes_scale_grows_like_l_to_the_two_thirds():
    # docs/theory.md derives q ~ L^(2/3) and ln(squared gradient) ~ -c L^(2/3) without
    # biases; the theory's own per-layer numbers follow both laws
    r = regime("softplus", math.sqrt(2))
    assert r.growth == "q grows like L^(2/3), the squared gradient falls like exp(-c L^(2/3))"
    p = predict("softplus", math.sqrt(2), depth=600, width=100)
    depth, loss = np.arange(1, 601), np.cumsum(-np.log(p.chi))
    for y in (p.q, loss):
        assert np.polyfit(np.log(depth[99:]), np.log(y[99:]), 1)[0] == pytest.approx(2 / 3, abs=0.04)
    # with biases the sigma_b^2 each layer adds wins: q ~ L, ln(gradient) ~ -c sqrt(L)
    assert regime("softplus", math.sqrt(2), 0.3).growth == (
        "q grows like L, the squared gradient falls like exp(-c L^(1/2))")
    assert regime("elu", math.sqrt(2)).growth == "q grows like L, the squared gradient grows like exp(+c L^(1/2))"
