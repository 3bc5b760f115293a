"""predict_network on any network: the theory composed from one map per layer, against PyTorch's measurements.

tests/reference/theory.json holds, per network, the median and the standard
deviation over 40 seeds of the change of log10 ||J||_F from output to input,
measured with PyTorch by tests/reference/make_theory_fixtures.py;
theory_batchnorm.json the same for BatchNorm networks, of the whole batch's
Jacobian.
"""

import json
import pathlib

import numpy as np
import pytest

import tinynet as tn
from diagnostics.profile import GradientProfile
from diagnostics.theory import HEAVY_TAIL_BATCH, predict_network

REFERENCE = pathlib.Path(__file__).resolve().parent.parent / "reference"
FIXTURES = json.loads((REFERENCE / "theory.json").read_text(encoding="utf-8"))
BATCH_NORM = json.loads((REFERENCE / "theory_batchnorm.json").read_text(encoding="utf-8"))
# the targets, in decades of the median, by how the network is predicted
TARGETS = {"plain": 0.15, "remedy": 0.2, "composed": 0.3, "estimated": 0.3}
INITS = {"he_normal": tn.init.HeNormal(), "lecun_normal": tn.init.LeCunNormal(),
         "lecun_uniform": tn.init.LeCunUniform(), "orthogonal": tn.init.Orthogonal()}


class Scale(tn.Layer):
    """A user's layer: one learned factor per feature (no rule in the theory)."""

    def __init__(self, n, value):
        super().__init__()
        self.weight = tn.Parameter(np.full(n, float(value)))

    def _forward(self, x):
        return x * self.weight.data, x

    def _backward(self, x, dy):
        self.weight.accumulate((dy * x).sum(axis=0))
        return dy * self.weight.data


def build(specs, rng):
    layers = []
    for spec in specs:
        kind = spec[0]
        if kind == "linear":
            _, n_in, n_out, init, bias_std = spec
            layers.append(tn.Linear(n_in, n_out, weight_init=INITS[init], bias=bias_std is not None,
                                    bias_init=None if bias_std is None else tn.init.Normal(std=bias_std), rng=rng))
        elif kind == "act":
            layers.append(tn.activation(spec[1]))
        elif kind == "layernorm":
            layers.append(tn.LayerNorm(spec[1]))
        elif kind == "batchnorm":
            layers.append(tn.BatchNorm1d(spec[1]))
        elif kind == "dropout":
            layers.append(tn.Dropout(spec[1], rng=rng))
        elif kind == "residual":
            layers.append(tn.Residual(build(spec[2], rng), alpha=spec[1]))
        else:
            layers.append(Scale(spec[1], spec[2]))
    return tn.Sequential(*layers)


def change_and_sd(p):
    """The predicted typical change of log10 ||J|| from output to input, and its sd between networks."""
    return p.change_log10, p.change_log10_sd


@pytest.mark.parametrize("name", sorted(FIXTURES["cases"]))
def test_prediction_is_within_the_target_of_pytorchs_measurement(name):
    case = FIXTURES["cases"][name]
    p = predict_network(build(case["layers"], np.random.default_rng(0)))
    change, sd = change_and_sd(p)
    assert abs(change - case["median_change_log10"]) < TARGETS[case["path"]]
    assert 0.7 <= case["sd_change_log10"] / sd <= 1.4
    if case["path"] in ("composed", "estimated"):
        assert isinstance(p, GradientProfile) and p.source == {"composed": "predicted"}.get(case["path"], case["path"])


@pytest.mark.parametrize("name", sorted(BATCH_NORM["cases"]))
def test_batch_norm_prediction_is_within_the_target_of_pytorchs_measurement(name):
    case = BATCH_NORM["cases"][name]
    p = predict_network(build(case["layers"], np.random.default_rng(0)), batch_size=case["batch_size"])
    change, sd = change_and_sd(p)
    assert abs(change - case["median_change_log10"]) < 0.3
    assert 0.7 <= case["sd_change_log10"] / sd <= 1.4
    assert (p.note is not None) == (case["batch_size"] < HEAVY_TAIL_BATCH)  # the mean-field is far off there


@pytest.mark.parametrize("make", [
    lambda rng: [tn.Linear(30, 30, rng=rng), tn.ReLU(), tn.LayerNorm(30)],  # a norm after the activation
    lambda rng: [tn.Residual(tn.Sequential(tn.Linear(30, 30, bias=True, bias_init="normal:0.1", rng=rng),
                                           tn.ReLU()))],  # biases inside a remedy block
    lambda rng: [tn.Linear(30, 30, rng=rng), tn.LayerNorm(30), tn.ReLU(), tn.Linear(30, 30, rng=rng), tn.ReLU()],
    lambda rng: [tn.Tanh(), tn.Linear(30, 30, rng=rng)],  # an activation before any Linear
])
def test_shapes_the_exact_walk_refused_are_composed(make):
    rng = np.random.default_rng(0)
    p = predict_network(tn.Sequential(*(make(rng) * 3)))
    assert isinstance(p, GradientProfile) and p.source == "predicted"
    assert np.all(np.isfinite(p.per_layer_grad_norm_log10)) and p.change_log10_sd > 0


