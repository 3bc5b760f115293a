"""The layer contract: what forward keeps, reuse, modes, children, copies and dtype."""

import copy
import json
import pathlib

import numpy as np
import pytest

import tinynet as tn

REFERENCE = pathlib.Path(__file__).resolve().parent.parent / "reference"


def tied(seed=0, n=3):
    """``Sequential(L, Tanh(), L)``: one square Linear used twice."""
    layer = tn.Linear(n, n, rng=np.random.default_rng(seed), bias_init=tn.init.Normal(std=0.5))
    return tn.Sequential(layer, tn.Tanh(), layer)


# ---- a layer used twice -----------------------------------------------------
def test_a_layer_used_twice_passes_gradcheck():
    net = tied()
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert tn.gradcheck(net, np.random.default_rng(1).standard_normal((4, 3))).passed


def test_a_layer_used_twice_gets_the_sum_of_both_uses():
    net = tied()
    layer, x = net[0], np.random.default_rng(1).standard_normal((4, 3))
    dy = np.random.default_rng(2).standard_normal((4, 3))
    net.forward(x)
    dx = net.backward(dy)
    w, b = layer.weight.data, layer.bias.data
    # the chain rule by hand, in plain numpy: h = tanh(x W^T + b), y = h W^T + b
    h = np.tanh(x @ w.T + b)
    dh = dy @ w
    dz = dh * (1 - h ** 2)
    np.testing.assert_allclose(layer.weight.grad, dy.T @ h + dz.T @ x, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, dy.sum(axis=0) + dz.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(dx, dz @ w, rtol=1e-12)


def test_a_layer_used_twice_gives_pytorchs_numbers():
    ref = json.loads((REFERENCE / "weight_tying.json").read_text())
    net = tied()
    net[0].weight.data[...] = ref["weight"]
    net[0].bias.data[...] = ref["bias"]
    y = net.forward(np.array(ref["x"]))
    dx = net.backward(np.array(ref["dy"]))
    np.testing.assert_allclose(y, ref["y"], rtol=1e-12)
    np.testing.assert_allclose(dx, ref["dx"], rtol=1e-12)
    np.testing.assert_allclose(net[0].weight.grad, ref["weight_grad"], rtol=1e-12)
    np.testing.assert_allclose(net[0].bias.grad, ref["bias_grad"], rtol=1e-12)


def test_backward_answers_the_newest_forward_first():
    layer = tn.Tanh()
    a, b = np.full((1, 2), 0.5), np.full((1, 3), 2.0)
    layer.forward(a)
    layer.forward(b)
    np.testing.assert_allclose(layer.backward(np.ones((1, 3))), 1 - np.tanh(b) ** 2)
    np.testing.assert_allclose(layer.backward(np.ones((1, 2))), 1 - np.tanh(a) ** 2)
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        layer.backward(np.ones((1, 2)))


# ---- errors ---------------------------------------------------------------
def test_backward_without_a_forward_names_the_layer_and_no_grad():
    with pytest.raises(RuntimeError, match=r"^Tanh\(\): backward needs a forward first \(in this thread\): "
                                           r"each backward consumes what one forward kept, and a forward "
                                           r"inside tinynet.no_grad\(\) keeps nothing$"):
        tn.Tanh().backward(np.ones((1, 2)))


def test_a_dy_for_a_0d_output_must_be_0d():
    layer = tn.Tanh()
    layer.forward(np.float64(0.5))
    with pytest.raises(ValueError, match=r"Tanh\(\): expected dy of shape \(\) \(the shape of the output\), "
                                         r"got \(3,\)"):
        layer.backward(np.ones(3))
    assert layer.backward(np.float64(1.0)) == pytest.approx(1 - np.tanh(0.5) ** 2)


def test_a_bad_dy_is_refused_and_consumes_nothing():
    layer = tn.Tanh()
    layer.forward(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"Tanh\(\): dy must be a real numeric array, got dtype <U1"):
        layer.backward(np.array([["a", "b"], ["c", "d"]]))
    assert layer.backward(np.ones((2, 2), dtype=int)).dtype == np.float64


def test_a_forward_of_bad_input_keeps_nothing():
    lin = tn.Linear(2, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"Linear\(2 -> 2\): expected input of shape \(batch, 2\)"):
        lin.forward(np.ones((1, 3)))
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        lin.backward(np.ones((1, 2)))


# ---- modes and the layer tree -------------------------------------------------
def test_train_and_eval_reach_every_layer_and_return_the_layer():
    net = tn.Sequential(tn.Linear(2, 2), tn.Sequential(tn.ReLU(), tn.Linear(2, 1)))
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    net[1].train(False)
    assert [m.training for m in net.modules()] == [True, True, False, False, False]
    with pytest.raises(TypeError, match="mode must be True or False, got 'False'"):
        net.train("False")


def test_children_modules_and_apply_as_in_pytorch():
    inner = tn.Sequential(tn.ReLU(), tn.Linear(2, 1))
    net = tn.Sequential(tn.Linear(2, 2), inner)
    assert list(net.children()) == [net[0], inner]
    assert [n for n, _ in net.named_children()] == ["0", "1"]
    assert [n for n, _ in net.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    seen = []
    assert net.apply(seen.append) is net
    assert seen == [net[0], inner[0], inner[1], inner, net]  # children first, then the layer


def test_a_layer_used_twice_is_listed_and_applied_once():
    net = tied()
    assert [n for n, _ in net.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    seen = []
    net.apply(seen.append)
    assert seen == [net[0], net[1], net]


def test_zero_grad_and_requires_grad_on_a_network():
    net = tn.MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0))
    net.forward(np.ones((4, 2)))
    net.backward(np.ones((4, 1)))
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net and not any(p.requires_grad for p in net.parameters())
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        net.requires_grad_("yes")


def test_to_casts_parameters_gradients_and_buffers():
    class Counter(tn.Layer):
        """The identity, with a floating and an integer buffer."""

        def __init__(self):
            super().__init__()
            self.register_buffer("mean", np.zeros(2))
            self.register_buffer("count", np.array(0))

        def _forward(self, x):
            return x, None

        def _backward(self, ctx, dy):
            return dy

    net = tn.Sequential(tn.Linear(2, 2, rng=np.random.default_rng(0)), Counter())
    net.forward(np.ones((1, 2)))
    net.backward(np.ones((1, 2)))
    net.to("float32")
    assert net[0].weight.dtype == net[0].weight.grad.dtype == net[1].mean.dtype == np.float32
    assert net[1].count.dtype.kind == "i"  # only floating buffers are cast
    assert net.forward(np.ones((1, 2))).dtype == np.float32
    with pytest.raises(TypeError, match=r"Sequential of 2 layers: dtype must be a floating dtype .* got int64"):
        net.to(np.int64)


def test_a_buffer_is_named_like_a_parameter():
    class Running(tn.Layer):
        def __init__(self):
            super().__init__()
            self.register_buffer("running_mean", np.zeros(3))
            self.register_buffer("scratch", np.ones(1), persistent=False)

    net = tn.Sequential(tn.ReLU(), Running())
    assert [n for n, _ in net.named_buffers()] == ["1.running_mean", "1.scratch"]
    assert len(list(net.buffers())) == 2
    assert list(net.state_dict()) == ["1.running_mean"]  # a non-persistent buffer is not saved
    with pytest.raises(ValueError, match=r"attribute 'training' already exists and is not a buffer"):
        net[1].register_buffer("training", np.zeros(1))
    with pytest.raises(TypeError, match=r"a buffer name must be an identifier, got 'a.b'"):
        net[1].register_buffer("a.b", np.zeros(1))


# ---- copies -------------------------------------------------------------------
def test_a_copy_keeps_hooks_but_nothing_from_past_forwards():
    net = tn.MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0))
    calls = []
    net[1].register_forward_hook(lambda layer, x, y: calls.append(layer))
    net.forward(np.ones((1, 2)))
    twin = copy.deepcopy(net)
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        twin.backward(np.ones((1, 1)))
    twin.forward(np.ones((1, 2)))
    assert calls == [net[1], twin[1]]  # the hook came along, as in PyTorch
    assert twin.backward(np.ones((1, 1))).shape == (1, 2)
    assert net.backward(np.ones((1, 1))).shape == (1, 2)  # the original's context is its own


