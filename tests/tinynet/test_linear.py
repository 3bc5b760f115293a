import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynet as tn


def make(in_f=4, out_f=3, bias=True, seed=0, **kw):
    return tn.Linear(in_f, out_f, bias=bias, rng=np.random.default_rng(seed), **kw)


def test_forward_is_x_weight_transpose_plus_bias():
    lin = make(bias_init=tn.init.Normal(std=1.0))
    x = np.random.default_rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(lin.forward(x), x @ lin.weight.data.T + lin.bias.data)
    assert lin.weight.shape == (3, 4) and lin.bias.shape == (3,)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 4, 2), (6, 2, 5)])
def test_gradcheck(bias, shape):
    batch, in_f, out_f = shape
    lin = make(in_f, out_f, bias=bias, bias_init=tn.init.Normal(std=0.5))
    x = np.random.default_rng(2).standard_normal((batch, in_f))
    report = tn.gradcheck(lin, x)
    assert report.passed, str(report)
    assert [r["name"] for r in report.rows] == ["input", "weight"] + (["bias"] if bias else [])


def test_gradients_accumulate_until_zero_grad():
    lin = make()
    x = np.ones((2, 4))
    dy = np.ones((2, 3))
    lin.forward(x)
    lin.backward(dy)
    once = lin.weight.grad.copy()
    lin.forward(x)
    lin.backward(dy)
    np.testing.assert_allclose(lin.weight.grad, 2 * once)
    np.testing.assert_allclose(lin.bias.grad, [4.0, 4.0, 4.0])
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_requires_grad_false_skips_parameter_gradients():
    lin = make().requires_grad_(False)
    lin.forward(np.ones((2, 4)))
    dx = lin.backward(np.ones((2, 3)))
    assert lin.weight.grad is None
    np.testing.assert_allclose(dx, np.ones((2, 3)) @ lin.weight.data)


def test_several_cotangents_for_one_input_give_the_jacobian():
    lin = make(bias=False)
    lin.forward(np.ones((1, 4)))
    jac = lin.backward(np.eye(3))
    np.testing.assert_allclose(jac, lin.weight.data)
    # the weight gradient is that of the sum of the three outputs
    np.testing.assert_allclose(lin.weight.grad, np.ones((3, 4)))


def test_default_init_is_lecun_uniform():
    lin = tn.Linear(400, 300, rng=np.random.default_rng(0))
    bound = np.sqrt(3 / 400)
    assert np.abs(lin.weight.data).max() <= bound
    assert abs(lin.weight.data.var() - 1 / 400) < 0.05 / 400
    assert not lin.bias.data.any()


def test_init_from_spec_string():
    lin = tn.Linear(50, 50, weight_init="normal:0.1", rng=np.random.default_rng(0))
    assert abs(lin.weight.data.std() - 0.1) < 0.01


def test_same_seed_same_weights():
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, c.weight.data)


def test_float32_end_to_end():
    lin = make(dtype=np.float32)
    assert lin.weight.data.dtype == np.float32 and lin.bias.data.dtype == np.float32
    y = lin.forward(np.ones((2, 4), dtype=np.float32))
    dx = lin.backward(np.ones((2, 3), dtype=np.float32))
    assert y.dtype == dx.dtype == lin.weight.grad.dtype == np.float32
    # float64 input is cast to the layer's dtype, not the other way round
    assert lin.forward(np.ones((2, 4))).dtype == np.float32


def test_integer_input_is_accepted_as_float():
    lin = make()
    np.testing.assert_allclose(lin.forward(np.ones((1, 4), dtype=int)), lin.forward(np.ones((1, 4))))


@pytest.mark.parametrize(
    "x, match",
    [
        (np.ones((32, 99)), r"Linear\(4 -> 3\): expected input of shape \(batch, 4\), got \(32, 99\)"),
        (np.ones(4), r"expected input of shape \(batch, 4\), got \(4,\)"),
        (np.array([["a", "b", "c", "d"]]), r"Linear\(4 -> 3\): input must be a real numeric array, got dtype <U1"),
        (np.ones((1, 4), dtype=complex), r"input must be a real numeric array"),
    ],
)
def test_bad_input(x, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make().forward(x)


def test_bad_dy_shape():
    lin = make()
    lin.forward(np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"Linear\(4 -> 3\): expected dy of shape \(5, 3\) \(the shape of the output\), got \(5, 4\)"):
        lin.backward(np.ones((5, 4)))


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match=r"Linear\(4 -> 3\): backward needs a forward first"):
        make().backward(np.ones((1, 3)))


def test_backward_twice_after_one_forward():
    lin = make()
    lin.forward(np.ones((1, 4)))
    lin.backward(np.ones((1, 3)))
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        lin.backward(np.ones((1, 3)))


