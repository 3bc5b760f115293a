"""tinynet against PyTorch, where PyTorch is installed (skipped otherwise)."""

import numpy as np
import pytest

import tinynet as tn

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ACTIVATIONS = {
    "identity": lambda t: t,
    "relu": F.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "silu": F.silu,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "scaled_sigmoid": lambda t: 4 * torch.sigmoid(t) - 2,
}


@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_activation_forward_and_backward(name):
    x = np.random.default_rng(0).normal(scale=3.0, size=(6, 5))
    dy = np.random.default_rng(1).standard_normal((6, 5))
    act = tn.activation(name)
    y = act.forward(x)
    dx = act.backward(dy)
    t = torch.tensor(x, requires_grad=True)
    ty = TORCH_ACTIVATIONS[name](t)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mlp_forward_backward_and_parameter_grads(dtype):
    rng = np.random.default_rng(0)
    net = tn.MLP([5, 7, 3], "tanh", rng=rng, bias_init=tn.init.Normal(std=0.5), dtype=dtype)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    ref = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3), torch.nn.Tanh())
    ref = ref.to(tdtype)
    with torch.no_grad():  # weights move across without transposing
        for (_, p), q in zip(net.named_parameters(), ref.parameters()):
            q.copy_(torch.from_numpy(p.data))
    x = rng.standard_normal((4, 5)).astype(dtype)
    dy = rng.standard_normal((4, 3)).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    ty = ref(tx)
    ty.backward(torch.from_numpy(dy))
    y = net.forward(x)
    dx = net.backward(dy)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tol)
    for (name, p), q in zip(net.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), err_msg=name, **tol)


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("conv2d", None),
])
def test_calculate_gain(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert tn.init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-12)