def test_an_activation_subclass_gets_the_activation_rule_from_its_own_function():
    class Shifted(tn.Tanh):  # tanh of z + 1: not tanh, so a rule keyed by name would be wrong
        def __init__(self):
            super().__init__()
            self.fn = lambda z: np.tanh(z + 1.0)
            self.derivative = lambda z: 1.0 - np.tanh(z + 1.0) ** 2

    def net(act):
        rng = np.random.default_rng(0)
        return tn.Sequential(tn.Linear(30, 30, rng=rng), tn.LayerNorm(30), act, tn.Linear(30, 30, rng=rng), act)

    shifted, plain = predict_network(net(Shifted())), predict_network(net(tn.Tanh()))
    assert shifted.source == plain.source == "predicted"
    assert shifted.change_log10 < plain.change_log10 - 0.05  # slopes 1 - tanh(z + 1)**2 are smaller


class Doubler(tn.Layer):
    """Multiplies by 2 and says so: its own theory_map is used instead of an estimate."""

    def _forward(self, x):
        return 2.0 * x, None

    def _backward(self, ctx, dy):
        return 2.0 * dy

    def theory_map(self, width, mean, mean_sq):
        """Output mean and mean square, and the squared gradient's gain, of y = 2 x."""
        return {"mean": 2.0 * mean, "mean_sq": 4.0 * mean_sq, "gain": 4.0}


def test_a_layers_own_map_is_used_and_agrees_with_the_estimate_of_it():
    rng = np.random.default_rng(0)
    own = tn.Sequential(tn.Linear(40, 40, rng=rng), tn.Tanh(), Doubler(), tn.Linear(40, 40, rng=rng))
    said = predict_network(own)
    Doubler.theory_map, saved = None, Doubler.theory_map
    try:
        estimated = predict_network(own, rng=np.random.default_rng(1))
    finally:
        Doubler.theory_map = saved
    assert said.source == "predicted" and estimated.source == "estimated"
    assert estimated.change_log10 == pytest.approx(said.change_log10, abs=0.02)


def test_an_estimate_is_seeded_and_leaves_the_layer_as_it_was():
    rng = np.random.default_rng(0)
    scale = Scale(20, 1.5)
    scale.eval()
    net = tn.Sequential(tn.Linear(20, 20, rng=rng), tn.Tanh(), scale)
    first, again = (predict_network(net, rng=np.random.default_rng(5)) for _ in range(2))
    assert first.source == "estimated"
    assert first.change_log10 == again.change_log10
    assert scale.weight.grad is None
    assert not scale.training and scale.weight.requires_grad


def test_batch_norm_outside_a_stack_of_identical_blocks_is_refused_with_its_reason():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(10, 10, rng=rng), tn.BatchNorm1d(10), tn.Tanh(), tn.Linear(10, 10, rng=rng),
                        tn.Tanh())  # a block without BatchNorm after one with it
    with pytest.raises(ValueError, match="identical blocks"):
        predict_network(net, batch_size=16)


def test_batch_norm_at_a_small_batch_says_its_mean_is_not_a_typical_network():
    from diagnostics import theory

    small, large = (theory.predict_batch_norm("relu", b, 10, 50) for b in (4, theory.HEAVY_TAIL_BATCH))
    assert "heavy-tailed" in small.note
    assert large.note is None


@pytest.mark.parametrize("batch_size, why", [(2, "only eps"), (3, "infinite mean")])
def test_batch_norm_below_four_rows_is_refused_with_the_reason(batch_size, why):
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(8, 8, rng=rng), tn.BatchNorm1d(8), tn.ReLU())
    with pytest.raises(ValueError, match=f"no prediction at batch_size {batch_size}: .*{why}"):
        predict_network(net, batch_size=batch_size)


def test_batch_norm_simulation_is_seeded_and_says_where_it_was_not_checked():
    from diagnostics import theory

    first, again, other = (theory.predict_batch_norm("tanh", 8, 5, 12, rng=np.random.default_rng(seed))
                           for seed in (1, 1, 2))
    assert change_and_sd(first) == change_and_sd(again) != change_and_sd(other)
    assert "settle" in theory.predict_batch_norm("silu", 16, theory.batchnorm.CHAIN + 1, 12).note
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        theory.predict_batch_norm("relu", 16, 3, 12, rng=1)


def test_zero_weights_inside_a_composed_network_are_refused_by_name():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(10, 10, rng=rng), tn.ReLU(), tn.LayerNorm(10),
                        tn.Linear(10, 10, weight_init="zeros", rng=rng))
    with pytest.raises(ValueError, match="weights have variance 0"):
        predict_network(net)
