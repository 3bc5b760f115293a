"""LayerNorm and BatchNorm1d: gradients, statistics, modes, buffers and errors.

Their numbers against PyTorch's are in test_layer_reference.py.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import tinynet as tn


def randomized(layer, seed=0):
    """``layer`` with its weight and bias away from ones and zeros, so every term is checked."""
    rng = np.random.default_rng(seed)
    for p in layer.parameters():
        p.data[...] = rng.normal(1.0, 0.5, size=p.shape)
    return layer


def data(shape, seed=1, loc=0.0, scale=1.0):
    return loc + scale * np.random.default_rng(seed).standard_normal(shape)


def numeric_jacobian(f, x, eps=1e-6):
    """d f(x)[0] / d x[0], one column per entry of the sample, by central differences."""
    cols = []
    for e in np.eye(x.size).reshape((x.size,) + x.shape):
        cols.append(((f(x + eps * e) - f(x - eps * e))[0] / (2 * eps)).ravel())
    return np.stack(cols, axis=1)


# ---- LayerNorm --------------------------------------------------------------
@pytest.mark.parametrize("kwargs, shape", [
    ({"normalized_shape": 5}, (4, 5)),
    ({"normalized_shape": 5, "elementwise_affine": False}, (3, 5)),
    ({"normalized_shape": 5, "bias": False}, (3, 5)),
    ({"normalized_shape": (3, 4)}, (2, 3, 4)),
    ({"normalized_shape": 4}, (2, 3, 4)),
    ({"normalized_shape": 4}, (4,)),
])
def test_layernorm_gradcheck(kwargs, shape):
    report = tn.gradcheck(randomized(tn.LayerNorm(**kwargs)), data(shape, scale=3.0))
    assert report.passed, str(report)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (3, 6), elements=st.floats(-1e3, 1e3)))
def test_layernorm_output_has_zero_mean_and_unit_variance_per_sample(x):
    spread = x.std(axis=1)
    x = x[spread > 1e-2]  # variance well above eps
    if len(x):
        y = tn.LayerNorm(6, elementwise_affine=False).forward(x)
        np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-9)
        np.testing.assert_allclose(y.var(axis=1), x.var(axis=1) / (x.var(axis=1) + 1e-5), rtol=1e-9)


def test_layernorm_applies_weight_and_bias_per_position():
    ln = randomized(tn.LayerNorm(4))
    x = data((3, 4))
    xhat = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln.forward(x), xhat * ln.weight.data + ln.bias.data, rtol=1e-12)


def test_layernorm_is_the_same_in_eval_mode():
    ln = randomized(tn.LayerNorm(4))
    x = data((3, 4))
    y = ln.forward(x)
    ln.eval()
    np.testing.assert_array_equal(ln.forward(x), y)


def test_layernorm_several_cotangents_for_one_sample_give_the_jacobian():
    ln = randomized(tn.LayerNorm(4))
    x = data((1, 4))
    ln.forward(x)
    np.testing.assert_allclose(ln.backward(np.eye(4)), numeric_jacobian(ln.forward, x), atol=1e-8)


def test_layernorm_parameters_and_repr():
    ln = tn.LayerNorm((2, 3), eps=1e-6)
    assert [(n, p.shape) for n, p in ln.named_parameters()] == [("weight", (2, 3)), ("bias", (2, 3))]
    assert (ln.weight.data == 1).all() and (ln.bias.data == 0).all()
    assert repr(ln) == "LayerNorm((2, 3), eps=1e-06, elementwise_affine=True)"
    assert list(tn.LayerNorm(3, elementwise_affine=False).parameters()) == []
    assert [n for n, _ in tn.LayerNorm(3, bias=False).named_parameters()] == ["weight"]


def test_layernorm_reset_parameters_restores_ones_and_zeros():
    ln = randomized(tn.LayerNorm(3))
    ln.reset_parameters()
    assert (ln.weight.data == 1).all() and (ln.bias.data == 0).all()


def test_layernorm_casts_input_to_its_dtype():
    ln = tn.LayerNorm(3, dtype=np.float32)
    assert ln.forward(np.arange(6).reshape(2, 3)).dtype == np.float32


@pytest.mark.parametrize("bad, error, words", [
    ({"normalized_shape": 0}, ValueError, "normalized_shape[0]"),
    ({"normalized_shape": ()}, ValueError, "at least one dimension"),
    ({"normalized_shape": "5"}, TypeError, "normalized_shape"),
    ({"normalized_shape": 5, "eps": -1e-5}, ValueError, "eps"),
    ({"normalized_shape": 5, "elementwise_affine": "False"}, TypeError, "elementwise_affine"),
    ({"normalized_shape": 5, "dtype": np.int32}, TypeError, "dtype"),
])
def test_layernorm_refuses_bad_arguments(bad, error, words):
    with pytest.raises(error, match="LayerNorm") as info:
        tn.LayerNorm(**bad)
    assert words in str(info.value)


def test_layernorm_names_itself_and_the_shapes_for_bad_input():
    with pytest.raises(ValueError, match=r"LayerNorm\(5\): expected input of shape \(\.\.\., 5\), "
                                         r"got \(4, 6\)"):
        tn.LayerNorm(5).forward(np.zeros((4, 6)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, 4\), got \(2, 4, 3\)"):
        tn.LayerNorm((3, 4)).forward(np.zeros((2, 4, 3)))


# ---- BatchNorm1d ------------------------------------------------------------
def trained(bn, steps=3, seed=0):
    """``bn`` after a few training batches, so its running statistics are its own."""
    for i in range(steps):
        bn.forward(data((6, bn.num_features), seed=seed + i, loc=2.0, scale=3.0))
    return bn


@pytest.mark.parametrize("kwargs, shape, train", [
    ({}, (5, 3), True),
    ({}, (4, 3, 2), True),
    ({"affine": False}, (5, 3), True),
    ({"momentum": None}, (2, 3), True),
    ({}, (5, 3), False),
    ({}, (4, 3, 2), False),
    ({"track_running_stats": False}, (5, 3), False),
])
def test_batchnorm_gradcheck(kwargs, shape, train):
    bn = trained(randomized(tn.BatchNorm1d(3, **kwargs)))
    bn.train(train)
    report = tn.gradcheck(bn, data(shape, scale=2.0))
    assert report.passed, str(report)


def test_batchnorm_training_couples_the_rows_and_eval_does_not():
    bn = trained(randomized(tn.BatchNorm1d(3)))
    x = data((4, 3))
    x2 = x.copy()
    x2[1] += 1.0
    assert not np.allclose(bn.forward(x)[0], bn.forward(x2)[0])
    bn.eval()
    np.testing.assert_array_equal(bn.forward(x)[0], bn.forward(x2)[0])


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (5, 2), elements=st.floats(-1e3, 1e3)))
def test_batchnorm_training_output_has_zero_mean_per_feature(x):
    x = x[:, x.std(axis=0) > 1e-2]
    if x.size:
        y = tn.BatchNorm1d(x.shape[1], affine=False).forward(x)
        np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-9)


def test_batchnorm_running_statistics_follow_momentum_with_unbiased_variance():
    bn = tn.BatchNorm1d(2, momentum=0.25)
    x = data((5, 2), loc=3.0)
    bn.forward(x)
    np.testing.assert_allclose(bn.running_mean, 0.25 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.75 + 0.25 * x.var(axis=0, ddof=1), rtol=1e-12)
    assert int(bn.num_batches_tracked) == 1


def test_batchnorm_momentum_none_averages_all_batches():
    bn = tn.BatchNorm1d(2, momentum=None)
    batches = [data((n, 2), seed=n, loc=n) for n in (3, 5, 4)]
    for x in batches:
        bn.forward(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(0) for x in batches], axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.running_var,
                               np.mean([x.var(0, ddof=1) for x in batches], axis=0), rtol=1e-12)
    assert int(bn.num_batches_tracked) == 3


def test_batchnorm_eval_uses_the_running_statistics():
    bn = tn.BatchNorm1d(2, momentum=1.0)
    x = data((6, 2), loc=-2.0, scale=4.0)
    bn.forward(x)
    bn.eval()
    expected = (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + 1e-5)
    np.testing.assert_allclose(bn.forward(x), expected, rtol=1e-12)
    before = bn.running_mean.copy()
    bn.forward(data((3, 2)))
    np.testing.assert_array_equal(bn.running_mean, before)  # eval leaves them alone
    assert bn.forward(data((1, 2))).shape == (1, 2)  # a batch of one is fine in eval mode


def test_batchnorm_without_running_stats_uses_the_batch_in_eval_mode_too():
    bn = tn.BatchNorm1d(2, track_running_stats=False, affine=False)
    assert bn.running_mean is None and dict(bn.state_dict()) == {}
    x = data((5, 2), loc=1.0)
    bn.eval()
    np.testing.assert_allclose(bn.forward(x), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5),
                               rtol=1e-12)


def test_batchnorm_updates_running_statistics_under_no_grad_as_pytorch_does():
    bn = tn.BatchNorm1d(2)
    with tn.no_grad():
        bn.forward(data((4, 2), loc=5.0))
    assert int(bn.num_batches_tracked) == 1 and (bn.running_mean > 0).all()


def test_batchnorm_batch_of_one_in_training_is_pytorchs_value_error():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): Expected more than 1 value per "
                                         r"channel when training, got input of shape \(1, 3\)"):
        tn.BatchNorm1d(3).forward(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        tn.BatchNorm1d(3, track_running_stats=False).eval().forward(np.zeros((1, 3)))


def test_batchnorm_several_cotangents_for_one_sequence_give_the_jacobian():
    # training mode, one sample of length 4: the statistics are over its length
    bn = randomized(tn.BatchNorm1d(2))
    x = data((1, 2, 4))
    bn.forward(x)
    jac = bn.backward(np.eye(8).reshape(8, 2, 4)).reshape(8, 8)
    np.testing.assert_allclose(jac, numeric_jacobian(bn.forward, x), atol=1e-8)


def test_batchnorm_state_dict_has_pytorchs_names_and_round_trips():
    bn = trained(randomized(tn.BatchNorm1d(3)))
    state = bn.state_dict()
    assert set(state) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    fresh = tn.BatchNorm1d(3)
    fresh.load_state_dict(state)
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    bn.eval()
    fresh.eval()
    x = data((4, 3))
    np.testing.assert_array_equal(fresh.forward(x), bn.forward(x))


def test_batchnorm_to_casts_running_statistics_but_not_the_count():
    bn = trained(tn.BatchNorm1d(3)).to(np.float32)
    assert bn.running_mean.dtype == np.float32 and bn.running_var.dtype == np.float32
    assert bn.num_batches_tracked.dtype == np.int64
    assert bn.forward(data((4, 3))).dtype == np.float32


def test_batchnorm_reset_running_stats():
    bn = trained(tn.BatchNorm1d(3))
    bn.reset_running_stats()
    assert (bn.running_mean == 0).all() and (bn.running_var == 1).all()
    assert int(bn.num_batches_tracked) == 0


def test_batchnorm_repr_and_label():
    bn = tn.BatchNorm1d(3, momentum=None)
    assert repr(bn) == "BatchNorm1d(3, eps=1e-05, momentum=None, affine=True, track_running_stats=True)"
    assert bn.label() == "BatchNorm1d(3)"


@pytest.mark.parametrize("bad, error, words", [
    ({"num_features": 0}, ValueError, "num_features"),
    ({"num_features": 3, "momentum": 1.5}, ValueError, "momentum"),
    ({"num_features": 3, "momentum": "0.1"}, TypeError, "momentum"),
    ({"num_features": 3, "eps": -1e-5}, ValueError, "eps"),
    ({"num_features": 3, "affine": 1}, TypeError, "affine"),
    ({"num_features": 3, "track_running_stats": "no"}, TypeError, "track_running_stats"),
])
def test_batchnorm_refuses_bad_arguments(bad, error, words):
    with pytest.raises(error, match="BatchNorm1d") as info:
        tn.BatchNorm1d(**bad)
    assert words in str(info.value)


@pytest.mark.parametrize("shape", [(4, 5), (4,), (2, 3, 4, 5)])
def test_batchnorm_names_itself_and_the_shapes_for_bad_input(shape):
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected input of shape \(batch, 3\) "
                                         r"or \(batch, 3, length\), got"):
        tn.BatchNorm1d(3).forward(np.zeros(shape))


@pytest.mark.parametrize("layer", [
    tn.BatchNorm1d(3), tn.BatchNorm1d(3, momentum=None, affine=False, dtype=np.float32),
    tn.BatchNorm1d(3, eps=1e-3, track_running_stats=False), tn.LayerNorm((3,), eps=1e-6),
    tn.LayerNorm(3, bias=False, dtype=np.float32), tn.LayerNorm(3, elementwise_affine=False),
], ids=repr)
def test_save_and_load_keep_parameters_and_running_statistics(tmp_path, layer):
    randomized(layer)
    for seed in range(3):
        layer.forward(data((5, 3), seed=seed, loc=seed).astype(layer.dtype))
    tn.save(layer, tmp_path / "norm.npz")
    back = tn.load(tmp_path / "norm.npz")
    assert repr(back) == repr(layer)
    state, loaded = layer.state_dict(), back.state_dict()
    assert list(loaded) == list(state)
    for name, value in state.items():
        assert loaded[name].dtype == value.dtype and np.array_equal(loaded[name], value), name
    x = data((4, 3), seed=9).astype(layer.dtype)
    np.testing.assert_array_equal(back.eval().forward(x), layer.eval().forward(x))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("make", [lambda dtype: tn.LayerNorm(2, dtype=dtype),
                                  lambda dtype: tn.BatchNorm1d(2, dtype=dtype)])
def test_float16_statistics_do_not_overflow(make):
    # squares of entries past 256 overflow float16; the layers compute in float32, as PyTorch
    x = np.array([[300.0, -300.0], [-300.0, 2.0], [200.0, 3.0]])
    dy = data((3, 2), seed=2)
    exact, half = make(np.float64), make(np.float16)
    y = half.forward(x.astype(np.float16))
    dx = half.backward(dy.astype(np.float16))
    assert y.dtype == dx.dtype == np.float16
    np.testing.assert_allclose(y, exact.forward(x), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(dx, exact.backward(dy), rtol=2e-3, atol=2e-3)
    for (_, p), (_, q) in zip(half.named_parameters(), exact.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=2e-3, atol=2e-3)
    for a, b in zip(half.buffers(), exact.buffers()):
        np.testing.assert_allclose(a, b, rtol=2e-3)
