import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynet as tn

ALL = tn.available_activations()
SMOOTH_AWAY_FROM_ZERO = ALL  # kinks (relu, leaky_relu, elu at 0) are avoided by the inputs


def away_from_zero(shape, seed=0):
    """Inputs with |x| >= 0.1, so no finite difference straddles a kink."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 3.0, size=shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (7, 5)])
def test_gradcheck_every_activation(name, shape):
    report = tn.gradcheck(tn.activation(name), away_from_zero(shape))
    assert report.passed, f"{name}\n{report}"


@pytest.mark.parametrize("name", ALL)
def test_derivative_matches_finite_difference_of_fn(name):
    act = tn.activation(name)
    z = away_from_zero((200,), seed=1)
    h = 1e-6
    numeric = (act.fn(z + h) - act.fn(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-6, atol=1e-9)


def test_known_values():
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(tn.ReLU().fn(z), [0, 0, 3])
    np.testing.assert_allclose(tn.LeakyReLU(0.1).fn(z), [-0.2, 0, 3])
    np.testing.assert_allclose(tn.Sigmoid().fn(np.array([0.0])), [0.5])
    np.testing.assert_allclose(tn.ScaledSigmoid().fn(np.array([0.0])), [0.0])
    np.testing.assert_allclose(tn.ScaledSigmoid().derivative(np.array([0.0])), [1.0])
    np.testing.assert_allclose(tn.ELU(2.0).fn(np.array([-1.0])), [2.0 * np.expm1(-1.0)])
    # GELU(1) = Phi(1) = 0.8413447460685429 (the exact erf form, not the tanh approximation)
    np.testing.assert_allclose(tn.GELU().fn(np.array([1.0])), [0.8413447460685429], rtol=1e-12)
    np.testing.assert_allclose(tn.Softplus().fn(np.array([0.0])), [np.log(2.0)])
    np.testing.assert_allclose(tn.SiLU().fn(np.array([1.0])), [1.0 / (1.0 + np.exp(-1.0))])
    selu = tn.SELU()
    np.testing.assert_allclose(selu.fn(np.array([1.0])), [1.0507009873554805])


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "tanh", "scaled_sigmoid", "silu", "elu", "selu", "gelu"])
def test_no_overflow_or_warning_at_large_inputs(name):
    act = tn.activation(name)
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, d = act.fn(z), act.derivative(z)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(d))


def test_sigmoid_and_softplus_tails_are_accurate():
    s = tn.Sigmoid()
    assert s.fn(np.array([-1000.0]))[0] == 0.0
    assert s.fn(np.array([1000.0]))[0] == 1.0
    # derivative keeps its true size where 1 - sigmoid would round to 0
    np.testing.assert_allclose(s.derivative(np.array([40.0])), [np.exp(-40.0)], rtol=1e-12)
    np.testing.assert_allclose(tn.Tanh().derivative(np.array([30.0])), [4 * np.exp(-60.0)], rtol=1e-12)
    sp = tn.Softplus()
    np.testing.assert_allclose(sp.fn(np.array([1000.0, -1000.0])), [1000.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", ALL)
def test_dtype_and_shape_are_kept(name, dtype):
    act = tn.activation(name)
    x = away_from_zero((3, 4)).astype(dtype)
    y = act.forward(x)
    dx = act.backward(np.ones_like(y))
    for out in (y, dx, act.fn(x)):
        assert out.dtype == dtype and out.shape == x.shape
    d = act.derivative(x)  # floats of x's dtype, or a boolean mask (ReLU's)
    assert d.dtype in (dtype, bool) and d.shape == x.shape


def test_a_boolean_mask_derivative_gives_dy_times_it_in_dy_dtype():
    hardtanh = tn.Activation(lambda z: np.clip(z, -1.0, 1.0), lambda z: np.abs(z) < 1, name="hardtanh")
    x = np.array([[-2.0, -0.5, 0.3, 1.5]])
    assert tn.gradcheck(hardtanh, x).passed
    hardtanh.forward(x.astype(np.float32))
    dx = hardtanh.backward(np.full((1, 4), 3.0, dtype=np.float32))
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx, [[0.0, 3.0, 3.0, 0.0]])
    relu = tn.ReLU()
    assert relu.derivative(x).dtype == bool
    relu.forward(x)
    np.testing.assert_array_equal(relu.backward(np.full((1, 4), 2.0)), [[0.0, 0.0, 2.0, 2.0]])


def test_a_derivative_wider_than_the_input_keeps_dy_dtype():
    # a one-line activation whose derivative comes out in float64 for float32 input
    wide = tn.Activation(np.sin, lambda z: np.cos(z.astype(np.float64)), name="wide_sine")
    x = away_from_zero((2, 3)).astype(np.float32)
    wide.forward(x)
    dx = wide.backward(np.ones_like(x))
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx, np.cos(x), rtol=1e-6)


def test_a_subclass_that_redefines_fn_is_computed_from_it():
    class LeakyByHand(tn.ReLU):
        def fn(self, z):
            return np.where(z > 0, z, 0.1 * z)

        def derivative(self, z):
            return np.where(z > 0, 1.0, 0.1)

    class Doubled(tn.Identity):
        def fn(self, z):
            return 2 * z

        def derivative(self, z):
            return np.full_like(z, 2.0)

    x = np.array([[-2.0, 3.0]])
    leaky = LeakyByHand()
    np.testing.assert_array_equal(leaky.forward(x), [[-0.2, 3.0]])
    np.testing.assert_array_equal(leaky.backward(np.ones((1, 2))), [[0.1, 1.0]])
    doubled = Doubled()
    np.testing.assert_array_equal(doubled.forward(x), [[-4.0, 6.0]])
    np.testing.assert_array_equal(doubled.backward(np.ones((1, 2))), [[2.0, 2.0]])
    assert tn.gradcheck(doubled, x).passed


def test_settings_are_checked_and_named():
    with pytest.raises(TypeError, match=r"ReLU: takes no fn, derivative or name \(got 0.1\)"):
        tn.ReLU(0.1)
    with pytest.raises(TypeError, match=r"Tanh: takes no fn, derivative or name"):
        tn.Tanh(np.sin, np.cos)
    with pytest.raises(TypeError, match=r"activation 'relu' takes no settings; got negative_slope"):
        tn.activation("relu", negative_slope=0.1)
    with pytest.raises(TypeError, match=r"activation 'leaky_relu' takes negative_slope; got slope"):
        tn.activation("leaky_relu", slope=0.1)
    with pytest.raises(TypeError, match=r"LeakyReLU: negative_slope must be a number, got 'a'"):
        tn.LeakyReLU("a")
    with pytest.raises(ValueError, match=r"ELU: alpha must be finite, got nan"):
        tn.ELU(float("nan"))
    with pytest.raises(ValueError, match=r"ScaledSigmoid: scale must be finite, got inf"):
        tn.ScaledSigmoid(scale=float("inf"))
    assert tn.activation("leaky_relu", negative_slope=0.2).negative_slope == 0.2


def test_custom_activation_in_one_line():
    sine = tn.Activation(np.sin, np.cos, name="sine")
    x = away_from_zero((3, 4))
    assert sine.name == "sine"
    np.testing.assert_allclose(sine.forward(x), np.sin(x))
    assert tn.gradcheck(sine, x).passed


def test_subclass_with_name_is_registered():
    class Cube(tn.Activation):
        name = "cube_for_test"

        def fn(self, z):
            return z ** 3

        def derivative(self, z):
            return 3 * z ** 2

    try:
        assert isinstance(tn.activation("cube_for_test"), Cube)
        assert tn.gradcheck(Cube(), away_from_zero((2, 3))).passed
    finally:  # the registry is global: leave it as other tests expect it
        tn.architecture._CLASSES.pop("cube_for_test", None)


def test_lookup_by_name_with_parameters():
    act = tn.activation("leaky_relu", negative_slope=0.2)
    assert isinstance(act, tn.LeakyReLU) and act.negative_slope == 0.2
    assert isinstance(tn.activation("scaled_sigmoid"), tn.ScaledSigmoid)


def test_unknown_activation_lists_known_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'relu6'; known: .*relu.*sigmoid"):
        tn.activation("relu6")


def test_activation_needs_both_fn_and_derivative():
    with pytest.raises(TypeError, match="both fn and derivative"):
        tn.Activation(np.sin)
    with pytest.raises(TypeError, match="give fn and derivative"):
        tn.Activation()


def test_names_are_lowercase():
    for name in ALL:
        assert name == name.lower()
        assert tn.activation(name).name == name


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(ALL),
    batch=st.integers(1, 5),
    width=st.integers(1, 6),
    a=st.floats(-3, 3),
    b=st.floats(-3, 3),
)
def test_backward_is_linear_in_dy(name, batch, width, a, b):
    act = tn.activation(name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, width))
    dy1, dy2 = rng.standard_normal((2, batch, width))
    act.forward(x)
    g1 = act.backward(dy1)
    act.forward(x)
    g2 = act.backward(dy2)
    act.forward(x)
    g = act.backward(a * dy1 + b * dy2)
    np.testing.assert_allclose(g, a * g1 + b * g2, atol=1e-10)
    assert g.shape == x.shape


OPTIONS = [tn.Softplus(beta=2.0, threshold=10.0), tn.Softplus(beta=0.5, threshold=3.0),
           tn.Softplus(beta=-1.5, threshold=4.0), tn.GELU(approximate="tanh")]


@pytest.mark.parametrize("act", OPTIONS, ids=repr)
def test_gradcheck_activation_options(act):
    # |x| <= 3 keeps each finite difference on one side of the thresholds (beta x = 10, 1.5, -6)
    report = tn.gradcheck(act, away_from_zero((4, 5), seed=2))
    assert report.passed, f"{act!r}\n{report}"


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
@pytest.mark.parametrize("act", OPTIONS, ids=repr)
def test_activation_options_are_warning_free_at_the_extremes(act, dtype):
    info = np.finfo(dtype)
    x = np.array([info.max, -info.max, info.tiny, 0.0, 1.0, -1.0, 700.0, -700.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = act.forward(x)
        dx = act.backward(np.ones_like(y))
        # nan and inf give IEEE's answers, without a warning
        act.forward(np.array([np.nan, np.inf, -np.inf], dtype=dtype))
        act.backward(np.ones(3, dtype))
    assert y.dtype == dx.dtype == dtype
    assert not np.isnan(y).any() and np.isfinite(dx).all()


def test_softplus_is_linear_past_the_threshold_and_gelu_tanh_differs_from_erf():
    sp = tn.Softplus(beta=2.0, threshold=10.0)
    # beta x = 10.2 > 10: the input itself, slope 1; beta x = 9.8: log(1 + e^9.8) / 2
    np.testing.assert_array_equal(sp.fn(np.array([5.1])), [5.1])
    np.testing.assert_array_equal(sp.derivative(np.array([5.1])), [1.0])
    np.testing.assert_allclose(sp.fn(np.array([4.9])), [np.log1p(np.exp(9.8)) / 2], rtol=1e-15)
    x = np.array([1.0])
    tanh_form = 0.5 * (1 + np.tanh(np.sqrt(2 / np.pi) * (1 + 0.044715)))
    np.testing.assert_allclose(tn.GELU(approximate="tanh").fn(x), [tanh_form], rtol=1e-15)
    assert abs(tn.GELU().fn(x)[0] - tanh_form) > 1e-4


def test_activation_options_survive_save_and_load(tmp_path):
    net = tn.Sequential(tn.Linear(3, 4, rng=np.random.default_rng(0)), tn.Softplus(beta=2, threshold=10),
                        tn.Linear(4, 2, rng=np.random.default_rng(1)), tn.GELU(approximate="tanh"))
    tn.save(net, tmp_path / "net.npz")
    back = tn.load(tmp_path / "net.npz")
    assert back[1].get_config() == {"beta": 2.0, "threshold": 10.0}
    assert back[3].get_config() == {"approximate": "tanh"}
    x = np.random.default_rng(2).standard_normal((5, 3))
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
    assert repr(tn.activation("softplus", beta=2.0, threshold=10.0)) == "Softplus(beta=2.0, threshold=10.0)"
    assert tn.activation("gelu", approximate="tanh").approximate == "tanh"


@pytest.mark.parametrize("make, error, message", [
    (lambda: tn.Softplus(beta=0), ValueError, "Softplus: beta must be nonzero"),
    (lambda: tn.Softplus(threshold=float("inf")), ValueError, "Softplus: threshold must be finite"),
    (lambda: tn.Softplus(beta="2"), TypeError, "Softplus: beta must be a number, got '2'"),
    (lambda: tn.GELU(approximate="erf"), ValueError,
     "GELU: approximate must be one of 'none', 'tanh', got 'erf'"),
    (lambda: tn.GELU(approximate=True), ValueError, "GELU: approximate must be one of"),
])
def test_activation_options_are_checked(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()
