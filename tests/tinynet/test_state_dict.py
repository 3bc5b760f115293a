"""state_dict and load_state_dict: PyTorch's names, a snapshot, and all-or-nothing loading."""

import numpy as np
import pytest

import tinynet as tn


def net(seed=0, dtype=np.float64):
    return tn.MLP([3, 4, 2], "tanh", rng=np.random.default_rng(seed), dtype=dtype)


def test_a_round_trip_gives_the_same_network():
    a, b = net(0), net(1)
    x = np.random.default_rng(2).standard_normal((5, 3))
    assert not np.allclose(a.forward(x), b.forward(x))
    state = a.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    result = b.load_state_dict(state)
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a.forward(x), b.forward(x))


def test_the_state_dict_is_a_snapshot_and_loading_writes_in_place():
    model = net()
    weight = model[0].weight.data
    state = model.state_dict()
    weight += 1.0  # as an optimizer's step would
    assert not np.allclose(state["0.weight"], weight)
    model.load_state_dict(state)
    assert model[0].weight.data is weight  # an optimizer holding the array sees the load
    np.testing.assert_array_equal(weight, state["0.weight"])


def test_loading_casts_to_the_parameters_dtype():
    model = net(dtype=np.float32)
    model.load_state_dict(net(1).state_dict())
    assert model[0].weight.dtype == np.float32
    np.testing.assert_allclose(model[0].weight.data, net(1)[0].weight.data, rtol=1e-6)


def test_every_problem_is_listed_and_nothing_changes():
    model = net()
    before = model.state_dict()
    state = net(1).state_dict()
    del state["2.bias"]
    state["9.weight"] = np.zeros(1)
    state["0.weight"] = np.zeros((3, 4))
    state["0.bias"] = np.array(["a"] * 4)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert message.startswith("MLP(3 -> 4 -> 2): cannot load the state dict: missing ['2.bias']; "
                              "unexpected ['9.weight']; ")
    assert "'0.weight' has shape (3, 4), expected (4, 3)" in message
    assert "'0.bias' has dtype <U1, which does not cast to float64" in message
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_strict_false_loads_what_matches_and_says_what_did_not():
    model = net()
    state = net(1).state_dict()
    del state["2.bias"]
    state["extra"] = np.zeros(1)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["2.bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(model[2].weight.data, state["2.weight"])
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(1,\)"):
        model.load_state_dict({"0.weight": np.zeros(1)}, strict=False)  # shapes are always checked


def test_a_custom_layer_with_a_parameter_and_a_buffer_needs_nothing_more():
    class Shift(tn.Layer):
        """``y = x + beta``, counting the forwards in a buffer."""

        def __init__(self, n):
            super().__init__()
            self.beta = tn.Parameter(np.zeros(n))
            self.register_buffer("calls", np.zeros(1))

        def _forward(self, x):
            self.calls += 1
            return x + self.beta.data, None

        def _backward(self, ctx, dy):
            self.beta.accumulate(dy.sum(axis=0))
            return dy

    a = tn.Sequential(tn.Linear(2, 2, rng=np.random.default_rng(0)), Shift(2))
    a[1].beta.data[...] = [1.0, -1.0]
    a.forward(np.ones((1, 2)))
    state = a.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.beta", "1.calls"]
    b = tn.Sequential(tn.Linear(2, 2, rng=np.random.default_rng(1)), Shift(2))
    b.load_state_dict(state)
    np.testing.assert_array_equal(b[1].beta.data, [1.0, -1.0])
    np.testing.assert_array_equal(b[1].calls, [1.0])


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"load_state_dict needs a dict of arrays, got list"):
        net().load_state_dict([])
    with pytest.raises(TypeError, match="strict must be True or False"):
        net().load_state_dict({}, strict="no")