@pytest.mark.parametrize("args, match", [
    ((0, 3), r"in_features must be a positive integer, got 0"),
    ((4, -1), r"out_features must be a positive integer, got -1"),
    ((4.5, 3), r"in_features must be a positive integer, got 4.5"),
])
def test_bad_sizes(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        tn.Linear(*args)


def test_bad_rng():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator.*got int"):
        tn.Linear(2, 2, rng=0)


def test_repr_and_parameters():
    lin = make()
    assert repr(lin) == "Linear(in_features=4, out_features=3, bias=True)"
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert lin.num_parameters() == 15


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 6), in_f=st.integers(1, 6), out_f=st.integers(1, 6), bias=st.booleans())
def test_shapes_and_linearity_in_dy(batch, in_f, out_f, bias):
    lin = make(in_f, out_f, bias=bias)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((batch, in_f))
    dy1, dy2 = rng.standard_normal((2, batch, out_f))
    assert lin.forward(x).shape == (batch, out_f)
    g1 = lin.backward(dy1)
    lin.forward(x)
    g2 = lin.backward(dy2)
    lin.forward(x)
    g = lin.backward(2.0 * dy1 - 3.0 * dy2)
    assert g.shape == (batch, in_f)
    np.testing.assert_allclose(g, 2.0 * g1 - 3.0 * g2, atol=1e-10)


def test_a_gradient_set_by_hand_is_added_to():
    lin = make()
    lin.weight.grad = np.ones((3, 4))
    lin.forward(np.ones((1, 4)))
    lin.backward(np.ones((1, 3)))
    np.testing.assert_allclose(lin.weight.grad, 2.0)


def test_zero_grad_to_zeros_keeps_a_gradient_that_backward_adds_into():
    lin = make()
    x, dy = np.ones((2, 4)), np.full((2, 3), 0.5)
    lin.forward(x)
    lin.backward(dy)
    lin.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(lin.weight.grad, np.zeros((3, 4)))
    lin.forward(x)
    lin.backward(dy)
    np.testing.assert_allclose(lin.weight.grad, dy.T @ x)


def test_setting_grad_copies_so_backward_never_writes_into_the_callers_array():
    a, b = make(seed=1), make(seed=2)
    x, dy = np.ones((2, 4)), np.full((2, 3), 0.5)
    a.forward(x)
    a.backward(dy)
    b.weight.grad = a.weight.grad
    own = np.ones((3, 4))
    a.bias.grad = np.ones(3)
    for net in (a, b):
        net.zero_grad(set_to_none=False)  # zeros, which backward then adds into
        net.forward(x)
        net.backward(2 * dy if net is b else dy)
    np.testing.assert_allclose(a.weight.grad, dy.T @ x)  # b's backward did not write into it
    np.testing.assert_allclose(b.weight.grad, 2 * dy.T @ x)
    lin = make()
    lin.weight.grad = own
    lin.zero_grad(set_to_none=False)
    lin.forward(x)
    lin.backward(dy)
    np.testing.assert_array_equal(own, 1.0)


def test_a_custom_initializer_is_called_with_dtype_and_checked_for_shape():
    seen = []

    def ones(shape, rng, dtype):
        seen.append((shape, np.dtype(dtype)))
        return np.ones(shape, dtype=dtype)

    layer = tn.Linear(3, 2, weight_init=ones, bias=False, rng=np.random.default_rng(0), dtype=np.float32)
    assert seen == [((2, 3), np.dtype(np.float32))] and layer.weight.data.dtype == np.float32

    def transposed(shape, rng, dtype):
        return np.ones(shape[::-1], dtype=dtype)

    with pytest.raises(ValueError, match=r"Linear\(3 -> 2\): weight_init returned an array of shape \(3, 2\), "
                                         r"expected \(2, 3\)"):
        tn.Linear(3, 2, weight_init=transposed)
    with pytest.raises(TypeError, match=r"Linear\(3 -> 2\): an initializer must be callable as "
                                        r"init\(shape, rng, dtype\) or a spec string, got 3"):
        tn.Linear(3, 2, weight_init=3)


@pytest.mark.parametrize("kwargs, match", [
    ({"dtype": "foo"}, r"Linear\(4 -> 3\): dtype must be a floating dtype such as numpy.float64, got 'foo'"),
    ({"dtype": np.int32}, r"dtype must be a floating dtype such as numpy.float64, got int32"),
    ({"bias": "False"}, r"Linear\(4 -> 3\): bias must be True or False, got 'False'"),
])
def test_bad_options_are_type_errors(kwargs, match):
    with pytest.raises(TypeError, match=match):
        tn.Linear(4, 3, **kwargs)
