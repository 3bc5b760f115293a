"""Residual: gradients, alpha fixed and learnable, hooks inside, errors.

Its numbers against PyTorch's are in test_layer_reference.py.
"""

import numpy as np
import pytest

import tinynet as tn


def block(width=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return tn.Sequential(tn.Linear(width, width, rng=rng, bias_init=tn.init.Normal(std=0.5),
                                   dtype=dtype), tn.Tanh())


def data(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("kwargs", [{}, {"alpha": 0.5}, {"alpha": -0.3, "learnable_alpha": True},
                                    {"alpha": 0.0, "learnable_alpha": True}])
def test_gradcheck(kwargs):
    report = tn.gradcheck(tn.Residual(block(), **kwargs), data((3, 4)))
    assert report.passed, str(report)


def test_gradcheck_with_normalization_inside():
    inner = tn.Sequential(tn.LayerNorm(4), tn.Linear(4, 4, rng=np.random.default_rng(0)),
                          tn.BatchNorm1d(4), tn.ReLU())
    report = tn.gradcheck(tn.Residual(inner, alpha=0.7, learnable_alpha=True), data((5, 4)))
    assert report.passed, str(report)


def test_one_residual_used_twice_in_a_pass():
    res = tn.Residual(block(), alpha=0.5, learnable_alpha=True)
    report = tn.gradcheck(tn.Sequential(res, tn.Tanh(), res), data((3, 4)))
    assert report.passed, str(report)


def test_forward_is_x_plus_alpha_times_block():
    b = block()
    x = data((3, 4))
    np.testing.assert_allclose(tn.Residual(b, alpha=0.5).forward(x), x + 0.5 * b.forward(x))


def test_rezero_starts_as_the_identity_and_learns_alpha():
    res = tn.Residual(block(), alpha=0.0, learnable_alpha=True)
    x, dy = data((3, 4)), data((3, 4), seed=2)
    np.testing.assert_array_equal(res.forward(x), x)
    np.testing.assert_array_equal(res.backward(dy), dy)
    # alpha's gradient is sum(dy * block(x)); the block's own are 0 while alpha is
    with tn.no_grad():
        fx = res.block.forward(x)
    np.testing.assert_allclose(res.alpha.grad, np.sum(dy * fx))
    assert not res.block[0].weight.grad.any()
    tn.SGD(res.parameters(), lr=0.1).step()
    assert float(res.alpha.data) == pytest.approx(-0.1 * float(res.alpha.grad))


def test_parameters_alpha_shape_and_dtype():
    res = tn.Residual(block(dtype=np.float32), alpha=0.2, learnable_alpha=True)
    assert [n for n, _ in res.named_parameters()] == ["alpha", "block.0.weight", "block.0.bias"]
    assert res.alpha.shape == () and res.alpha.dtype == np.float32
    assert res.forward(data((2, 4)).astype(np.float32)).dtype == np.float32
    fixed = tn.Residual(block(), alpha=0.2)
    assert [n for n, _ in fixed.named_parameters()] == ["block.0.weight", "block.0.bias"]
    assert fixed.alpha == 0.2


def test_reset_parameters_redraws_the_block_and_restarts_alpha():
    res = tn.Residual(block(), alpha=0.0, learnable_alpha=True)
    res.alpha.data[...] = 3.0
    before = res.block[0].weight.data.copy()
    res.reset_parameters(np.random.default_rng(5))
    assert float(res.alpha.data) == 0.0
    assert not np.array_equal(res.block[0].weight.data, before)


def test_hooks_on_a_layer_inside_fire_and_can_replace_its_output():
    res = tn.Residual(block(), alpha=0.5)
    seen = []
    res.block[0].register_forward_hook(lambda layer, x, y: seen.append(("forward", y.shape)))
    res.block[0].register_backward_hook(lambda layer, dx, dy: seen.append(("backward", dx.shape)))
    res.block[1].register_forward_hook(lambda layer, x, y: np.zeros_like(y))
    x = data((3, 4))
    np.testing.assert_array_equal(res.forward(x), x)  # the hooked block now gives 0
    res.backward(np.ones((3, 4)))
    assert seen == [("forward", (3, 4)), ("backward", (3, 4))]


def test_register_hooks_reaches_the_layers_inside():
    net = tn.Sequential(tn.Residual(block()), tn.Linear(4, 2, rng=np.random.default_rng(0)))
    names = []
    with tn.register_hooks(net, forward=lambda layer, x, y: names.append(layer.label())):
        net.forward(data((2, 4)))
    assert names == ["Linear(4 -> 4)", "Tanh()", "Linear(4 -> 2)"]


def test_train_and_eval_reach_the_block():
    res = tn.Residual(tn.Sequential(tn.Linear(3, 3, rng=np.random.default_rng(0)),
                                    tn.BatchNorm1d(3)))
    res.eval()
    assert not res.block[1].training
    res.train()
    assert res.block[1].training


def test_state_dict_round_trip_with_buffers_inside():
    def make():
        return tn.Residual(tn.Sequential(tn.Linear(3, 3, rng=np.random.default_rng(0)),
                                         tn.BatchNorm1d(3)), alpha=0.5, learnable_alpha=True)
    res = make()
    for seed in range(3):
        res.forward(data((4, 3), seed=seed) + seed)
    res.alpha.data[...] = 0.9
    fresh = make()
    fresh.load_state_dict(res.state_dict())
    assert set(res.state_dict()) == {"alpha", "block.0.weight", "block.0.bias", "block.1.weight",
                                     "block.1.bias", "block.1.running_mean", "block.1.running_var",
                                     "block.1.num_batches_tracked"}
    res.eval()
    fresh.eval()
    x = data((2, 3), seed=9)
    np.testing.assert_array_equal(fresh.forward(x), res.forward(x))


def test_a_block_that_changes_the_shape_is_named():
    res = tn.Residual(tn.Linear(4, 3, rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"Residual\(Linear\(4 -> 3\)\): the block returned shape "
                                         r"\(5, 3\) for input of shape \(5, 4\)"):
        res.forward(data((5, 4)))


@pytest.mark.parametrize("bad, error, words", [
    ({"block": np.tanh}, TypeError, "block must be a tinynet Layer"),
    ({"alpha": "1"}, TypeError, "alpha"),
    ({"alpha": float("nan")}, ValueError, "alpha"),
    ({"learnable_alpha": "True"}, TypeError, "learnable_alpha"),
])
def test_refuses_bad_arguments(bad, error, words):
    kwargs = {"block": block(), **bad}
    with pytest.raises(error, match="Residual") as info:
        tn.Residual(**kwargs)
    assert words in str(info.value)


def test_repr_shows_alpha_and_the_block():
    res = tn.Residual(tn.Linear(2, 2, rng=np.random.default_rng(0)), alpha=0.0, learnable_alpha=True)
    assert repr(res) == ("Residual(\n  alpha=0.0, learnable_alpha=True\n"
                         "  (block): Linear(in_features=2, out_features=2, bias=True)\n)")
    assert res.label() == "Residual(Linear(2 -> 2))"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_and_load_a_network_of_remedies(tmp_path, dtype):
    rng = np.random.default_rng(0)
    inner = tn.Sequential(tn.LayerNorm(4), tn.Linear(4, 4, rng=rng), tn.BatchNorm1d(4, momentum=None),
                          tn.Tanh(), tn.Dropout(0.3))
    net = tn.Sequential(tn.Linear(3, 4, rng=rng), tn.Residual(inner, alpha=0.0, learnable_alpha=True),
                        tn.Residual(tn.Linear(4, 4, rng=rng), alpha=0.5)).to(dtype)
    for seed in range(3):
        net.forward(data((5, 3), seed=seed).astype(dtype))
    net[1].alpha.data[...] = 0.25
    tn.save(net, tmp_path / "net.npz")
    back = tn.load(tmp_path / "net.npz")
    assert repr(back) == repr(net)
    state, loaded = net.state_dict(), back.state_dict()
    assert list(loaded) == list(state) and "1.block.2.running_var" in state
    for name, value in state.items():
        assert loaded[name].dtype == value.dtype and np.array_equal(loaded[name], value), name
    x = data((2, 3), seed=9).astype(dtype)
    np.testing.assert_array_equal(back.eval().forward(x), net.eval().forward(x))
    back.reset_parameters(rng)
    assert float(back[1].alpha.data) == 0.0  # ReZero's start survives the file
