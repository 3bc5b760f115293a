import inspect
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet import init

SHAPE = (400, 600)  # fan_in 600, fan_out 400
N = SHAPE[0] * SHAPE[1]


def rng(seed=0):
    return np.random.default_rng(seed)


def truncated_moments(mean, std, a, b):
    """Reference mean and variance of N(mean, std**2) cut to [a, b], by quadrature."""
    x = np.linspace(a, b, 200_001)
    density = np.exp(-0.5 * ((x - mean) / std) ** 2)
    mass = np.trapezoid(density, x)
    m = np.trapezoid(x * density, x) / mass
    return m, np.trapezoid((x - m) ** 2 * density, x) / mass


RANDOM_INITS = [
    init.Normal(mean=0.5, std=2.0),
    init.Uniform(low=-1.0, high=3.0),
    init.TruncatedNormal(),
    init.TruncatedNormal(mean=0.3, std=1.5, a=-1.0, b=4.0),
    init.XavierUniform(),
    init.XavierNormal(gain=2.0),
    init.HeNormal(),
    init.HeUniform(negative_slope=0.2),
    init.HeNormal(mode="fan_out"),
    init.LeCunNormal(),
    init.LeCunUniform(),
    init.VarianceScaling(),
    init.VarianceScaling(2.0, "fan_avg", "normal"),
    init.VarianceScaling(0.5, "fan_out", "uniform"),
    init.Orthogonal(gain=1.5),
]
# a large QR can stall for seconds when the BLAS threads compete for a busy CPU
SMALL = {"Orthogonal": [(80, 120), (120, 80)]}


# ---------------------------------------------------------------- moments

@pytest.mark.parametrize("initializer", RANDOM_INITS, ids=repr)
def test_empirical_mean_and_variance_match_the_formula(initializer):
    for shape in SMALL.get(type(initializer).__name__, [SHAPE, (600, 400)]):
        w = initializer(shape, rng())
        mean, var = initializer.mean, initializer.variance(shape)
        # standard errors of the sample mean and sample variance; kurtosis <= 3 for all of these
        se_mean, se_var = math.sqrt(var / w.size), var * math.sqrt(2 / w.size)
        assert abs(w.mean() - mean) < 5 * se_mean
        assert abs(w.var() - var) < 5 * se_var


@pytest.mark.parametrize("initializer, expected", [
    (init.Normal(std=0.1), 0.01),
    (init.Uniform(low=-1.0, high=3.0), 16 / 12),
    (init.Constant(3.0), 0.0),
    (init.TruncatedNormal(), 0.87962566103423978 ** 2),
    (init.XavierUniform(), 2 / (600 + 400)),
    (init.XavierNormal(gain=2.0), 4 * 2 / (600 + 400)),
    (init.HeNormal(), 2 / 600),
    (init.HeUniform(mode="fan_out"), 2 / 400),
    (init.HeNormal(negative_slope=0.2), 2 / (1 + 0.2 ** 2) / 600),
    (init.HeNormal(nonlinearity="tanh"), (5 / 3) ** 2 / 600),
    (init.LeCunNormal(), 1 / 600),
    (init.LeCunUniform(), 1 / 600),
    (init.VarianceScaling(2.0, "fan_avg", "uniform"), 2 / 500),
    (init.VarianceScaling(3.0, "fan_out"), 3 / 400),
    (init.Orthogonal(gain=2.0), 4 / 600),
], ids=repr)
def test_variance_formula_values(initializer, expected):
    assert initializer.variance(SHAPE) == pytest.approx(expected, rel=1e-12)
    assert initializer.std(SHAPE) == pytest.approx(math.sqrt(expected), rel=1e-12)


def test_fans_of_conv_shapes_follow_pytorch():
    assert init.compute_fans((64, 32, 3, 3)) == (32 * 9, 64 * 9)
    assert init.compute_fans((7, 5)) == (5, 7)
    assert init.XavierUniform().variance((64, 32, 3, 3)) == pytest.approx(2 / (288 + 576))
    assert init.Orthogonal().variance((8, 4, 3, 3)) == pytest.approx(1 / 36)
    assert init.Orthogonal().variance((100, 4, 3)) == pytest.approx(1 / 100)


