import numpy as np
import pytest

import tinynet as tn


def small_net():
    rng = np.random.default_rng(0)
    return tn.Sequential(tn.Linear(3, 4, rng=rng), tn.Tanh(), tn.Linear(4, 2, rng=rng))


def test_forward_hook_sees_input_and_output():
    net = small_net()
    seen = []
    net[0].register_forward_hook(lambda layer, x, y: seen.append((layer, x.shape, y.shape)))
    net.forward(np.ones((5, 3)))
    assert seen == [(net[0], (5, 3), (5, 4))]


def test_backward_hook_sees_dx_and_dy():
    net = small_net()
    seen = []
    net[2].register_backward_hook(lambda layer, dx, dy: seen.append((dx.shape, dy.shape)))
    net.backward(np.ones_like(net.forward(np.ones((5, 3)))))
    assert seen == [((5, 4), (5, 2))]


def test_returning_an_array_replaces_the_output():
    net = small_net()
    net[1].register_forward_hook(lambda layer, x, y: np.zeros_like(y))
    np.testing.assert_allclose(net.forward(np.ones((1, 3))), net[2].bias.data[None, :])
    h = net[2].register_backward_hook(lambda layer, dx, dy: 2 * dx)
    net.forward(np.ones((1, 3)))
    doubled = net[2].backward(np.ones((1, 2)))
    h.remove()
    net.forward(np.ones((1, 3)))
    np.testing.assert_allclose(doubled, 2 * net[2].backward(np.ones((1, 2))))


def test_remove_and_context_manager():
    layer = tn.Tanh()
    calls = []
    with layer.register_forward_hook(lambda *a: calls.append(1)):
        layer.forward(np.ones((1, 1)))
    layer.forward(np.ones((1, 1)))
    assert calls == [1]
    h = layer.register_forward_hook(lambda *a: calls.append(2))
    h.remove()
    h.remove()  # twice is harmless
    layer.forward(np.ones((1, 1)))
    assert calls == [1]


def test_container_hook_does_not_reach_children():
    net = small_net()
    calls = []
    net.register_forward_hook(lambda layer, x, y: calls.append(type(layer).__name__))
    net.forward(np.ones((1, 3)))
    assert calls == ["Sequential"]


def test_register_hooks_on_every_layer():
    net = small_net()
    fwd, bwd = [], []
    with tn.register_hooks(net, forward=lambda l, x, y: fwd.append(l),
                           backward=lambda l, dx, dy: bwd.append(l)) as group:
        assert len(group) == 6
        net.backward(np.ones_like(net.forward(np.ones((1, 3)))))
    assert fwd == list(net) and bwd == list(reversed(list(net)))
    net.backward(np.ones_like(net.forward(np.ones((1, 3)))))
    assert len(fwd) == 3  # detached


def test_register_hooks_including_containers():
    net = small_net()
    seen = []
    tn.register_hooks(net, forward=lambda l, x, y: seen.append(l), leaves_only=False)
    net.forward(np.ones((1, 3)))
    assert seen[-1] is net and len(seen) == 4


def test_bad_hooks():
    with pytest.raises(TypeError, match=r"Tanh\(\): a hook must be callable, got int"):
        tn.Tanh().register_forward_hook(3)
    with pytest.raises(ValueError, match="give a forward hook, a backward hook or both"):
        tn.register_hooks(small_net())


def test_a_forward_pre_hook_may_replace_the_input():
    net = small_net()
    seen = []
    net[0].register_forward_pre_hook(lambda layer, x: seen.append(np.shape(x)))
    with net[0].register_forward_pre_hook(lambda layer, x: 2 * np.asarray(x)):
        doubled = net.forward(np.ones((1, 3)))
    np.testing.assert_allclose(doubled, net.forward(np.full((1, 3), 2.0)))
    assert seen == [(1, 3), (1, 3)]


def test_a_forward_pre_hook_may_return_a_one_tuple_as_pytorchs_do():
    tanh = tn.Tanh()
    x = np.array([[0.1, -0.2, 0.3]])
    with tanh.register_forward_pre_hook(lambda layer, x: (2 * x,)):
        y = tanh.forward(x)
    np.testing.assert_array_equal(y, np.tanh(2 * x))


def test_backward_passes_the_gradient_straight_through_a_replaced_output():
    rng = np.random.default_rng(1)
    net = small_net()
    x, dy = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    net.forward(x)
    plain = net.backward(dy)
    with net[1].register_forward_hook(lambda layer, x, y: 10 * y):
        net.forward(x)
        through = net.backward(dy)
    # the scaling is not differentiated: tinynet has no autograd (a backward hook changes dx)
    np.testing.assert_allclose(through, plain)


@pytest.mark.parametrize("kind, hook, error, match", [
    ("forward", lambda l, x, y: y[:1], ValueError,
     r"^Tanh\(\): forward hook <lambda> returned an array of shape \(1, 4\) and dtype float64; a replacement "
     r"output must have shape \(2, 4\) and dtype float64$"),
    ("forward", lambda l, x, y: y.astype(np.float32), ValueError, r"dtype float32; a replacement output"),
    ("forward", lambda l, x, y: y.tolist(), ValueError,
     r"^Tanh\(\): forward hook <lambda> returned a list; a replacement output must have shape \(2, 4\)"),
    ("backward", lambda l, dx, dy: dx.T, ValueError,
     r"^Tanh\(\): backward hook <lambda> returned an array of shape \(4, 2\) and dtype float64; a replacement "
     r"dx must have shape \(2, 4\) and dtype float64$"),
])
def test_a_replacement_of_another_shape_or_dtype_is_refused(kind, hook, error, match):
    net = small_net()
    getattr(net[1], f"register_{kind}_hook")(hook)
    with pytest.raises(error, match=match):
        net.forward(np.ones((2, 3)))
        net.backward(np.ones((2, 2)))


def test_register_hooks_needs_a_layer():
    with pytest.raises(TypeError, match="register_hooks: module must be a tinynet Layer, got NoneType"):
        tn.register_hooks(None, forward=lambda *a: None)