def test_a_forward_written_for_the_old_contract_is_a_clear_error():
    class Doubler(tn.Layer):
        def _forward(self, x):
            return 2 * x  # the output alone, without the context

    with pytest.raises(TypeError, match=r"Doubler\(\): _forward must return \(y, ctx\), y an array; "
                                        r"got array\(\[\[2., 2.\],"):
        Doubler().forward(np.ones((2, 2)))  # two rows would unpack silently into y and ctx


def test_a_parameter_set_before_the_base_init_is_a_clear_error():
    class Forgetful(tn.Layer):
        def __init__(self):
            self.w = tn.Parameter(np.ones(3))  # super().__init__() forgotten

    with pytest.raises(TypeError, match=r"Forgetful: call super\(\).__init__\(\) before setting 'w'"):
        Forgetful()


def test_a_buffer_must_be_numeric():
    layer = tn.Linear(2, 2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="buffer 'note' must be a numeric array or None, got dtype <U3"):
        layer.register_buffer("note", "abc")
    assert "note" not in dict(layer.named_buffers())


def test_parameters_are_named_parameters_without_the_names():
    # two walks, one rule: each Parameter once, in named_parameters' order, shared ones included once
    rng = np.random.default_rng(0)
    tied = tn.Linear(3, 3, rng=rng)
    nets = [tn.Sequential(tied, tn.Tanh(), tied, tn.Residual(tn.Linear(3, 3, rng=rng), learnable_alpha=True)),
            tn.Sequential(tn.Linear(3, 4, rng=rng), tn.BatchNorm1d(4), tn.LayerNorm(4)),
            tn.MLP([2, 3, 2], "relu", rng=rng), tn.ReLU()]
    for net in nets:
        for recurse in (True, False):
            assert [id(p) for p in net.parameters(recurse)] == \
                   [id(p) for _, p in net.named_parameters(recurse=recurse)]
    assert len(list(nets[0].parameters())) == 5  # the tied Linear's two once, the block's two, alpha
