import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet
from diagnostics.theory import gaussian_expectation, gaussian_nodes

ACTIVATIONS = tinynet.available_activations()
Q_GRID = 10.0 ** np.arange(-4.0, 4.01, 0.5)


def quad_reference(f, q):
    """E[f(sqrt(q) Z)] by scipy's adaptive quadrature, split where f(sqrt(q) z) varies fast."""
    from scipy.integrate import quad

    scale = math.sqrt(q)

    def integrand(z):
        return float(f(np.asarray(scale * z))) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    cuts = {0.0} | {sign * c / scale for c in (0.3, 1, 3, 10, 30) for sign in (1, -1)}
    edges = [-12.0, *sorted(c for c in cuts if abs(c) < 12.0), 12.0]
    return sum(quad(integrand, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
               for a, b in zip(edges[:-1], edges[1:]))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_matches_adaptive_quadrature_for_every_activation(name):
    act = tinynet.activation(name)
    integrands = {"phi^2": lambda x: act.fn(x) ** 2, "phi'^2": lambda x: act.derivative(x) ** 2}
    for label, f in integrands.items():
        for q in Q_GRID:
            expected = quad_reference(f, q)
            assert gaussian_expectation(f, q) == pytest.approx(expected, rel=1e-6), (label, q)


def test_the_saturated_sigmoid_spike_defeats_a_low_order_hermite_rule():
    # the test above is only meaningful if the spike is hard: a 20-point
    # Gauss-Hermite rule misses sigmoid'(sqrt(q) Z)^2 at q = 1e4 by far
    act = tinynet.activation("sigmoid")
    f = lambda x: act.derivative(x) ** 2  # noqa: E731
    z, w = np.polynomial.hermite_e.hermegauss(20)
    hermite = float(f(100.0 * z) @ w) / math.sqrt(2 * math.pi)
    exact = quad_reference(f, 1e4)
    assert abs(hermite / exact - 1) > 0.5
    assert gaussian_expectation(f, 1e4) == pytest.approx(exact, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(log_q=st.floats(-300.0, 300.0))
def test_moments_of_the_gaussian_itself(log_q):
    q = 10.0 ** log_q
    assert gaussian_expectation(np.ones_like, q) == pytest.approx(1.0, rel=1e-13)
    assert gaussian_expectation(lambda x: x * x, q) == pytest.approx(q, rel=1e-12)
    assert gaussian_expectation(lambda x: (x / math.sqrt(q)) ** 4, q) == pytest.approx(3.0, rel=1e-12)


def test_zero_variance_evaluates_at_zero():
    assert gaussian_expectation(lambda x: np.cos(x) + 1.0, 0.0) == 2.0


def test_bad_variance_and_bad_function_are_named():
    with pytest.raises(ValueError, match="q must be"):
        gaussian_expectation(np.cos, -1.0)
    with pytest.raises(ValueError, match="q must be"):
        gaussian_expectation(np.cos, math.nan)
    with pytest.raises(ValueError, match="elementwise"):
        gaussian_expectation(lambda x: x.sum(), 1.0)


def test_fast_enough_for_the_lecture_cli():
    # the lecture CLI needs ~650 expectations in well under its 2 s budget
    import time

    act = tinynet.activation("sigmoid")
    f = lambda x: act.derivative(x) ** 2  # noqa: E731
    start = time.perf_counter()
    for q in np.geomspace(0.1, 300.0, 650):
        gaussian_expectation(f, q)
    assert time.perf_counter() - start < 0.5


def test_nodes_are_symmetric_and_weights_sum_to_one():
    x, w = gaussian_nodes(2.0)
    np.testing.assert_allclose(x, -x[::-1])
    assert w.sum() == pytest.approx(1.0, abs=1e-14)


def test_an_array_of_variances_gives_what_each_variance_gives_alone():
    act = tinynet.activation("gelu")
    q = np.array([0.0, 1e-3, 0.7, 2.0, 30.0, 1e5])
    together = gaussian_expectation(lambda x: act.derivative(x) ** 2, q)
    alone = [gaussian_expectation(lambda x: act.derivative(x) ** 2, v) for v in q]
    assert together.shape == q.shape
    np.testing.assert_allclose(together, alone, rtol=1e-14, atol=0)
