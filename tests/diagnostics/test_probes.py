import math
import warnings

import numpy as np
import pytest

import tinynet as tn
from diagnostics.probes import batch_gradient_probe, gradient_probe, is_scale_equivariant, matrix_product


def plain_product(scale, k, n, seed):
    """The lecture's loop, verbatim in numpy."""
    rng = np.random.default_rng(seed)
    y = np.eye(k)
    for _ in range(n):
        y = rng.normal(0, scale, (k, k)) @ y
    return y


@pytest.mark.parametrize("scale", [0.5, 0.7])
def test_matrix_product_equals_the_plain_loop(scale):
    result = matrix_product(scale, k=4, n=100, rng=np.random.default_rng(3))
    expected = plain_product(scale, 4, 100, seed=3)
    np.testing.assert_allclose(result.product, expected, rtol=1e-9)
    assert result.log10_mean_abs == pytest.approx(math.log10(np.abs(expected).mean()), abs=1e-9)
    assert len(result.per_step_log10_norm) == 100


def test_matrix_product_beyond_float_range():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = matrix_product(10.0, k=4, n=200, rng=np.random.default_rng(0))
    assert 150 < result.log10_mean_abs < 300  # ~1.1 decades a step
    with pytest.raises(OverflowError, match="beyond float64"):
        matrix_product(100.0, k=4, n=200, rng=np.random.default_rng(0)).product


def plain_jacobian(net, x):
    """The lecture's hand-written chain rule over the net's own layers: Y <- diag(phi'(z)) W Y."""
    h = x[0]
    jac = np.eye(len(h))
    layers = list(net)
    for lin, act in zip(layers[::2], layers[1::2]):
        z = lin.weight.data @ h + (0 if lin.bias is None else lin.bias.data)
        jac = (act.derivative(z)[:, None] * lin.weight.data) @ jac
        h = act.fn(z)
    return jac


@pytest.mark.parametrize("activation, std, bias", [
    ("relu", 0.15, False), ("sigmoid", 0.3, False), ("scaled_sigmoid", 0.2, True), ("tanh", 0.1, True),
])
def test_gradient_probe_equals_the_plain_chain_rule(activation, std, bias):
    rng = np.random.default_rng(0)
    net = tn.MLP([20] * 11, activation, weight_init=tn.init.Normal(std=std), bias=bias,
                 bias_init=tn.init.Normal(std=0.1) if bias else None, final_activation=True, rng=rng)
    x = rng.standard_normal((1, 20))
    expected = plain_jacobian(net, x)
    result = gradient_probe(net, x)
    np.testing.assert_allclose(result.jacobian, expected, rtol=1e-9, atol=1e-300)
    assert result.log10_mean_abs_grad == pytest.approx(math.log10(np.abs(expected).mean()), abs=1e-9)
    assert result.mean_abs_grad == pytest.approx(np.abs(expected).mean(), rel=1e-9)
    # per-layer norms: suffix products of the local Jacobians, from the output backwards
    layers = list(net)
    h, locals_ = x[0], []
    for lin, act in zip(layers[::2], layers[1::2]):
        z = lin.weight.data @ h + (0 if lin.bias is None else lin.bias.data)
        locals_.append(act.derivative(z)[:, None] * lin.weight.data)
        h = act.fn(z)
    m, norms = np.eye(20), []
    for local in reversed(locals_):
        m = m @ local
        norms.append(math.log10(np.linalg.norm(m)))
    np.testing.assert_allclose(result.per_layer_grad_norm_log10, norms, atol=1e-9)
    assert result.layers == tuple(str(i) for i in range(18, -1, -2))
    assert result.log10_initial_norm == pytest.approx(0.5 * math.log10(20))


def test_probe_leaves_the_network_as_it_was():
    net = tn.MLP([5, 5, 5], "tanh", final_activation=True, rng=np.random.default_rng(0))
    before = [p.data.copy() for p in net.parameters()]
    gradient_probe(net)
    assert all(p.requires_grad for p in net.parameters())
    assert all(p.grad is None for p in net.parameters())
    assert all(np.array_equal(b, p.data) for b, p in zip(before, net.parameters()))
    assert all(not m._forward_hooks and not m._backward_hooks for m in net.modules())