def test_truncated_normal_moments_match_quadrature():
    for args in [(0.0, 1.0, -2.0, 2.0), (0.3, 1.5, -1.0, 4.0), (0.0, 1.0, 2.5, 3.5)]:
        t = init.TruncatedNormal(**dict(zip(("mean", "std", "a", "b"), args)))
        mean, var = truncated_moments(*args)
        assert t.mean == pytest.approx(mean, rel=1e-8, abs=1e-10)
        assert t.variance() == pytest.approx(var, rel=1e-8)


def test_truncated_normal_far_in_a_tail_still_samples_inside_the_cutoffs():
    t = init.TruncatedNormal(std=1.0, a=4.0, b=4.5)
    w = t((200, 200), rng())
    assert w.min() >= 4.0 and w.max() <= 4.5
    assert abs(w.mean() - t.mean) < 5 * t.std() / 200


@pytest.mark.parametrize("initializer", RANDOM_INITS, ids=repr)
def test_empirical_kurtosis_matches_the_formula(initializer):
    if initializer.orthogonal:  # many small matrices: the kurtosis 3 n / (n + 2) is far from 3 at n = 6
        shape = (4, 6)
        w = np.concatenate([initializer(shape, rng(seed)).ravel() for seed in range(8000)])
    else:
        shape = SHAPE
        w = initializer(shape, rng()).ravel()
    centred = w - initializer.mean
    kurtosis = np.mean(centred ** 4) / np.mean(centred ** 2) ** 2
    # E[w**8] / sigma**8 is at most 105 (a normal's) for all of these
    assert abs(kurtosis - initializer.kurtosis(shape)) < 5 * math.sqrt(105 / w.size)


def test_kurtosis_tells_the_distributions_apart():
    assert init.Normal(std=0.1).kurtosis() == 3.0 and init.Uniform(low=-1.0, high=1.0).kurtosis() == 1.8
    assert init.XavierUniform().kurtosis((3, 4)) == 1.8 and init.HeNormal().kurtosis((3, 4)) == 3.0
    assert init.TruncatedNormal().kurtosis() == pytest.approx(init.VarianceScaling().kurtosis((3, 4)))
    assert init.TruncatedNormal().kurtosis() < 2.4
    assert init.Orthogonal().kurtosis((3, 5)) == pytest.approx(15 / 7)
    assert math.isnan(init.Constant(2.0).kurtosis())


def test_only_orthogonal_initializers_say_they_are_orthogonal():
    assert [i.orthogonal for i in RANDOM_INITS].count(True) == 1 and init.Orthogonal().orthogonal


def test_shape_free_initializers_need_no_shape_for_their_moments():
    assert init.Normal(mean=1.0, std=0.5).std() == 0.5 and init.Normal(mean=1.0, std=0.5).mean == 1.0
    assert init.Uniform(low=-1.0, high=3.0).mean == 1.0
    assert init.Ones().mean == 1.0 and init.Zeros().variance() == 0.0


def test_orthogonal_entries_square_sum_exactly_to_its_variance():
    o = init.Orthogonal(gain=0.7)
    w = o((30, 50), rng())
    assert np.mean(w ** 2) == pytest.approx(o.variance((30, 50)), rel=1e-12)


# ---------------------------------------------------------------- bounds and structure

@pytest.mark.parametrize("initializer, bound", [
    (init.Uniform(low=-0.3, high=0.3), 0.3),
    (init.XavierUniform(), math.sqrt(6 / 1000)),
    (init.XavierUniform(gain=3.0), 3 * math.sqrt(6 / 1000)),
    (init.HeUniform(), math.sqrt(2) * math.sqrt(3 / 600)),
    (init.LeCunUniform(), math.sqrt(3 / 600)),
    (init.VarianceScaling(), 2 * math.sqrt(1 / 600) / 0.87962566103423978),
], ids=repr)
def test_bounded_initializers_respect_and_reach_their_bound(initializer, bound):
    w = np.abs(initializer(SHAPE, rng()))
    assert w.max() <= bound
    assert w.max() > 0.99 * bound  # the bound is the real one, not a loose one


def test_uniform_and_truncated_normal_stay_in_their_interval():
    u = init.Uniform(low=0.2, high=0.5)(SHAPE, rng())
    assert u.min() >= 0.2 and u.max() < 0.5
    t = init.TruncatedNormal(mean=0.3, std=1.5, a=-1.0, b=4.0)(SHAPE, rng())
    assert t.min() >= -1.0 and t.max() <= 4.0


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (40, 40)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, gain):
    w = init.Orthogonal(gain)(shape, rng()) / gain
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)


