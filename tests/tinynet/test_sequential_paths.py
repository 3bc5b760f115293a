"""Sequential's two paths: direct for a plain chain, checked otherwise, with the same results."""

import copy
import pickle

import numpy as np
import pytest

import tinynet as tn


@pytest.fixture
def input_checks(monkeypatch):
    """A list that grows by one for every call of ``Linear._check_input``."""
    calls = []
    check = tn.Linear._check_input

    def counting(self, x):
        calls.append(self)
        return check(self, x)

    monkeypatch.setattr(tn.Linear, "_check_input", counting)
    return calls


def step(net, x, dy):
    net.zero_grad()
    y = net.forward(x)
    dx = net.backward(dy)
    return [y, dx] + [p.grad.copy() for p in net.parameters()]


def checked_step(net, x, dy):
    """The layers called one by one through their public methods: the checked path by definition."""
    for layer in net:
        layer.zero_grad()
    for layer in net:
        x = layer.forward(x)
    y = x
    for layer in reversed(net.layers):
        dy = layer.backward(dy)
    return [y, dy] + [p.grad.copy() for p in net.parameters()]


def assert_same(a, b):
    for u, v in zip(a, b, strict=True):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", tn.available_activations())
@pytest.mark.parametrize("batch, cotangents", [(3, 3), (1, 1), (1, 4)])
def test_direct_path_equals_checked_path(name, dtype, batch, cotangents, input_checks):
    rng = np.random.default_rng(0)
    net = tn.MLP([4, 5, 3], name, rng=rng, dtype=dtype, bias_init=tn.init.Normal(std=0.3))
    x = rng.standard_normal((batch, 4)).astype(dtype)
    dy = rng.standard_normal((cotangents, 3)).astype(dtype)
    direct = step(net, x, dy)
    assert input_checks == [net[0]]  # only the first layer checked its input
    assert_same(direct, checked_step(net, x, dy))


def test_a_hook_added_later_fires_and_removing_it_restores_the_direct_path(input_checks):
    rng = np.random.default_rng(1)
    net = tn.MLP([3, 4, 4, 2], "tanh", rng=rng)
    x, dy = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    expected = step(net, x, dy)
    seen = []
    handles = tn.HandleGroup([
        net[2].register_forward_hook(lambda layer, x, y: seen.append("forward")),
        net[3].register_backward_hook(lambda layer, dx, dy: seen.append("backward")),
    ])
    input_checks.clear()
    assert_same(step(net, x, dy), expected)
    assert seen == ["forward", "backward"]
    assert input_checks == [net[0], net[2], net[4]]  # every Linear checked its input
    handles.remove()
    input_checks.clear()
    assert_same(step(net, x, dy), expected)
    assert seen == ["forward", "backward"] and input_checks == [net[0]]


def test_a_hook_that_replaces_an_output_is_checked_downstream():
    rng = np.random.default_rng(2)
    net = tn.MLP([3, 4, 2], "relu", rng=rng, dtype=np.float32)
    net[1].register_forward_hook(lambda layer, x, y: y.astype(np.float64))
    y = net.forward(np.ones((2, 3), dtype=np.float32))
    assert y.dtype == np.float32  # the next Linear cast it back, as its check does


def test_changing_a_layers_dtype_changes_the_path():
    rng = np.random.default_rng(3)
    net = tn.MLP([3, 4, 4, 2], "sigmoid", rng=rng)
    x, dy = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    step(net, x, dy)
    net[2].to(np.float32)  # a mixed chain: each Linear casts its input to its own dtype
    assert_same(step(net, x, dy), checked_step(net, x, dy))
    assert net[2].weight.grad.dtype == np.float32


def test_editing_the_layer_list_is_noticed(input_checks):
    rng = np.random.default_rng(4)
    net = tn.MLP([3, 4, 2], "relu", rng=rng)
    x, dy = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    step(net, x, dy)
    net.layers[1] = tn.Activation(np.sin, np.cos, name="sine")  # promises nothing about dtype
    input_checks.clear()
    assert_same(step(net, x, dy), checked_step(net, x, dy))
    assert input_checks.count(net[2]) == 2  # checked on both runs
    net.layers[2] = tn.Linear(5, 2, rng=rng)
    with pytest.raises(ValueError, match=r"Linear\(5 -> 2\): expected input of shape \(batch, 5\), got \(2, 4\)"):
        net.forward(x)


def test_errors_on_the_direct_path_name_the_layer():
    net = tn.MLP([3, 4, 2], "relu", rng=np.random.default_rng(5))
    y = net.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"ReLU\(\): expected dy of shape \(2, 2\) \(the shape of the output\), got \(2, 3\)"):
        net.backward(np.ones((2, 3)))
    assert net.backward(np.ones_like(y)).shape == (2, 3)  # the bad dy consumed nothing
    net.forward(np.ones((2, 3)))
    net[1].backward(np.ones((2, 4)))  # an inner layer's backward, run by hand, consumes its context
    with pytest.raises(RuntimeError, match=r"ReLU\(\): backward called before forward"):
        net.backward(np.ones_like(y))
    with pytest.raises(TypeError, match=r"Linear\(3 -> 4\): input must be a real numeric array"):
        net.forward(np.array([["a", "b", "c"]]))


