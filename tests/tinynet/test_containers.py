import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynet as tn


def mlp(sizes=(3, 5, 4, 2), activation="tanh", bias=True, seed=0, **kw):
    return tn.MLP(list(sizes), activation=activation, bias=bias, rng=np.random.default_rng(seed),
                  bias_init=tn.init.Normal(std=0.3) if bias else None, **kw)


def test_the_lecture_network():
    rng = np.random.default_rng(0)
    net = tn.MLP([100] * 51, activation=tn.ReLU(), weight_init=tn.init.Normal(std=0.1),
                 bias=False, final_activation=True, rng=rng)
    assert len(net) == 100
    assert all(isinstance(net[i], tn.Linear) for i in range(0, 100, 2))
    assert all(isinstance(net[i], tn.ReLU) for i in range(1, 100, 2))
    assert len({id(net[i]) for i in range(1, 100, 2)}) == 50  # a fresh copy each
    x = np.ones((3, 100))
    y = net.forward(x)
    dx = net.backward(np.ones_like(y))
    assert y.shape == dx.shape == (3, 100)
    names = [n for n, _ in net.named_parameters()]
    assert names[:2] == ["0.weight", "2.weight"] and len(names) == 50
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "gelu", "softplus"])
@pytest.mark.parametrize("sizes", [(3, 4, 2), (2, 5, 5, 3), (1, 1)])
def test_gradcheck_mlp(bias, activation, sizes):
    net = mlp(sizes, activation, bias)
    x = np.random.default_rng(1).standard_normal((4, sizes[0]))
    report = tn.gradcheck(net, x)
    assert report.passed, str(report)


def test_gradcheck_sequential_with_relu_away_from_kinks():
    rng = np.random.default_rng(3)
    net = tn.Sequential(tn.Linear(3, 4, rng=rng, bias_init=tn.init.Constant(0.5)), tn.ReLU(),
                        tn.Linear(4, 2, rng=rng))
    x = rng.uniform(0.5, 1.0, size=(5, 3))
    pre = net[0].forward(x)
    assert np.abs(pre).min() > 1e-3  # no input straddles ReLU's kink
    assert tn.gradcheck(net, x).passed


def test_an_mlp_ends_in_a_linear_unless_asked_for_the_final_activation():
    assert [type(l).__name__ for l in mlp((3, 4, 2))] == ["Linear", "Tanh", "Linear"]
    net = mlp((3, 4, 2), final_activation=True)
    assert [type(l).__name__ for l in net] == ["Linear", "Tanh", "Linear", "Tanh"]
    assert net[1] is not net[3]  # a copy of the activation each


def test_activation_is_copied_not_shared():
    act = tn.LeakyReLU(0.2)
    net = tn.MLP([2, 2, 2], act, rng=np.random.default_rng(0))
    assert net[1] is not act and net[1].negative_slope == 0.2


def test_sequential_indexing_iteration_and_names():
    rng = np.random.default_rng(0)
    layers = [tn.Linear(2, 3, rng=rng), tn.Tanh(), tn.Linear(3, 1, rng=rng)]
    net = tn.Sequential(*layers)
    assert len(net) == 3 and list(net) == layers and net[-1] is layers[2]
    assert isinstance(net[:2], tn.Sequential) and len(net[:2]) == 2
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "0", "1", "2"]


def test_nested_sequential_names():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Sequential(tn.Linear(2, 2, rng=rng)), tn.Linear(2, 1, rng=rng))
    assert [n for n, _ in net.named_parameters()] == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]


def test_same_seed_same_network():
    a, b = mlp(seed=5), mlp(seed=5)
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_print_shows_layers_shapes_and_counts():
    net = mlp((3, 5, 2))
    text = repr(net)
    assert "(0): Linear(in_features=3, out_features=5, bias=True)  # 20 parameters" in text
    assert "(1): Tanh()" in text
    assert "32 parameters in all" in text


def test_float32_mlp_stays_float32():
    net = mlp(dtype=np.float32)
    y = net.forward(np.ones((2, 3), dtype=np.float32))
    dx = net.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in net.parameters())