def test_orthogonal_flattens_trailing_dimensions():
    w = init.Orthogonal()((8, 4, 3, 3), rng())
    assert w.shape == (8, 4, 3, 3)
    flat = w.reshape(8, -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(8), atol=1e-12)


def test_orthogonal_sign_correction_makes_entries_symmetric():
    # without fixing the signs of diag(R), QR makes the diagonal of Q mostly positive
    diagonals = np.array([np.diag(init.Orthogonal()((4, 4), rng(s))) for s in range(400)])
    assert abs(np.mean(diagonals > 0) - 0.5) < 5 * math.sqrt(0.25 / diagonals.size)


def test_constant_zeros_ones_fill_every_entry():
    assert np.all(init.Constant(0.5)((3, 4), rng()) == 0.5)
    assert np.all(init.Zeros()((3, 4), rng()) == 0.0)
    assert np.all(init.Ones()(7, rng()) == 1.0)


# ---------------------------------------------------------------- randomness

ALL_INITS = RANDOM_INITS + [init.Constant(0.5), init.Zeros(), init.Ones()]


@pytest.mark.parametrize("initializer", RANDOM_INITS, ids=repr)
def test_same_seed_same_weights_different_seed_different_weights(initializer):
    a, b, c = (initializer((20, 30), rng(seed)) for seed in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_global_numpy_random_state_is_untouched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = [i((10, 10), rng(5)) for i in ALL_INITS]
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.random.seed(999)
    for i, w in zip(ALL_INITS, first):
        np.testing.assert_array_equal(i((10, 10), rng(5)), w)


@pytest.mark.parametrize("bad", [None, 42, np.random.RandomState(0)], ids=repr)
def test_rng_must_be_a_generator(bad):
    message = rf"Normal: rng must be a numpy.random.Generator.*got .*{type(bad).__name__}"
    with pytest.raises(TypeError, match=message):
        init.Normal()((2, 2), bad)


# ---------------------------------------------------------------- fill_ (in place)

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("initializer", ALL_INITS + [init.Normal(std=0.8)], ids=repr)
def test_fill_draws_in_place_what_a_call_returns(initializer, dtype):
    shape = (12, 8)
    array = np.full(shape, np.nan, dtype=dtype)
    assert initializer.fill_(array, rng(3)) is array
    np.testing.assert_array_equal(array, initializer(shape, rng(3), dtype=dtype))
    generator = rng(4)
    initializer.fill_(array, generator)  # and the stream goes on as after a call
    twin = rng(4)
    initializer(shape, twin, dtype=dtype)
    np.testing.assert_array_equal(generator.random(3), twin.random(3))


def test_fill_of_a_strided_view_draws_in_the_views_order():
    base = np.zeros((8, 6))
    view = base.T  # not C-contiguous: no direct draw
    init.Normal(std=2.0).fill_(view, rng(5))
    np.testing.assert_array_equal(view, init.Normal(std=2.0)((6, 8), rng(5)))


def test_fill_of_a_subclass_that_draws_otherwise_goes_through_its_draw():
    class Clipped(init.Normal):
        def _sample(self, shape, rng):
            return np.clip(super()._sample(shape, rng), -0.5, 0.5)

    array = np.zeros((30, 30))
    Clipped(std=2.0).fill_(array, rng(6))
    np.testing.assert_array_equal(array, Clipped(std=2.0)((30, 30), rng(6)))
    assert np.abs(array).max() == 0.5


def test_fill_of_an_unaligned_array_draws_what_a_call_returns():
    raw = np.zeros(10 * 8 + 1, dtype=np.uint8)
    array = raw[1:].view(np.float64)  # one byte off: not aligned for float64
    assert not array.flags.aligned
    init.Normal().fill_(array, rng(7))
    np.testing.assert_array_equal(array, init.Normal()((10,), rng(7)))


def test_fill_refuses_what_it_cannot_write_and_changes_nothing():
    normal = init.Normal()
    with pytest.raises(TypeError, match=r"Normal.fill_: expected a floating-point numpy array, got .*int64"):
        normal.fill_(np.zeros((2, 2), dtype=np.int64), rng())
    with pytest.raises(TypeError, match=r"Normal.fill_: expected a floating-point numpy array, got .*list"):
        normal.fill_([[0.0]], rng())
    frozen = np.zeros((2, 2))
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="Normal.fill_: the array is read-only"):
        normal.fill_(frozen, rng())
    array = np.zeros((2, 2))
    with pytest.raises(TypeError, match="Normal: rng must be a numpy.random.Generator"):
        normal.fill_(array, 0)

    class Row(init.Initializer):  # returns one row, which would broadcast into the array
        def _sample(self, shape, rng):
            return rng.standard_normal(shape[-1])

    with pytest.raises(ValueError, match=r"Row: returned an array of shape \(2,\), expected \(2, 2\)"):
        Row().fill_(array, rng())
    np.testing.assert_array_equal(array, 0.0)
    with pytest.raises(ValueError, match=r"Normal: shape entries must be positive, got \(0, 3\)"):
        normal.fill_(np.zeros((0, 3)), rng())  # as a call says


