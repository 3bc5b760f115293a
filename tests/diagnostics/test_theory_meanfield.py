import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet
from diagnostics.theory import fixed_point, gradient_gain, variance_map

SINE = tinynet.Activation(np.sin, np.cos, name="sine")


@settings(max_examples=40, deadline=None)
@given(log_q=st.floats(-250.0, 250.0), sigma_w=st.floats(0.1, 10.0))
def test_relu_variance_map_halves_the_variance(log_q, sigma_w):
    # E[relu(sqrt(q) Z)^2] = q / 2 exactly, far beyond the clamped range too
    q = 10.0 ** log_q
    assert variance_map("relu", q, sigma_w) == pytest.approx(sigma_w ** 2 * q / 2, rel=1e-12)


@pytest.mark.parametrize("q", [0.0, 1e-300, 1e-3, 1.0, 1e5, 1e300, math.inf])
def test_relu_gain_is_half_sigma_w_squared_at_any_variance(q):
    assert gradient_gain("relu", q, 1.7) == pytest.approx(1.7 ** 2 / 2, rel=1e-13)


def test_identity_maps_are_linear():
    assert variance_map("identity", 3.0, 1.5, sigma_b=0.5) == pytest.approx(1.5 ** 2 * 3.0 + 0.25)
    assert gradient_gain("identity", 3.0, 1.5) == pytest.approx(1.5 ** 2)


def test_closed_forms_of_a_custom_sine_activation():
    # E[sin^2(sqrt(q) Z)] = (1 - exp(-2q)) / 2 and E[cos^2] = (1 + exp(-2q)) / 2
    # (the rule refines only near 0, so a fast oscillation far out is kept to q <= 4)
    for q in (1e-3, 0.7, 4.0):
        assert variance_map(SINE, q, 2.0, 0.3) == pytest.approx(
            4.0 * (1 - math.exp(-2 * q)) / 2 + 0.09, rel=1e-10)
        assert gradient_gain(SINE, q, 2.0) == pytest.approx(4.0 * (1 + math.exp(-2 * q)) / 2, rel=1e-10)


def test_tanh_gain_tends_to_sigma_w_squared_as_the_variance_vanishes():
    assert gradient_gain("tanh", 0.0, 0.8) == pytest.approx(0.64, rel=1e-12)
    assert gradient_gain("tanh", 1e-8, 0.8) == pytest.approx(0.64, rel=1e-7)


def test_relu_fixed_point_with_bias():
    # q = sigma_w^2 q / 2 + sigma_b^2 has the stable solution sigma_b^2 / (1 - sigma_w^2 / 2)
    assert fixed_point("relu", 1.2, sigma_b=0.3) == pytest.approx(0.09 / (1 - 0.72), rel=1e-12)
    assert fixed_point("relu", 1.2) == 0.0
    assert fixed_point("relu", 1.5) == math.inf


def test_tanh_variance_vanishes_below_sigma_w_one_and_not_above():
    assert fixed_point("tanh", 0.9) == 0.0
    q_star = fixed_point("tanh", 1.5)
    assert q_star > 0.1
    assert variance_map("tanh", q_star, 1.5) == pytest.approx(q_star, rel=1e-12)


def test_sigmoid_fixed_point_solves_the_map_and_is_reached_by_iteration():
    q_star = fixed_point("sigmoid", 8.0)
    assert variance_map("sigmoid", q_star, 8.0) == pytest.approx(q_star, rel=1e-12)
    q = 64.0
    for _ in range(300):
        q = variance_map("sigmoid", q, 8.0)
    assert q == pytest.approx(q_star, rel=1e-9)
    # phi(0) = 1/2 keeps the variance away from 0: q* >= sigma_w^2 / 4
    assert q_star > 16.0


def test_slowly_converging_fixed_point_near_the_transition():
    # at sigma_w = 1.01 the tanh map creeps towards q* ~ 0.01; the bisection must find it
    q_star = fixed_point("tanh", 1.01)
    assert 0.005 < q_star < 0.02
    assert variance_map("tanh", q_star, 1.01) == pytest.approx(q_star, rel=1e-10)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="sigma_w must be >= 0"):
        variance_map("relu", 1.0, -1.0)
    with pytest.raises(ValueError, match="q must be a variance"):
        gradient_gain("relu", -1.0, 1.0)
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        gradient_gain("rleu", 1.0, 1.0)
    with pytest.raises(TypeError, match="activation must be a tinynet Activation"):
        gradient_gain(np.tanh, 1.0, 1.0)
