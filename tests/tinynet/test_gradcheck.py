import numpy as np
import pytest

import tinynet as tn


class WrongBackward(tn.Activation):
    """x**2 with a derivative that is off by a factor of two."""

    def fn(self, z):
        return z * z

    def derivative(self, z):
        return z


def test_passes_a_correct_layer_and_reports_every_tensor():
    lin = tn.Linear(3, 2, rng=np.random.default_rng(0))
    report = tn.gradcheck(lin, np.random.default_rng(1).standard_normal((4, 3)))
    assert report.passed and bool(report)
    assert [r["name"] for r in report.rows] == ["input", "weight", "bias"]
    assert all(r["max_rel_err"] < 1e-6 for r in report.rows)
    assert "weight" in str(report)


def test_catches_a_wrong_derivative():
    report = tn.gradcheck(WrongBackward(), np.full((2, 2), 1.5))
    assert not report.passed
    assert report.rows[0]["max_rel_err"] == pytest.approx(0.5)
    assert "NO" in str(report)


def test_catches_a_wrong_parameter_gradient():
    class BadLinear(tn.Linear):
        def _backward(self, x, dy):
            dx = super()._backward(x, dy)
            self.weight.grad *= 1.01
            return dx

    report = tn.gradcheck(BadLinear(3, 2, rng=np.random.default_rng(0)), np.ones((2, 3)))
    assert [r["passed"] for r in report.rows] == [True, False, True]


def test_requires_float64():
    lin = tn.Linear(3, 2, rng=np.random.default_rng(0), dtype=np.float32)
    with pytest.raises(TypeError, match="parameter 'weight' is float32"):
        tn.gradcheck(lin, np.ones((1, 3)))
    with pytest.raises(TypeError, match="x must be float64, got float32"):
        tn.gradcheck(tn.Tanh(), np.ones((1, 3), dtype=np.float32))
    assert tn.gradcheck(lin.to(np.float64), np.ones((1, 3))).passed


def test_given_dy_with_wrong_shape():
    with pytest.raises(ValueError, match=r"dy must have the output's shape \(1, 3\)"):
        tn.gradcheck(tn.Tanh(), np.ones((1, 3)), dy=np.ones((3,)))


def test_restores_requires_grad():
    lin = tn.Linear(2, 2, rng=np.random.default_rng(0)).requires_grad_(False)
    assert tn.gradcheck(lin, np.ones((1, 2))).passed
    assert not lin.weight.requires_grad


def test_a_module_whose_forward_draws_anew_is_refused_not_failed():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(3, 4, rng=rng), tn.Dropout(0.5, rng=rng))
    x = rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match="gradcheck: two forwards of the same x differ"):
        tn.gradcheck(net, x)
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        net.backward(np.ones((2, 4)))  # the refusal kept nothing on the network
    assert tn.gradcheck(net.eval(), x).passed