# ---------------------------------------------------------------- dtype

@pytest.mark.parametrize("initializer", ALL_INITS, ids=repr)
def test_dtype_is_honoured_and_the_draws_do_not_depend_on_it(initializer):
    w64 = initializer((6, 9), rng())
    w32 = initializer((6, 9), rng(), dtype=np.float32)
    assert w64.dtype == np.float64 and w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_non_float_dtype_is_rejected():
    with pytest.raises(TypeError, match="Normal: dtype must be a floating-point type, got int64"):
        init.Normal()((2, 2), rng(), dtype=np.int64)


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
       index=st.integers(0, len(ALL_INITS) - 1),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]))
def test_any_small_shape_gives_that_shape_and_dtype(shape, index, dtype):
    w = ALL_INITS[index](shape, rng(), dtype=dtype)
    assert w.shape == shape and w.dtype == dtype
    assert np.all(np.isfinite(w))


def test_shape_free_initializers_accept_0d_and_1d_shapes():
    for i in (init.Normal(), init.Uniform(), init.TruncatedNormal(), init.Constant(2.0)):
        assert i((), rng()).shape == ()
        assert i(5, rng()).shape == (5,)


# ---------------------------------------------------------------- calculate_gain

@pytest.mark.parametrize("name, param, expected", [
    ("linear", None, 1.0),
    ("identity", None, 1.0),
    ("conv2d", None, 1.0),
    ("conv_transpose3d", None, 1.0),
    ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / (1 + 0.2 ** 2))),
    ("leaky_relu", 0, math.sqrt(2)),
    ("selu", None, 0.75),
])
def test_calculate_gain_values(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match=r"unsupported nonlinearity 'swish'; expected one of 'linear'.*'selu'"):
        init.calculate_gain("swish")
    for bad in ("0.2", True, float("nan")):
        with pytest.raises(ValueError, match="negative_slope must be a number"):
            init.calculate_gain("leaky_relu", bad)


def test_he_uses_the_leaky_relu_gain_and_the_chosen_fan():
    fan_in, fan_out = 600, 400
    assert init.HeNormal(0.2).variance(SHAPE) == pytest.approx(init.calculate_gain("leaky_relu", 0.2) ** 2 / fan_in)
    assert init.HeNormal(0.2).get_config()["nonlinearity"] == "leaky_relu"
    assert init.HeNormal(mode="fan_out").variance(SHAPE) == pytest.approx(2 / fan_out)
    w = init.HeNormal(mode="fan_out")(SHAPE, rng())
    assert abs(w.var() - 2 / fan_out) < 5 * (2 / fan_out) * math.sqrt(2 / N)


# ---------------------------------------------------------------- specs and configs

