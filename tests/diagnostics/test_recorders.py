import numpy as np
import pytest

import tinynet as tn
from diagnostics.recorders import (
    SATURATION_THRESHOLD, ActivationStatsRecorder, GradientNormRecorder, NonFiniteDetector,
)


def net3(seed=0, activation="tanh"):
    rng = np.random.default_rng(seed)
    return tn.Sequential(tn.Linear(3, 4, rng=rng), tn.activation(activation), tn.Linear(4, 2, rng=rng))


def step(net, x, dy=None):
    y = net.forward(x)
    return net.backward(np.ones_like(y) if dy is None else dy)


def test_gradient_norms_match_direct_computation():
    net = net3()
    x = np.random.default_rng(1).standard_normal((5, 3))
    dy = np.random.default_rng(2).standard_normal((5, 2))
    with GradientNormRecorder(net) as rec:
        step(net, x, dy)
    rows = {r["layer"]: r for r in rec.table}
    assert list(rows) == ["2", "1", "0"]  # backward order
    # recompute by hand
    h1 = net[0].forward(x)
    h2 = net[1].forward(h1)
    net[2].forward(h2)
    g2 = dy @ net[2].weight.data
    g1 = g2 * (1 - np.tanh(h1) ** 2)
    g0 = g1 @ net[0].weight.data
    assert rows["2"]["grad_output"] == pytest.approx(np.linalg.norm(dy))
    assert rows["2"]["grad_input"] == pytest.approx(np.linalg.norm(g2))
    assert rows["1"]["grad_input"] == pytest.approx(np.linalg.norm(g1))
    assert rows["0"]["grad_input"] == pytest.approx(np.linalg.norm(g0))
    assert rows["2"]["weight.grad"] == pytest.approx(np.linalg.norm(dy.T @ h2))
    assert rows["0"]["bias.grad"] == pytest.approx(np.linalg.norm(g1.sum(0)))
    assert rows["1"].get("weight.grad") is None
    assert "grad_output" in str(rec) and "weight.grad" in str(rec)


def test_one_table_per_pass_and_clean_detach():
    net = net3()
    rec = GradientNormRecorder(net)
    step(net, np.ones((2, 3)))
    step(net, np.ones((2, 3)))
    assert len(rec.tables) == 2 and all(len(t) == 3 for t in rec.tables)
    rec.remove()
    step(net, np.ones((2, 3)))
    assert len(rec.tables) == 2
    assert all(not m._forward_hooks and not m._backward_hooks for m in net.modules())


def test_activation_stats():
    net = net3()
    x = np.random.default_rng(1).standard_normal((6, 3))
    with ActivationStatsRecorder(net) as rec:
        net.forward(x)
    rows = {r["layer"]: r for r in rec.table}
    h = np.tanh(net[0].forward(x))
    assert rows["1"]["mean"] == pytest.approx(h.mean())
    assert rows["1"]["std"] == pytest.approx(h.std())
    assert rows["1"]["max_abs"] == pytest.approx(np.abs(h).max())
    assert rows["1"]["dead"] == 0.0
    assert rows["0"].get("dead") is None  # only activations have units that can die


def test_dead_relus_are_counted():
    rng = np.random.default_rng(0)
    lin = tn.Linear(2, 4, rng=rng, bias=True)
    lin.bias.data[:] = [-100.0, -100.0, -100.0, 0.0]  # three units can never fire
    lin.weight.data[:] = 1.0
    net = tn.Sequential(lin, tn.ReLU())
    with ActivationStatsRecorder(net) as rec:
        net.forward(rng.uniform(0.5, 1.0, size=(8, 2)))
    assert rec.table[1]["dead"] == 0.75


def test_saturated_fraction():
    net = tn.Sequential(tn.Tanh())
    x = np.array([[0.0, 1.0, 5.0, -10.0]])
    with ActivationStatsRecorder(net) as rec:
        net.forward(x)
    # tanh' < 0.01 * tanh'(0) beyond |x| ~ 3
    assert rec.table[0]["saturated"] == 0.5
    assert 0 < SATURATION_THRESHOLD < 1