def test_relu_at_depth_1000_is_finite_with_no_warnings():
    net = tn.MLP([100] * 1001, "relu", weight_init=tn.init.Normal(std=0.8), bias=False,
                 final_activation=True, rng=np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gradient_probe(net)
    # each layer multiplies the squared norm by ~ 100 * 0.8^2 / 2 = 32, i.e. 0.75 decades
    assert 650 < result.log10_mean_abs_grad < 850
    slope = np.polyfit(np.arange(1000), result.per_layer_grad_norm_log10, 1)[0]
    assert slope == pytest.approx(math.log10(math.sqrt(32)), abs=0.02)
    assert result.mean_abs_grad is None  # beyond float range: only the log10 is given
    with pytest.raises(OverflowError):
        result.jacobian


def test_float32_probe_agrees_with_float64():
    nets = [tn.MLP([50] * 31, "relu", weight_init=tn.init.Normal(std=0.4), bias=False,
                   final_activation=True, rng=np.random.default_rng(1), dtype=d) for d in (np.float64, np.float32)]
    r64, r32 = (gradient_probe(n) for n in nets)
    assert r32.jacobian_mantissa.dtype == np.float32
    assert r32.log10_mean_abs_grad == pytest.approx(r64.log10_mean_abs_grad, abs=1e-3)


@pytest.mark.parametrize("std", [3.0, 0.05])
def test_float16_probe_rescales_within_its_narrow_range(std):
    # float16 ends at 65,504: growing 3x per layer (or shrinking 20x) it must be rescaled early
    nets = [tn.MLP([32] * 6, "relu", weight_init=tn.init.Normal(std=std), bias=False,
                   final_activation=True, rng=np.random.default_rng(1), dtype=d) for d in (np.float64, np.float16)]
    r64, r16 = (gradient_probe(n) for n in nets)
    assert r16.finite and r16.jacobian_mantissa.dtype == np.float16
    assert r16.log10_mean_abs_grad == pytest.approx(r64.log10_mean_abs_grad, abs=0.01)


def test_nonfinite_forward_is_reported_not_propagated():
    # with biases the forward pass cannot be rescaled, so it overflows
    net = tn.MLP([10] * 201, "relu", weight_init=tn.init.Normal(std=30.0), bias=True,
                 bias_init=tn.init.Constant(1.0), final_activation=True, rng=np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gradient_probe(net)
    assert not result.finite
    assert result.nonfinite["pass"] == "forward" and result.nonfinite["type"] == "Linear"
    assert 0 < int(result.nonfinite["layer"]) < 400
    assert result.log10_mean_abs_grad is None


def test_dead_network_gives_minus_infinity():
    net = tn.MLP([4, 4, 4], "relu", weight_init=tn.init.Constant(-1.0), bias=False,
                 final_activation=True, rng=np.random.default_rng(0))
    assert gradient_probe(net).log10_mean_abs_grad == -math.inf


def test_scale_equivariance():
    rng = np.random.default_rng(0)
    assert is_scale_equivariant(tn.Linear(2, 2, bias=False, rng=rng))
    assert not is_scale_equivariant(tn.Linear(2, 2, rng=rng))
    assert is_scale_equivariant(tn.LeakyReLU()) and not is_scale_equivariant(tn.Tanh())


def test_probe_input_errors():
    net = tn.MLP([3, 3], "relu", final_activation=True, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"x must be one input, \(in_features,\) or \(1, in_features\); got \(2, 3\)"):
        gradient_probe(net, np.ones((2, 3)))
    with pytest.raises(ValueError, match="give x"):
        gradient_probe(tn.Sequential(tn.ReLU()))
    with pytest.raises(ValueError, match="scale must be > 0"):
        matrix_product(0.0)


@pytest.mark.parametrize("s", [1e-170, 1e160])
def test_norms_beyond_the_square_root_of_float_range(s):
    lin = tn.Linear(3, 3, bias=False, weight_init=tn.init.Zeros(), rng=np.random.default_rng(0))
    lin.weight.data[:] = s * np.eye(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gradient_probe(tn.Sequential(lin))
    assert result.finite
    assert result.log10_grad_norm == pytest.approx(math.log10(s * math.sqrt(3)), abs=1e-9)
    assert result.log10_mean_abs_grad == pytest.approx(math.log10(s / 3), abs=1e-9)


def test_subnormal_weights_are_measured_exactly():
    # weights near 1e-320 are subnormal: each is an integer times 2**-1074. At such
    # scales tanh'(z) = 1 exactly, so J is the product of the weight matrices, and
    # the integers' product (in range) gives its size exactly. The probe's backward
    # pass rounds each gradient times weight to that grid, about 1e-3 relative per layer
    width, depth = 10, 5
    net = tn.MLP([width] * (depth + 1), "tanh", weight_init=tn.init.Normal(std=1e-320), bias=False,
                 final_activation=True, rng=np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gradient_probe(net)
    assert result.finite
    product = np.eye(width)
    for lin in list(net)[::2]:
        product = np.ldexp(lin.weight.data, 1074) @ product  # integers, exactly
    expected = math.log10(np.abs(product).mean()) - depth * 1074 * math.log10(2)
    assert result.log10_mean_abs_grad == pytest.approx(expected, abs=5e-3)


def test_rescaling_by_a_subnormal_norm_stays_finite():
    from diagnostics.probes import LogRescaler

    layer = tn.Linear(2, 2, rng=np.random.default_rng(0))
    rescaler = LogRescaler({id(layer): "0"})
    dx = np.array([[3e-320, -4e-320]])
    out = rescaler.backward_hook(layer, dx, np.ones((1, 2)))
    assert out is not None and np.all(np.isfinite(out))
    assert 0.5 <= np.linalg.norm(out) < 1
    true = out * 10.0 ** (rescaler.log10_scale + 320)  # back to units of 1e-320
    np.testing.assert_allclose(true, [[3.0, -4.0]], rtol=1e-3)  # subnormals hold ~4 digits here
    assert rescaler.records == [("0", pytest.approx(math.log10(5e-320), abs=1e-3))]


def test_backward_overflow_is_measured_without_warnings():
    # float32 tanh with weights of std 1e37 at fan-in 100: |z| reaches float32's limit
    # (3.4e38) and the slope there is 0; computing it overflows on the way, as the
    # forward pass does
    net = tn.MLP([100] * 3, "tanh", weight_init=tn.init.Normal(std=1e37), bias=False,
                 final_activation=True, rng=np.random.default_rng(0), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gradient_probe(net)
    assert result.finite and result.log10_mean_abs_grad == -math.inf


def test_nonfinite_backward_is_reported():
    # the cube root's slope is infinite at 0, where zero weights put every unit
    cube_root = tn.Activation(np.cbrt, lambda z: 1.0 / (3.0 * np.cbrt(z) ** 2), name="cube_root")
    net = tn.MLP([4, 4, 4], cube_root, weight_init=tn.init.Zeros(), bias=False, final_activation=True, rng=np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gradient_probe(net)
    assert not result.finite
    assert result.nonfinite == {"layer": "2", "type": "Linear", "pass": "backward", "input_finite": False}
    assert result.log10_mean_abs_grad is None


# ---------------------------------------------------------------------------
# the remedy layers: residual blocks, normalization, dropout
# ---------------------------------------------------------------------------

def _residual_net(depth, width, alpha, rng):
    return tn.Sequential(*[tn.Residual(tn.Sequential(tn.Linear(width, width, bias=False, rng=rng), tn.ReLU()),
                                       alpha=alpha) for _ in range(depth)])


def test_residual_blocks_are_measured_where_the_gradient_leaves_them():
    rng = np.random.default_rng(0)
    net = _residual_net(3, 5, 0.7, rng)
    x = rng.normal(size=5)
    result = gradient_probe(net, x)
    assert result.layers == ("2", "1", "0")
    # by hand: h' = h + alpha relu(W h), so the Jacobian of each block is I + alpha D W
    h, blocks = x, []
    for block in net:
        w = block.block[0].weight.data
        z = w @ h
        blocks.append(np.eye(5) + 0.7 * (z > 0)[:, None] * w)
        h = h + 0.7 * np.maximum(z, 0)
    g = np.eye(5)
    for i, jac in enumerate(reversed(blocks)):
        g = g @ jac
        assert result.per_layer_grad_norm_log10[i] == pytest.approx(np.log10(np.linalg.norm(g)), abs=1e-12)
    np.testing.assert_allclose(result.jacobian, g, atol=1e-12)


def test_dropout_is_probed_in_training_mode_with_its_mask_fixed():
    net = tn.Sequential(tn.Linear(4, 4, bias=False, rng=np.random.default_rng(1)), tn.ReLU(),
                        tn.Dropout(0.5, rng=np.random.default_rng(2)))
    net.eval()
    x = np.array([1.0, -1.0, 2.0, 0.5])
    result = gradient_probe(net, x)
    assert net.training is False and not any(m.training for m in net.modules())
    keep = (np.random.default_rng(2).random((1, 4)) >= 0.5)[0] * 2.0  # the mask the forward pass drew
    w = net[0].weight.data
    np.testing.assert_allclose(result.jacobian, (keep * (w @ x > 0))[:, None] * w, atol=1e-12)


def test_a_layer_norm_network_is_measured_once_per_block():
    rng = np.random.default_rng(0)
    net = tn.Sequential(*[m for _ in range(4) for m in (tn.Linear(6, 6, rng=rng), tn.LayerNorm(6), tn.Tanh())])
    result = gradient_probe(net)
    assert result.layers == ("9", "6", "3", "0")  # the Linear layers: the gradient leaving each block
    assert result.finite and all(p.grad is None for p in net.parameters())


def _batch_norm_net(rng, width=3):
    return tn.Sequential(tn.Linear(width, width, bias=False, rng=rng), tn.BatchNorm1d(width), tn.ReLU(),
                         tn.Linear(width, width, bias=False, rng=rng), tn.BatchNorm1d(width), tn.Tanh())


def test_the_batch_probe_estimates_the_norm_of_the_whole_batch_jacobian():
    rng = np.random.default_rng(3)
    net = _batch_norm_net(rng)
    x = rng.normal(size=(5, 3))

    def f(flat):
        with tn.no_grad():
            return net.forward(flat.reshape(5, 3)).ravel()

    eps = 1e-6
    jac = np.stack([(f(x.ravel() + eps * e) - f(x.ravel() - eps * e)) / (2 * eps) for e in np.eye(15)], axis=1)
    running = [b.copy() for b in net.buffers()]
    result = batch_gradient_probe(net, x, cotangents=2000, rng=rng)
    assert result.batch_size == 5 and result.source == "measured"
    assert result.log10_initial_norm == pytest.approx(0.5 * np.log10(15))
    assert result.log10_grad_norm == pytest.approx(np.log10(np.linalg.norm(jac)), abs=0.02)
    for before, after in zip(running, net.buffers()):  # the running statistics are left as they were
        np.testing.assert_array_equal(before, after)


def test_the_batch_probe_draws_its_batch_from_the_generator():
    net = _batch_norm_net(np.random.default_rng(0), width=8)
    a, b = (batch_gradient_probe(net, batch_size=16, rng=np.random.default_rng(5)) for _ in range(2))
    assert a.batch_size == 16 and a.layers == ("3", "0")
    np.testing.assert_array_equal(a.per_layer_grad_norm_log10, b.per_layer_grad_norm_log10)


def test_batch_norm_needs_the_batch_probe():
    net = _batch_norm_net(np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_gradient_probe"):
        gradient_probe(net)
    with pytest.raises(ValueError, match="at least 2 rows"):
        batch_gradient_probe(net, np.ones((1, 3)))
    with pytest.raises(TypeError, match="rng"):
        batch_gradient_probe(net, rng=0)