@pytest.mark.parametrize("spec, expected", [
    ("normal", init.Normal()),
    ("normal:0.1", init.Normal(std=0.1)),
    ("normal:1,0.1", init.Normal(mean=1.0, std=0.1)),
    ("uniform", init.Uniform(low=0.0, high=1.0)),
    ("uniform:0.1", init.Uniform(low=-0.1, high=0.1)),
    ("uniform:-0.1,0.3", init.Uniform(low=-0.1, high=0.3)),
    ("truncated_normal", init.TruncatedNormal()),
    ("truncated_normal:0.1", init.TruncatedNormal(std=0.1, a=-0.2, b=0.2)),
    ("truncated_normal:1,0.1", init.TruncatedNormal(mean=1.0, std=0.1, a=0.8, b=1.2)),
    ("truncated_normal:0,1,-1,3", init.TruncatedNormal(std=1.0, a=-1.0, b=3.0)),
    ("constant:0.5", init.Constant(0.5)),
    ("zeros", init.Zeros()),
    ("ones", init.Ones()),
    ("xavier_uniform", init.XavierUniform()),
    ("xavier_uniform:2", init.XavierUniform(2.0)),
    ("glorot_normal:0.5", init.XavierNormal(0.5)),
    ("xavier_normal", init.XavierNormal()),
    ("he_normal", init.HeNormal()),
    ("he_uniform", init.HeUniform()),
    ("he_normal:0.2", init.HeNormal(0.2, nonlinearity="leaky_relu")),
    ("kaiming_uniform:0,fan_out", init.HeUniform(mode="fan_out")),
    ("kaiming_normal:0,fan_in,tanh", init.HeNormal(nonlinearity="tanh")),
    ("lecun_normal", init.LeCunNormal()),
    ("lecun_uniform", init.LeCunUniform()),
    ("orthogonal", init.Orthogonal()),
    ("orthogonal:1.5", init.Orthogonal(1.5)),
    ("variance_scaling", init.VarianceScaling()),
    ("variance_scaling:2,fan_avg,uniform", init.VarianceScaling(2.0, "fan_avg", "uniform")),
    (" Normal : 0.1 ", init.Normal(std=0.1)),
])
def test_from_spec_parses_each_form(spec, expected):
    assert init.from_spec(spec) == expected


ROUND_TRIP = ALL_INITS + [
    init.Normal(), init.Normal(mean=-0.0, std=1.0), init.Uniform(), init.Uniform(low=-0.25, high=0.25),
    init.TruncatedNormal(std=0.1, a=-0.2, b=0.2), init.TruncatedNormal(mean=1.0, std=0.1, a=0.8, b=1.2),
    init.XavierUniform(1e-3), init.HeNormal(0.0, "fan_in", "leaky_relu"),
    init.HeUniform(-0.1, "fan_out"), init.HeNormal(nonlinearity="selu"),
    init.VarianceScaling(1.0, "fan_out", "truncated_normal"), init.Orthogonal(0.1 + 0.2),
]


@pytest.mark.parametrize("initializer", ROUND_TRIP, ids=repr)
def test_spec_and_config_round_trip(initializer):
    spec = initializer.to_spec()
    assert spec.split(":")[0] == initializer.name
    assert init.from_spec(spec) == initializer
    config = json.loads(json.dumps(initializer.get_config()))
    rebuilt = init.from_config(initializer.name, config)
    assert rebuilt == initializer and hash(rebuilt) == hash(initializer)
    assert repr(rebuilt) == repr(initializer)


def test_default_specs_are_bare_names():
    assert init.Normal().to_spec() == "normal"
    assert init.HeNormal().to_spec() == "he_normal"
    assert init.HeNormal(0.2).to_spec() == "he_normal:0.2"
    assert init.Uniform(low=-0.1, high=0.1).to_spec() == "uniform:0.1"


def test_equality_compares_class_and_config():
    assert init.Normal(std=1.0) == init.Normal(mean=0, std=1)
    assert init.Normal(std=1.0) != init.Normal(std=2.0)
    assert init.XavierUniform() != init.VarianceScaling(1.0, "fan_avg", "uniform")
    assert init.Zeros() != init.Constant(0.0)


def test_reprs():
    assert repr(init.Normal(std=0.1)) == "Normal(mean=0.0, std=0.1)"
    assert repr(init.XavierUniform()) == "XavierUniform(gain=1.0)"
    assert repr(init.Zeros()) == "Zeros()"
    assert repr(init.HeNormal()) == "HeNormal(negative_slope=0.0, mode='fan_in', nonlinearity='relu')"


def test_from_spec_rejects_unknown_names_listing_known_ones():
    with pytest.raises(ValueError, match=r"unknown initializer 'gaussian'; known: .*he_normal.*xavier_uniform"):
        init.from_spec("gaussian:0.1")
    with pytest.raises(ValueError, match=r"from_config: unknown initializer 'nope'; known: constant"):
        init.from_config("nope", {})


