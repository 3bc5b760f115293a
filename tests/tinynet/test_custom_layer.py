"""A layer written by a user: its Parameter attributes are found, trained and checked."""

import numpy as np
import pytest

import tinynet as tn


class Scale(tn.Layer):
    """``y = x * gamma``, one learned factor per feature: (batch, n) -> (batch, n)."""

    def __init__(self, n, wrong=False):
        super().__init__()
        self.gamma = tn.Parameter(np.linspace(0.5, 1.5, n))
        self.wrong = wrong

    def _forward(self, x):
        return x * self.gamma.data, x

    def _backward(self, x, dy):
        g = (dy * x).sum(axis=0)
        self.gamma.accumulate(0 * g if self.wrong else g)
        return dy * self.gamma.data


def test_parameters_set_as_attributes_are_registered():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(2, 3, rng=rng), Scale(3))
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.gamma"]
    x = rng.standard_normal((4, 2))
    assert tn.gradcheck(net, x).passed
    bad = tn.gradcheck(Scale(3, wrong=True), x @ np.ones((2, 3)))
    assert [r["name"] for r in bad.rows if not r["passed"]] == ["gamma"]


def test_a_registered_parameter_is_zeroed_trained_cast_and_saved():
    layer = Scale(3)
    x = np.ones((2, 3))
    layer.forward(x)
    layer.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(layer.gamma.grad, [2.0, 2.0, 2.0])
    tn.optim.SGD(layer.parameters(), lr=0.1).step()
    np.testing.assert_allclose(layer.gamma.data, np.linspace(0.5, 1.5, 3) - 0.2)
    assert list(layer.state_dict()) == ["gamma"]
    layer.zero_grad()
    assert layer.gamma.grad is None
    assert layer.to(np.float32).gamma.data.dtype == np.float32


def test_a_layer_held_as_an_attribute_is_a_child():
    class Twice(tn.Layer):
        """``inner`` applied twice: the weights are shared by both uses."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def _forward(self, x):
            return self.inner.forward(self.inner.forward(x)), None

        def _backward(self, ctx, dy):
            return self.inner.backward(self.inner.backward(dy))

    rng = np.random.default_rng(1)
    net = Twice(tn.Linear(3, 3, rng=rng, bias_init=tn.init.Normal(std=0.5)))
    assert [n for n, _ in net.named_children()] == ["inner"]
    assert [n for n, _ in net.named_parameters()] == ["inner.weight", "inner.bias"]
    assert net.is_container and not net.inner.is_container
    assert tn.gradcheck(net, rng.standard_normal((2, 3))).passed


def test_a_gradient_of_the_wrong_shape_is_refused_where_it_is_made():
    p = tn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match=r"Parameter: a gradient of shape \(1, 2\) for data of shape \(2,\)"):
        p.accumulate(np.ones((1, 2)))
    assert p.grad is None  # nothing was added


def test_calling_a_layer_runs_its_own_forward():
    class Doubled(tn.Layer):
        def forward(self, x):
            return 2 * x
    np.testing.assert_array_equal(Doubled()(np.ones(2)), Doubled().forward(np.ones(2)))


def test_a_layer_without_forward_says_what_to_write():
    with pytest.raises(NotImplementedError, match=r"Layer does not implement _forward\(x\) -> \(y, ctx\)"):
        tn.Layer()(np.ones(2))