def test_mlp_errors():
    with pytest.raises(ValueError, match=r"MLP: sizes needs at least two entries \[in_features, out_features\], got \[3\]"):
        tn.MLP([3], "relu")
    with pytest.raises(ValueError, match=r"MLP: sizes\[1\] must be a positive integer, got 0"):
        tn.MLP([3, 0, 2], "relu")
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        tn.MLP([3, 2], "rleu")
    with pytest.raises(TypeError, match="MLP: activation must be a tinynet Activation"):
        tn.MLP([3, 2], np.tanh)
    with pytest.raises(TypeError, match="MLP: dtype must be a floating dtype such as numpy.float64, got 'foo'"):
        tn.MLP([3, 2], "relu", dtype="foo")
    with pytest.raises(TypeError, match="MLP: bias must be True or False, got 'False'"):
        tn.MLP([3, 2], "relu", bias="False")
    with pytest.raises(TypeError, match="MLP: final_activation must be True or False, got 'False'"):
        tn.MLP([3, 2], "relu", final_activation="False")


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="Sequential: item 1 is not a tinynet Layer, got function"):
        tn.Sequential(tn.ReLU(), lambda x: x)


def test_error_inside_names_the_layer():
    net = mlp((3, 4, 2))
    with pytest.raises(ValueError, match=r"Linear\(3 -> 4\): expected input of shape \(batch, 3\), got \(1, 5\)"):
        net.forward(np.ones((1, 5)))
    with pytest.raises(RuntimeError, match=r"MLP\(3 -> 5 -> 4 -> 2\): backward needs a forward first"):
        mlp().backward(np.ones((1, 2)))
    net.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"MLP\(3 -> 4 -> 2\): expected dy of shape \(2, 2\) \(the shape of the output\), got \(2, 3\)"):
        net.backward(np.ones((2, 3)))
    assert net.backward(np.ones((2, 2))).shape == (2, 3)  # the bad dy consumed nothing


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5), batch=st.integers(1, 4))
def test_shapes_and_accumulation(sizes, batch):
    net = mlp(sizes, "tanh")
    x = np.random.default_rng(0).standard_normal((batch, sizes[0]))
    y = net.forward(x)
    assert y.shape == (batch, sizes[-1])
    dy = np.ones_like(y)
    dx = net.backward(dy)
    assert dx.shape == x.shape
    first = [p.grad.copy() for p in net.parameters()]
    net.forward(x)
    net.backward(dy)
    for g, p in zip(first, net.parameters()):
        np.testing.assert_allclose(p.grad, 2 * g)


def test_reset_parameters_draws_what_a_new_network_would_in_place():
    sizes, kw = [3, 5, 2], dict(bias_init=tn.init.Normal(std=0.3), weight_init="he_normal")
    net = tn.MLP(sizes, "relu", rng=np.random.default_rng(0), **kw)
    arrays = [p.data for p in net.parameters()]
    net.reset_parameters(np.random.default_rng(1))
    fresh = tn.MLP(sizes, "relu", rng=np.random.default_rng(1), **kw)
    for p, q, a in zip(net.parameters(), fresh.parameters(), arrays):
        np.testing.assert_array_equal(p.data, q.data)
        assert p.data is a  # written in place
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator.*got int"):
        net.reset_parameters(3)


def test_reset_parameters_names_the_layer_whose_initializer_draws_the_wrong_shape():
    class Row(tn.init.Initializer):
        def _sample(self, shape, rng):
            return rng.standard_normal(shape[-1])

    layer = tn.Linear(3, 2, rng=np.random.default_rng(0))
    before = layer.weight.data.copy()
    layer.weight_init = Row()
    with pytest.raises(ValueError, match=r"Linear\(3 -> 2\): weight_init returned an array of shape \(3,\), "
                                         r"expected \(2, 3\)"):
        layer.reset_parameters(np.random.default_rng(1))
    np.testing.assert_array_equal(layer.weight.data, before)


def test_reset_parameters_of_a_custom_layer_must_be_written():
    class Scale(tn.Layer):
        def __init__(self):
            super().__init__()
            self.gamma = tn.Parameter(np.ones(2))

    with pytest.raises(NotImplementedError, match="Scale\\(\\): has parameters but does not say how to draw them"):
        tn.Sequential(tn.Linear(2, 2), Scale()).reset_parameters(np.random.default_rng(0))


def test_an_empty_sequential_is_the_identity_and_backward_needs_a_forward():
    empty = tn.Sequential()
    with pytest.raises(RuntimeError, match="Sequential of 0 layers: backward needs a forward first"):
        empty.backward(np.ones((1, 2)))
    x = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(empty.forward(x), x)
    np.testing.assert_array_equal(empty.backward(np.full((1, 2), 3.0)), np.full((1, 2), 3.0))