@pytest.mark.parametrize("spec, message", [
    ("normal:abc", r"bad initializer spec 'normal:abc': Normal: std must be a number, got 'abc'"),
    ("normal:", r"bad initializer spec 'normal:': Normal: std must be a number, got ''"),
    ("normal:-1", r"'normal:-1': Normal: std must be >= 0, got -1"),
    ("normal:1,2,3", r"'normal:1,2,3': normal takes STD or MEAN,STD, got 3 argument"),
    ("uniform:0", r"'uniform:0': Uniform: BOUND must be > 0, got 0"),
    ("uniform:1,1", r"Uniform: low must be < high, got low=1.0, high=1.0"),
    ("truncated_normal:0,1,2", r"truncated_normal takes STD, MEAN,STD or MEAN,STD,A,B, got 3"),
    ("constant", r"'constant': .*missing 1 required positional argument: 'value'"),
    ("zeros:1", r"'zeros:1': zeros takes no arguments, got 1"),
    ("orthogonal:1,2", r"orthogonal takes at most 1 argument\(s\) \(GAIN\), got 2"),
    ("xavier_uniform:nan", r"XavierUniform: gain must be finite, got nan"),
    ("variance_scaling:1,fan_everything", r"VarianceScaling: mode must be one of 'fan_in', 'fan_out', 'fan_avg'"),
])
def test_from_spec_rejects_bad_arguments(spec, message):
    with pytest.raises(ValueError, match=message):
        init.from_spec(spec)


@pytest.mark.parametrize("make, message", [
    (lambda: init.Normal(0.1),
     r"^Normal: give mean and std by name, e.g. Normal\(std=0.1\); the text form 'normal:0.1' is std 0.1$"),
    (lambda: init.Normal(0.0, 0.1), r"^Normal: give mean and std by name"),
    (lambda: init.Normal(0.1, std=1.0), r"^Normal: give mean and std by name"),
    (lambda: init.Uniform(0.5),
     r"^Uniform: give low and high by name, e.g. Uniform\(low=-0.5, high=0.5\); "
     r"the text form 'uniform:0.5' is U\(-0.5, 0.5\)$"),
    (lambda: init.Uniform(-0.5, 0.5), r"^Uniform: give low and high by name"),
    (lambda: init.TruncatedNormal(0.1),
     r"^TruncatedNormal: give mean, std, a and b by name, .*'truncated_normal:0.1' is std 0.1$"),
], ids=["normal", "normal-two", "normal-mixed", "uniform", "uniform-two", "truncated"])
def test_positional_arguments_are_refused_where_the_text_form_reads_them_differently(make, message):
    # Normal(0.1) would be mean 0.1, std 1, while "normal:0.1" is std 0.1
    with pytest.raises(TypeError, match=message):
        make()


@pytest.mark.parametrize("cls", [init.Normal, init.Uniform, init.TruncatedNormal])
def test_signatures_show_keyword_only_parameters(cls):
    params = inspect.signature(cls).parameters.values()
    assert params and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)


def test_a_lone_spec_number_and_the_keyword_agree():
    assert init.from_spec("normal:0.1") == init.Normal(std=0.1)
    assert init.from_spec("uniform:0.5") == init.Uniform(low=-0.5, high=0.5)
    assert init.from_spec("truncated_normal:0.1") == init.TruncatedNormal(std=0.1, a=-0.2, b=0.2)


def test_from_spec_needs_a_string():
    with pytest.raises(TypeError, match="from_spec: spec must be a string, got 0.1"):
        init.from_spec(0.1)


# ---------------------------------------------------------------- constructor and shape errors