def test_copies_take_the_path_of_their_own_layers(input_checks):
    rng = np.random.default_rng(6)
    net = tn.MLP([3, 4, 2], "gelu", rng=rng)
    x, dy = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    net[0].register_forward_hook(lambda layer, x, y: None)
    expected = step(net, x, dy)
    fresh = tn.containers.fresh_copy(net)  # no hooks: a plain chain
    input_checks.clear()
    assert_same(step(fresh, x, dy), expected)
    assert input_checks == [fresh[0]]
    deep = copy.deepcopy(net)  # keeps the hook: checked
    input_checks.clear()
    assert_same(step(deep, x, dy), expected)
    assert input_checks == [deep[0], deep[2]]


def test_a_hook_on_the_container_that_replaces_its_output_sets_the_shape_of_dy():
    rng = np.random.default_rng(7)
    net = tn.MLP([3, 4, 2], "tanh", rng=rng)
    net.register_forward_hook(lambda layer, x, y: y[:1])  # keeps the first row only
    y = net.forward(rng.standard_normal((2, 3)))
    assert y.shape == (1, 2)
    with pytest.raises(ValueError, match=r"Tanh\(\): expected dy of shape \(2, 2\)"):
        net.backward(np.ones((1, 2)))  # the last layer made two rows, and says so


def test_a_layer_run_by_hand_between_forward_and_backward_checks_its_own_dy():
    rng = np.random.default_rng(8)
    net = tn.MLP([3, 4, 2], "tanh", rng=rng)
    net.forward(rng.standard_normal((4, 3)))
    net[0].forward(rng.standard_normal((3, 3)))  # a look at the first layer alone, batch 3
    with pytest.raises(ValueError, match=r"Linear\(3 -> 4\): expected dy of shape \(3, 4\)"):
        net.backward(np.ones((4, 2)))


def test_a_layer_run_by_hand_in_the_middle_gives_what_the_checked_path_gives():
    rng = np.random.default_rng(12)
    net = tn.MLP([3, 4, 4, 2], "tanh", rng=rng)
    x, look, dy = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 2))

    def with_a_look(walk):
        net.zero_grad()
        walk.forward(x)
        net[2].forward(look)  # same shape: its dy check passes, and it keeps the look's input
        dx = walk.backward(dy)
        return [dx] + [p.grad.copy() for p in net.parameters()]

    class Checked:  # the layers one by one, through their public methods
        def forward(self, x):
            for layer in net:
                x = layer.forward(x)

        def backward(self, dy):
            for layer in reversed(net.layers):
                dy = layer.backward(dy)
            return dy

    direct = with_a_look(net)
    assert_same(direct, with_a_look(Checked()))
    # the look mattered: the looked-at layer's weight gradient came from its input
    looked_at = direct[1:][2]  # after dx: 0.weight, 0.bias, 2.weight
    assert not np.array_equal(step(net, x, dy)[2:][2], looked_at)  # after y and dx


def test_a_middle_layer_run_by_hand_with_another_batch_checks_its_own_dy():
    rng = np.random.default_rng(13)
    net = tn.MLP([3, 4, 4, 2], "tanh", rng=rng)
    net.forward(rng.standard_normal((2, 3)))
    net[2].forward(rng.standard_normal((5, 4)))
    with pytest.raises(ValueError, match=r"Linear\(4 -> 4\): expected dy of shape \(5, 4\)"):
        net.backward(np.ones((2, 2)))


def test_a_subclass_of_a_builtin_activation_is_called_through_its_checks():
    class Halved(tn.Tanh):
        def fn(self, z):
            return np.float64(0.5) * np.tanh(z)  # answers in float64

        def derivative(self, z):
            return np.float64(0.5) * super().derivative(z)

    rng = np.random.default_rng(9)
    net = tn.Sequential(tn.Linear(3, 4, rng=rng, dtype=np.float32), Halved(),
                        tn.Linear(4, 2, rng=rng, dtype=np.float32))
    x = rng.standard_normal((2, 3)).astype(np.float32)
    dy = np.ones((2, 2), dtype=np.float32)
    assert_same(step(net, x, dy), checked_step(net, x, dy))
    assert net.forward(x).dtype == np.float32  # the next Linear cast Halved's float64 back


def test_a_hook_on_the_container_sees_dy_as_given():
    rng = np.random.default_rng(10)
    net = tn.MLP([3, 2], "tanh", rng=rng)
    net.register_forward_hook(lambda layer, x, y: y.astype(np.float32))
    seen = []
    net.register_backward_hook(lambda layer, dx, dy: seen.append(dy.dtype))
    net.forward(np.ones((1, 3)))
    net.backward(np.full((1, 2), 0.1))  # float64, against a float32 output
    assert seen == [np.float64]


def test_a_pickled_network_checks_its_chain_again():
    net = tn.MLP([3, 4, 2], "relu", rng=np.random.default_rng(11))
    net.forward(np.ones((1, 3)))  # remembers: plain
    copy_ = pickle.loads(pickle.dumps(net))
    assert copy_._chain == ([], -1, False)  # another process counts changes from zero
    assert_same(step(copy_, np.ones((1, 3)), np.ones((1, 2))), step(net, np.ones((1, 3)), np.ones((1, 2))))
