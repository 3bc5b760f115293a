"""no_grad: forwards that keep nothing for backward, as torch.no_grad."""

import numpy as np
import pytest

import tinynet as tn


def net():
    return tn.MLP([3, 4, 2], "tanh", rng=np.random.default_rng(0))


def test_a_forward_under_no_grad_keeps_nothing_and_computes_the_same():
    model = net()
    x = np.ones((2, 3))
    with tn.no_grad():
        y = model.forward(x)
    with pytest.raises(RuntimeError, match=r"MLP\(3 -> 4 -> 2\): backward needs a forward first.*"
                                           r"a forward inside tinynet.no_grad\(\) keeps nothing"):
        model.backward(np.ones_like(y))
    np.testing.assert_array_equal(y, model.forward(x))
    assert model.backward(np.ones_like(y)).shape == x.shape


def test_no_grad_nests_and_restores_the_mode_on_an_exception():
    assert tn.is_grad_enabled()
    with tn.no_grad():
        with tn.no_grad():
            assert not tn.is_grad_enabled()
        assert not tn.is_grad_enabled()
    assert tn.is_grad_enabled()
    with pytest.raises(ZeroDivisionError):
        with tn.no_grad():
            1 / 0
    assert tn.is_grad_enabled()


def test_no_grad_as_a_decorator():
    @tn.no_grad()
    def predict(model, x):
        return tn.is_grad_enabled(), model.forward(x)

    model = net()
    enabled, _ = predict(model, np.ones((1, 3)))
    assert not enabled and tn.is_grad_enabled()
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        model.backward(np.ones((1, 2)))


def test_evaluate_runs_in_eval_mode_under_no_grad_and_restores_the_mode():
    class Probe(tn.Layer):
        """The identity, noting the mode and grad mode of each forward."""

        def __init__(self):
            super().__init__()
            self.seen = []

        def _forward(self, x):
            self.seen.append((self.training, tn.is_grad_enabled()))
            return x, None

    probe = Probe()
    model = tn.Sequential(tn.Linear(2, 2, rng=np.random.default_rng(0)), probe)
    tn.evaluate(model, tn.MSELoss(), np.ones((4, 2)), np.zeros((4, 2)))
    assert probe.seen == [(False, False)] and model.training and probe.training
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        model.backward(np.ones((4, 2)))
    model.eval()
    tn.evaluate(model, tn.MSELoss(), np.ones((4, 2)), np.zeros((4, 2)))
    assert not model.training  # left as it was