@pytest.mark.parametrize("make, error, message", [
    (lambda: init.Normal(std=-1), ValueError, r"^Normal: std must be >= 0, got -1$"),
    (lambda: init.Normal(mean=float("inf")), ValueError, r"^Normal: mean must be finite, got inf$"),
    (lambda: init.Normal(std="0.1"), TypeError, r"^Normal: std must be a number, got '0.1'$"),
    (lambda: init.Normal(std=True), TypeError, r"^Normal: std must be a number, got True$"),
    (lambda: init.Uniform(low=1.0, high=-1.0), ValueError, r"^Uniform: low must be < high, got low=1.0, high=-1.0$"),
    (lambda: init.TruncatedNormal(a=2, b=-2), ValueError, r"^TruncatedNormal: a must be < b, got a=2.0, b=-2.0$"),
    (lambda: init.TruncatedNormal(std=0), ValueError, r"^TruncatedNormal: std must be > 0, got 0$"),
    (lambda: init.TruncatedNormal(std=1.0, a=40.0, b=400.0), ValueError, r"TruncatedNormal: .* too far in the tail"),
    (lambda: init.VarianceScaling(scale=0), ValueError, r"^VarianceScaling: scale must be > 0, got 0$"),
    (lambda: init.VarianceScaling(mode="fan"), ValueError,
     r"^VarianceScaling: mode must be one of 'fan_in', 'fan_out', 'fan_avg', got 'fan'$"),
    (lambda: init.VarianceScaling(distribution="gamma"), ValueError,
     r"^VarianceScaling: distribution must be one of 'truncated_normal', 'untruncated_normal', 'uniform', got 'gamma'$"),
    (lambda: init.HeNormal(mode="fan_avg"), ValueError,
     r"^HeNormal: mode must be one of 'fan_in', 'fan_out', got 'fan_avg'$"),
    (lambda: init.HeUniform(nonlinearity="swish"), ValueError,
     r"^HeUniform: nonlinearity must be one of 'linear'.*'selu', got 'swish'$"),
    (lambda: init.HeNormal(0.2, nonlinearity="relu"), ValueError,
     r"^HeNormal: negative_slope=0.2 only applies to nonlinearity='leaky_relu', got nonlinearity='relu'$"),
    (lambda: init.XavierUniform(gain=0), ValueError, r"^XavierUniform: gain must be > 0, got 0$"),
    (lambda: init.XavierNormal(gain=-1), ValueError, r"^XavierNormal: gain must be > 0, got -1$"),
    (lambda: init.Orthogonal(gain=-2.0), ValueError, r"^Orthogonal: gain must be > 0, got -2.0$"),
    (lambda: init.Constant(float("nan")), ValueError, r"^Constant: value must be finite, got nan$"),
], ids=lambda x: "" if callable(x) or isinstance(x, type) else x[:40])
def test_constructor_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


FAN_INITS = [init.XavierUniform(), init.XavierNormal(), init.HeNormal(), init.HeUniform(),
             init.LeCunNormal(), init.LeCunUniform(), init.Orthogonal()]


@pytest.mark.parametrize("initializer", FAN_INITS, ids=repr)
@pytest.mark.parametrize("shape, shown", [((5,), r"\(5,\)"), (5, r"\(5,\)"), ((), r"\(\)")])
def test_fan_initializers_need_two_dimensions(initializer, shape, shown):
    name = type(initializer).__name__
    message = rf"^{name}: fan_in and fan_out need a shape with at least 2 dimensions, got {shown}$"
    with pytest.raises(ValueError, match=message):
        initializer(shape, rng())
    with pytest.raises(ValueError, match=message):
        initializer.variance(shape)
    with pytest.raises(TypeError, match=rf"^{name}: the variance depends on the weight shape"):
        initializer.variance()


@pytest.mark.parametrize("initializer", [init.Normal(), init.XavierUniform(), init.Zeros()], ids=repr)
def test_bad_shapes_are_rejected(initializer):
    name = type(initializer).__name__
    with pytest.raises(ValueError, match=rf"^{name}: shape entries must be positive, got \(3, 0\)$"):
        initializer((3, 0), rng())
    with pytest.raises(ValueError, match=r"shape entries must be positive, got \(-2, 4\)"):
        initializer((-2, 4), rng())
    with pytest.raises(TypeError, match=rf"^{name}: shape must contain only ints, got \(3, 2.5\)$"):
        initializer((3, 2.5), rng())
    with pytest.raises(TypeError, match=rf"^{name}: shape must be an int or a sequence of ints, got 2.5$"):
        initializer(2.5, rng())


def test_compute_fans_errors():
    with pytest.raises(ValueError, match=r"compute_fans: fan_in and fan_out need .* got \(3,\)"):
        init.compute_fans((3,))