def test_nonfinite_forward_names_the_layer():
    rng = np.random.default_rng(0)
    big = tn.init.Constant(1e200)
    net = tn.Sequential(tn.Linear(2, 2, rng=rng), tn.Tanh(), tn.Linear(2, 2, weight_init=big, rng=rng),
                        tn.Linear(2, 2, weight_init=big, rng=rng), tn.ReLU())
    det = NonFiniteDetector(net)
    with np.errstate(over="ignore", invalid="ignore"):
        net.forward(np.ones((1, 2)))
    assert det.first == {"layer": "3", "type": "Linear", "pass": "forward", "input_finite": True}
    assert det.describe_nonfinite() == "the first nan/inf appeared in the forward output of layer 3 (Linear)"
    det.reset()
    assert det.first is None and "no nan or inf" in det.describe_nonfinite()


def test_nonfinite_backward_names_the_layer():
    cbrt = tn.Activation(np.cbrt, lambda z: 1.0 / (3.0 * np.cbrt(z) ** 2), name="cbrt")
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(2, 2, rng=rng, weight_init=tn.init.Zeros()), cbrt, tn.Linear(2, 1, rng=rng))
    with NonFiniteDetector(net) as det, np.errstate(divide="ignore", invalid="ignore"):
        step(net, np.ones((1, 2)))
    assert det.first["layer"] == "1" and det.first["pass"] == "backward"
    assert det.first["input_finite"]


def test_nonfinite_input_is_reported_as_coming_from_outside():
    net = net3()
    with NonFiniteDetector(net) as det:
        net.forward(np.array([[np.nan, 0.0, 0.0]]))
    assert det.first["layer"] == "0" and not det.first["input_finite"]
    assert "its input was already non-finite" in det.describe_nonfinite()


def test_recorder_needs_a_layer():
    with pytest.raises(TypeError, match="GradientNormRecorder: expected a tinynet Layer, got list"):
        GradientNormRecorder([1, 2])


def test_frobenius_norm_of_tiny_float32_entries_keeps_its_digits():
    # squares of 3.3e-22 are subnormal in float32 (below 1.2e-38) and keep ~3 bits
    from diagnostics.recorders import frobenius_norm

    a = np.full(10_000, 3.3e-22, dtype=np.float32)
    assert frobenius_norm(a) == pytest.approx(100 * float(a[0]), rel=1e-6, abs=0)
    b = np.full(10_000, 3.3e-200)
    assert frobenius_norm(b) == pytest.approx(100 * 3.3e-200, rel=1e-12, abs=0)


def test_recorders_work_through_the_remedy_layers():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Residual(tn.Sequential(tn.Linear(4, 4, bias=False, rng=rng), tn.ReLU()), alpha=0.5),
                        tn.Linear(4, 4, rng=rng), tn.BatchNorm1d(4), tn.Tanh(), tn.LayerNorm(4),
                        tn.Dropout(0.5, rng=rng))
    x = rng.normal(size=(8, 4))
    dy = rng.normal(size=(8, 4))
    with GradientNormRecorder(net) as grads, ActivationStatsRecorder(net) as stats:
        y = net.forward(x)
        dx = net.backward(dy)
    types = [r["type"] for r in grads.table]
    assert types == ["Dropout", "LayerNorm", "Tanh", "BatchNorm1d", "Linear", "ReLU", "Linear", "Residual"]
    residual = grads.table[-1]  # the gradient leaving the whole block: the skip's plus the branch's
    assert residual["grad_input"] == pytest.approx(np.linalg.norm(dx))
    assert residual["grad_output"] == pytest.approx(grads.table[4]["grad_input"])  # what the Linear after it passed
    assert residual["grad_input"] > grads.table[-2]["grad_input"]  # more than the branch's share alone
    assert [r["type"] for r in stats.table][-1] == "Dropout"
    assert stats.table[-1]["std"] == pytest.approx(float(y.std()))
    assert "Residual" in [r["type"] for r in stats.table]
