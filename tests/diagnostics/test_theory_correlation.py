import math

import numpy as np
import pytest

import tinynet as tn
from diagnostics import theory


def measured_correlations(act, sigma_w, sigma_b, depth, width=400, seeds=4):
    """Correlation of two inputs' pre-activations after each layer, median over a few networks."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, width))
    x[1] = 0.6 * x[0] + 0.8 * x[1]  # start at correlation ~0.6
    runs = []
    for seed in range(seeds):
        r = np.random.default_rng(seed)
        h, cs = x, []
        for _ in range(depth):
            z = h @ r.normal(0, sigma_w / math.sqrt(width), (width, width)).T + r.normal(0, sigma_b, width)
            cs.append(z[0] @ z[1] / np.linalg.norm(z[0]) / np.linalg.norm(z[1]))
            h = tn.activation(act).fn(z)
        runs.append(cs)
    return np.median(runs, axis=0)


def test_chaotic_tanh_settles_at_c_star_at_the_rate_chi_c():
    r = theory.regime("tanh", 1.5, 0.3)
    assert r.name == "chaotic" and 0 < r.c_star < 1 and r.chi_c < 1
    assert r.xi_c == pytest.approx(-1 / math.log(r.chi_c))
    c = measured_correlations("tanh", 1.5, 0.3, depth=40)
    assert abs(c[-1] - r.c_star) < 0.03
    # the distance from c* shrinks by chi_c per layer, once q has settled
    rate = np.polyfit(np.arange(5, 20), np.log(np.abs(c[5:20] - r.c_star)), 1)[0]
    assert rate == pytest.approx(math.log(r.chi_c), abs=0.02)


def test_ordered_networks_make_all_inputs_alike():
    r = theory.regime("tanh", 0.8, 0.3)
    assert r.name == "ordered" and r.c_star == 1.0 and r.chi_c == pytest.approx(r.chi)
    assert measured_correlations("tanh", 0.8, 0.3, depth=30)[-1] > 0.99


def test_the_correlation_map_at_its_fixed_point():
    r = theory.regime("tanh", 2.0, 0.1)
    q = r.q_fixed_point
    assert theory.correlation_map("tanh", r.c_star, q, 2.0, 0.1) == pytest.approx(r.c_star, abs=1e-9)
    assert theory.correlation_map("tanh", 1.0, q, 2.0, 0.1) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="c must be a correlation"):
        theory.correlation_map("tanh", 1.5, q, 2.0)


def test_depth_scales_diverge_at_the_transition():
    sigma_w = theory.critical_sigma_w("tanh", 0.1)
    xi = [theory.regime("tanh", sigma_w * f, 0.1).xi_c for f in (0.9, 0.99, 1.01, 1.1)]
    assert xi[1] > 5 * xi[0] and xi[2] > 5 * xi[3]


def test_softplus_at_hes_scale_vanishes_slowly_and_is_not_critical():
    for sigma_b in (0.0, 0.3):
        assert theory.fixed_point("softplus", math.sqrt(2), sigma_b) == math.inf
        r = theory.regime("softplus", math.sqrt(2), sigma_b)
        assert r.name == "slowly vanishing" and r.q_fixed_point == math.inf
        assert "from below" in str(r)
    with pytest.raises(theory.NoCriticalPoint, match="slowly vanishing"):
        theory.critical_sigma_w("softplus")
    # the mean-field gradient keeps falling, slower than exponentially
    p = theory.predict("softplus", math.sqrt(2), depth=500, width=100)
    assert np.all(p.chi < 1) and np.all(np.diff(p.chi[10:]) > 0)
    loss = -np.diff(p.profile.mean_field_per_layer_grad_norm_log10)[::-1]  # decades lost per layer, forward order
    assert np.all(loss > 0) and loss[-1] < loss[0] / 5


def test_the_other_creeping_regimes():
    # ELU and SELU at the scale where chi_1 -> 1 approach it from above; ReLU and the
    # identity have chi_1 = 1 exactly however q grows, with biases too
    assert theory.regime("elu", math.sqrt(2)).name == "slowly exploding"
    assert theory.regime("relu", math.sqrt(2), 0.3).name == "critical"
    assert theory.regime("identity", 1.0, 0.3).name == "critical"
    assert theory.regime("softplus", 1.4).name == "ordered"
    # just above, the variance grows exponentially: chaotic by the gradient, and no c*
    r = theory.regime("softplus", 1.43)
    assert r.name == "chaotic" and r.c_star is None and r.growth.startswith("q grows by a factor")


def test_the_phase_diagram_puts_the_critical_line_where_xi_c_diverges(tmp_path):
    d = theory.phase_diagram("tanh", sigma_w2=(0.6, 4.0), sigma_b2=(0.0, 0.2), points=(8, 3))
    assert d.xi_c.shape == d.chi.shape == (3, 8)
    assert d.critical_sigma_w2[-1] == pytest.approx(theory.critical_sigma_w("tanh", math.sqrt(0.2)) ** 2)
    # ordered to the left of the line, chaotic to the right
    assert np.all((d.chi < 1) == (d.sigma_w2[None, :] < d.critical_sigma_w2[:, None]))
    pytest.importorskip("matplotlib")
    theory.plot_phase_diagram(d, tmp_path / "phase.png")
    assert (tmp_path / "phase.png").stat().st_size > 10_000


def test_the_phase_diagram_solves_its_points_together_as_regime_solves_each():
    # the grid holds ordered, chaotic (c* < 1, by Newton's method) and unbounded points
    d = theory.phase_diagram("elu", sigma_w2=(0.5, 4.0), sigma_b2=(0.1, 0.5), points=(4, 2))
    kinds = set()
    for i, b2 in enumerate(d.sigma_b2):
        for j, w2 in enumerate(d.sigma_w2):
            r = theory.regime("elu", math.sqrt(w2), math.sqrt(b2))
            kinds.add(r.name)
            assert d.chi[i, j] == pytest.approx(r.chi, rel=1e-12)
            assert d.unbounded[i, j] == (r.q_fixed_point == math.inf)
            if r.xi_c is None:
                assert math.isnan(d.xi_c[i, j])
            else:
                assert d.xi_c[i, j] == pytest.approx(r.xi_c, rel=1e-9)
    assert {"ordered", "chaotic"} <= kinds and d.unbounded.any() and not d.unbounded.all()


@pytest.mark.parametrize("name", ["tanh", "gelu", "softplus", "selu"])
def test_a_regime_name_never_contradicts_c_star(name):
    for sigma_w in (0.8, 1.2, 1.5, 2.0):
        for sigma_b in (0.0, 0.5):
            r = theory.regime(name, sigma_w, sigma_b)
            if r.name == "chaotic" and r.c_star is not None:
                assert 0.0 <= r.c_star < 1.0, r
            if r.c_star == 1.0:
                assert r.name in ("ordered", "critical"), r
            # the correlation map needs a fixed point q*: none where the variance grows without bound
            assert (r.c_star is None) == (r.q_fixed_point == math.inf), r
