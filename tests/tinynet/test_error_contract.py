"""The error contract: bad input is a TypeError or ValueError that tinynet raises itself.

First each case a fuzzing pass over the public API once found, then the
fuzzing itself: hypothesis drives constructors, forward and backward, losses,
optimizers, initializers and save/load with random shapes, dtypes and values,
and checks that every error is tinynet's own, that no numeric warning
escapes, and that nothing returns a wrong shape, or a nan from finite input.
"""

import io
import json
import math
import os
import pathlib
import tempfile
import threading
import traceback
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynet as tn

TINYNET = pathlib.Path(tn.__file__).resolve().parent


def raised_by_tinynet(error):
    """True if ``error`` comes from a ``raise`` statement in tinynet, not from numpy or Python."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    inside = pathlib.Path(frame.filename).resolve().is_relative_to(TINYNET)
    return inside and frame.line.startswith("raise")


def obeys_contract(call):
    """``call()``'s result, or None when it raised an error that keeps the contract."""
    try:
        return call()
    except (TypeError, ValueError) as error:
        assert raised_by_tinynet(error), f"{type(error).__name__} from inside: {error}"
        return None


def refused(call, error=(TypeError, ValueError), match=""):
    """Assert that ``call()`` raises ``error`` from tinynet itself, with ``match`` in its message."""
    with pytest.raises(error) as info:
        call()
    assert raised_by_tinynet(info.value), f"raised from inside: {info.value!r}"
    assert match in str(info.value)


def rng(seed=0):
    return np.random.default_rng(seed)


# ---- the cases found --------------------------------------------------------------
def zero_d_then_wrong_dy():
    layer = tn.Tanh()
    layer.forward(np.array(0.5))
    layer.backward(np.ones(3))


def grad_set_to(value):
    def call():
        p = tn.Parameter(np.zeros(2))
        p.grad = value
    return call


CASES = {
    "gradcheck eps=0": (lambda: tn.gradcheck(tn.Linear(2, 2, rng=rng()), np.ones((1, 2)), eps=0),
                        "gradcheck: eps must be > 0, got 0"),
    "gradcheck eps=nan": (lambda: tn.gradcheck(tn.Linear(2, 2, rng=rng()), np.ones((1, 2)),
                                               eps=float("nan")), "gradcheck: eps must be finite"),
    "gradcheck rtol<0": (lambda: tn.gradcheck(tn.Linear(2, 2, rng=rng()), np.ones((1, 2)), rtol=-1),
                         "gradcheck: rtol must be >= 0, got -1"),
    "gradcheck atol text": (lambda: tn.gradcheck(tn.Linear(2, 2, rng=rng()), np.ones((1, 2)),
                                                 atol="1e-8"), "gradcheck: atol must be a number"),
    "gradcheck of a function": (lambda: tn.gradcheck(np.tanh, np.ones((1, 2))),
                                "gradcheck: module must be a tinynet Layer, got ufunc"),
    "ragged train_test_split": (
        lambda: tn.datasets.train_test_split([[1.0, 2.0], [3.0]], [0, 1], rng=rng()),
        "train_test_split: x must be an array, or a list of samples of one shape"),
    "ragged labels": (lambda: tn.datasets.train_test_split(np.ones((2, 2)), [[0], [1, 1]], rng=rng()),
                      "train_test_split: y must be an array"),
    "fit callbacks not a list": (
        lambda: tn.fit(tn.Linear(2, 2), tn.MSELoss(), tn.SGD(tn.Linear(2, 2).parameters(), lr=0.1),
                       np.ones((4, 2)), np.ones((4, 2)), 1, 2, callbacks=object(), progress=False),
        "fit: callbacks must be a list of callback objects (or None), got object"),
    "fit progress text": (
        lambda: tn.fit(tn.Linear(2, 2), tn.MSELoss(), tn.SGD(tn.Linear(2, 2).parameters(), lr=0.1),
                       np.ones((4, 2)), np.ones((4, 2)), 1, 2, progress="False"),
        "fit: progress must be True or False"),
    # the layers' own contract
    "0-d forward, backward of shape (3,)": (zero_d_then_wrong_dy, ""),
    "register_hooks(None)": (lambda: tn.register_hooks(None, forward=lambda *a: None),
                             "register_hooks"),
    'Parameter.grad = "x"': (grad_set_to("x"), "grad"),
    "Parameter.grad complex": (grad_set_to(np.array([1 + 2j, 0])), "grad"),
    'dtype="foo"': (lambda: tn.Linear(2, 2, dtype="foo"), "dtype"),
    'bias="False"': (lambda: tn.Linear(2, 2, bias="False"), "bias must be True or False"),
    'final_activation="False"': (lambda: tn.MLP([2, 2], "relu", final_activation="False"),
                                 "final_activation must be True or False"),
    'nesterov="False"': (lambda: tn.SGD(tn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9,
                                        nesterov="False"), "nesterov must be True or False"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_case_found_is_refused_clearly(case):
    call, message = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning on the way is no refusal
        refused(call, match=message)


def test_an_empty_sequential_on_a_list_is_the_identity_or_refuses():
    net = tn.Sequential()
    y = obeys_contract(lambda: net.forward([[1.0, 2.0]]))
    if y is not None:  # the identity, as torch.nn.Sequential() is
        assert isinstance(y, np.ndarray) and y.tolist() == [[1.0, 2.0]]
        dx = obeys_contract(lambda: net.backward(np.ones((1, 2))))
        assert dx is None or (isinstance(dx, np.ndarray) and dx.tolist() == [[1.0, 1.0]])


def test_fit_takes_callbacks_none_as_none():
    net = tn.Linear(2, 2, rng=rng())
    history = tn.fit(net, tn.MSELoss(), tn.SGD(net.parameters(), lr=0.1), np.ones((4, 2)),
                     np.zeros((4, 2)), epochs=2, batch_size=2, rng=rng(), callbacks=None,
                     progress=False)
    assert len(history.history["loss"]) == 2


def test_gelu_on_longdouble_is_float64_precision_in_longdouble():
    x = np.linspace(-8, 8, 33).reshape(3, 11)
    wide = tn.GELU()
    y = wide.forward(x.astype(np.longdouble))
    dx = wide.backward(np.ones_like(y))
    narrow = tn.GELU()
    assert y.dtype == dx.dtype == np.longdouble
    np.testing.assert_array_equal(y.astype(np.float64), narrow.forward(x))
    np.testing.assert_allclose(dx.astype(np.float64), narrow.backward(np.ones_like(x)), rtol=1e-15)


def test_truncated_normal_with_a_subnormal_std():
    init = tn.init.TruncatedNormal(std=1e-320)
    assert init.mean == 0.0 and init.variance() == 0.0  # 1e-640 is below the smallest float
    values = init((1000,), rng())
    # the mean of |N(0, s^2)| is 0.8 s (a std would square subnormals to 0)
    assert 0.6e-320 < np.abs(values).mean() < 1e-320 and np.all(np.abs(values) <= 2.0)


def test_leaky_relu_gain_for_a_huge_slope():
    # sqrt(2 / (1 + s^2)) ~ sqrt(2) / s, not the 0 that s * s = inf gives
    assert tn.init.calculate_gain("leaky_relu", 1e200) == pytest.approx(math.sqrt(2) * 1e-200)
    assert tn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04), rel=1e-15)


def test_uniform_wider_than_the_largest_float():
    init = tn.init.Uniform(low=-1e308, high=1e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = init((2000,), rng())
    assert np.all(np.abs(values) <= 1e308) and np.isfinite(values).all()
    assert values.min() < -0.9e308 and values.max() > 0.9e308
    assert init.mean == 0.0 and init.variance() == math.inf  # (2e308)^2 / 12 is past the largest float
    assert tn.init.Uniform(low=1e308, high=1.5e308).mean == 1.25e308


def test_a_variance_past_the_largest_float_is_inf():
    assert tn.init.Normal(std=1e200).variance() == math.inf
    assert tn.init.Uniform(low=-1e200, high=1e200).variance() == math.inf


FLOATS = [np.float16, np.float32, np.float64, np.longdouble]


def extremes(dtype):
    info = np.finfo(dtype)
    return np.array([[info.max, -info.max, info.tiny, -info.tiny, 0.0, 1.0, -1.0, 700.0, -700.0]],
                    dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", tn.available_activations())
def test_activations_are_warning_free_and_never_nan_on_finite_extremes(name, dtype):
    x = extremes(dtype)
    act = tn.activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = act.forward(x)
        dx = act.backward(np.ones_like(y))
        # nan and inf give what IEEE arithmetic gives (as in PyTorch), but warn no more
        special = np.array([[np.nan, np.inf, -np.inf]], dtype=dtype)
        act.backward(np.ones_like(act.forward(special)))
    assert y.shape == dx.shape == x.shape and y.dtype == dx.dtype == np.dtype(dtype)
    assert not np.isnan(y).any() and not np.isnan(dx).any()
    # only SELU's true value passes the largest float (by its scale, 1.0507)
    overflow = np.isinf(y)
    assert not overflow.any() or (name == "selu" and overflow.tolist() == [[True] + [False] * 8])
    assert np.isfinite(dx).all()


# ---- fuzzing -------------------------------------------------------------------------------
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10),
    st.sampled_from([0, 2**40, -(2**40), 2**63, -(2**64), 10**400]),  # past int64 and float too
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["", "False", "relu", "foo"]),
    st.sampled_from([[1, 2], (3,), {}, np.float32, np.int64(2), np.array([1.0, 2.0]), 1 + 2j]),
)
SIZES = st.integers(1, 5)
DTYPES = st.sampled_from([np.float16, np.float32, np.float64])


def either(valid, share=3):
    """Mostly ``valid`` values, sometimes anything at all."""
    return st.one_of(*[valid] * share, ANYTHING)


def finite_arrays(shape, dtype, bound=10.0):
    return st.lists(st.floats(-bound, bound, allow_nan=False, width=16),
                    min_size=math.prod(shape), max_size=math.prod(shape)).map(
        lambda v: np.array(v, dtype=dtype).reshape(shape))


@FUZZ
@given(st.data(), either(SIZES), either(SIZES), either(st.booleans()), either(DTYPES),
       either(st.sampled_from(["he_normal", "normal:0.1", "zeros", None])))
def test_fuzz_linear(data, in_features, out_features, bias, dtype, weight_init):
    layer = obeys_contract(lambda: tn.Linear(in_features, out_features, bias=bias, rng=rng(),
                                             dtype=dtype, weight_init=weight_init))
    if layer is None:
        return
    batch = data.draw(st.integers(1, 4))
    x = data.draw(finite_arrays((batch, in_features), dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(y))
    assert y.shape == (batch, out_features) and dx.shape == x.shape
    assert y.dtype == dx.dtype == layer.dtype
    assert np.isfinite(y).all() and np.isfinite(dx).all()


@FUZZ
@given(st.data(), st.lists(SIZES, min_size=2, max_size=4),
       either(st.sampled_from(tn.available_activations())), either(st.booleans()),
       DTYPES, st.booleans())
def test_fuzz_mlp_forward_backward_and_wrong_input(data, sizes, activation, final, dtype, wrong):
    net = obeys_contract(lambda: tn.MLP(sizes, activation, final_activation=final, rng=rng(),
                                        dtype=dtype))
    if net is None:
        return
    shape = (data.draw(st.integers(1, 3)), sizes[0])
    if wrong:  # a shape, a dtype or values the network must refuse, not misuse
        x = data.draw(st.sampled_from([np.ones(shape[1]), np.ones((1, shape[1] + 1)),
                                       np.ones(shape, dtype=complex), np.full(shape, "a"),
                                       [[1.0] * shape[1], [1.0] * (shape[1] + 1)]]))
        assert obeys_contract(lambda: net.forward(x)) is None
        return
    x = data.draw(finite_arrays(shape, dtype, bound=3.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = net.forward(x)
        dx = net.backward(np.ones_like(y))
    assert y.shape == (shape[0], sizes[-1]) and dx.shape == shape
    assert not np.isnan(y).any() and not np.isnan(dx).any()
    bad_dy = data.draw(st.sampled_from([np.ones((shape[0], sizes[-1] + 1)), np.ones(3), "dy"]))
    net.forward(x)
    assert obeys_contract(lambda: net.backward(bad_dy)) is None


LOSSES = {"mse": tn.MSELoss, "smooth_l1": tn.SmoothL1Loss, "bce": tn.BCELoss, "kl_div": tn.KLDivLoss,
          "cross_entropy": tn.CrossEntropyLoss, "nll": tn.NLLLoss}


@FUZZ
@given(st.data(), st.sampled_from(sorted(LOSSES)), st.sampled_from(["rows", "spatial", "unbatched"]),
       st.integers(1, 3), st.integers(1, 3), st.lists(st.integers(1, 2), min_size=1, max_size=2),
       DTYPES, st.integers(0, 2**32 - 1), st.sampled_from([0.0, 100.0, -100.0, 1e-4, 50.0]))
def test_fuzz_losses(data, kind, layout, batch, classes, extra, dtype, seed, extreme):
    means = ["mean", "sum", "none"] + (["batchmean"] if kind == "kl_div" else [])
    loss = obeys_contract(lambda: LOSSES[kind](reduction=data.draw(either(st.sampled_from(means), 6))))
    if loss is None:
        return
    # class scores also as (N, C, d1, ...) and unbatched (C,); the other losses take any shape.
    # Values come from a drawn seed (lists of floats this long overrun hypothesis's buffer),
    # with one drawn extreme; as probabilities (BCELoss) 0 and 1 are among them.
    shape = {"rows": (batch, classes), "spatial": (batch, classes, *extra), "unbatched": (classes,)}[layout]
    gen = rng(seed)
    pred = gen.uniform(-100, 100, shape)
    pred.flat[0] = extreme
    pred = (np.abs(pred) / 100 if kind == "bce" else pred).astype(dtype)
    if kind in ("cross_entropy", "nll"):
        good = gen.integers(0, classes, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
    elif kind in ("bce", "kl_div"):
        good = gen.random(shape).astype(dtype)
    else:
        good = gen.uniform(-10, 10, shape).astype(dtype)
    target = data.draw(either(st.just(good), share=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = obeys_contract(lambda: loss.forward(pred, target))
        if value is None:
            return
        dpred = loss.backward(np.ones(np.shape(value)) if loss.reduction == "none" else None)
    assert np.isfinite(value).all() and dpred.shape == pred.shape
    # BCELoss's gradient at p = 0 or 1 is PyTorch's (p - t) / 1e-12: past float16's largest, inf
    assert np.isfinite(dpred).all() or (kind == "bce" and dtype == np.float16)


@FUZZ
@given(st.sampled_from(["sgd", "adam"]), either(st.floats(1e-4, 1.0)), either(st.floats(0, 0.99)),
       either(st.booleans()), DTYPES)
def test_fuzz_optimizers(kind, lr, beta, flag, dtype):
    layer = tn.Linear(3, 2, rng=rng(), dtype=dtype)
    if kind == "sgd":
        opt = obeys_contract(lambda: tn.SGD(layer.parameters(), lr=lr, momentum=beta, nesterov=flag
                                            if beta else False))
    else:
        opt = obeys_contract(lambda: tn.Adam(layer.parameters(), lr=lr, betas=(beta, 0.999)))
    if opt is None:
        return
    layer.backward(np.ones_like(layer.forward(np.ones((2, 3), dtype=dtype))))
    opt.step()
    assert all(np.isfinite(p.data).all() and p.dtype == dtype for p in layer.parameters())


@FUZZ
@given(either(st.sampled_from(["normal", "uniform:0.5", "he_normal", "xavier_uniform", "orthogonal",
                               "truncated_normal:0.1", "constant:2", "lecun_uniform", "ones"]), 4),
       either(st.lists(SIZES, min_size=1, max_size=3).map(tuple)), DTYPES)
def test_fuzz_initializers(spec, shape, dtype):
    init = obeys_contract(lambda: tn.init.get(spec, "fuzz"))
    if init is None:
        return
    values = obeys_contract(lambda: init(shape, rng(), dtype=dtype))
    if values is None:
        return
    assert values.shape == tuple(np.atleast_1d(shape)) and values.dtype == dtype
    assert np.isfinite(values).all()


@FUZZ
@given(st.data(), st.lists(SIZES, min_size=2, max_size=4),
       st.sampled_from(tn.available_activations()), st.booleans(), st.booleans(), DTYPES)
def test_fuzz_save_and_load(data, sizes, activation, bias, final, dtype):
    net = tn.MLP(sizes, activation, bias=bias, final_activation=final, rng=rng(), dtype=dtype)
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "m.npz"
        tn.save(net, path)
        good = path.read_bytes()
        for obj in (tn.load(path), tn.load(path)):
            assert repr(obj) == repr(net)
        damage = data.draw(st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(1, 255)),
                                    min_size=1, max_size=3))
        cut = data.draw(st.integers(len(good) // 2, len(good)))
        damaged = bytearray(good[:cut])
        for at, bits in damage:
            if at < cut:
                damaged[at] ^= bits
        path.write_bytes(bytes(damaged))
        try:
            back = tn.load(path)
        except tn.ModelFileError:
            return
    # damage to a byte nothing reads: what loads is what was saved
    assert repr(back) == repr(net)
    for p, q in zip(net.parameters(), back.parameters()):
        assert p.data.tobytes() == q.data.tobytes() and p.dtype == q.dtype


# ---- files that are not what they say ---------------------------------------------------
SPECIAL = ["fifo", "directory", "link to a device", "link to a fifo", "dangling link"]


def special_file(directory, kind):
    path = directory / "m.npz"
    if kind == "directory":
        path.mkdir()
    elif kind == "dangling link":
        path.symlink_to(directory / "nothing")
    elif kind == "link to a device":
        path.symlink_to(os.devnull)
    else:
        fifo = directory / ("pipe" if kind == "link to a fifo" else "m.npz")
        os.mkfifo(fifo)
        if kind == "link to a fifo":
            path.symlink_to(fifo)
    return path


@FUZZ
@given(st.sampled_from(SPECIAL), st.booleans())
def test_fuzz_special_files_are_refused_and_left_alone(kind, saving):
    with tempfile.TemporaryDirectory() as directory:
        path = special_file(pathlib.Path(directory), kind)
        before = sorted(os.listdir(directory))
        outcome = {}

        def run():  # in a thread: a load that blocked on a FIFO would hang the suite
            try:
                if saving:
                    tn.save(tn.MLP([2, 2], "relu", rng=rng()), path)
                else:
                    tn.load(path)
            except BaseException as e:  # the test checks which
                outcome["error"] = e

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), f"{'save' if saving else 'load'} blocked on a {kind}"
        error = outcome.get("error")
        expected = (ValueError, IsADirectoryError) if saving else (tn.ModelFileError, FileNotFoundError)
        if saving and kind == "dangling link":  # a link to a new file: save writes it
            assert error is None and tn.load(path) is not None
            return
        assert isinstance(error, expected), repr(error)
        assert sorted(os.listdir(directory)) == before


def npy_bytes(array, declared_shape=None):
    header = {"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False,
              "shape": tuple(array.shape if declared_shape is None else declared_shape)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + array.tobytes()


@FUZZ
@given(st.sampled_from(["shape", "count", "zip size"]), st.integers(1, 62), st.integers(0, 2**32 - 1))
def test_fuzz_archives_that_lie_about_sizes_and_counts_are_refused(lie, magnitude, seed):
    claimed = 2**magnitude
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "m.npz"
        tn.save({"w": np.ones(3)}, path)
        with zipfile.ZipFile(path) as z:
            members = {i.filename: z.read(i) for i in z.infolist()}
        header = json.loads(np.load(io.BytesIO(members["__architecture__.npy"])).tobytes())
        if lie == "shape":  # the array's .npy header, and the JSON with it, claim more than the bytes
            header["state_dict"]["w"]["shape"] = [claimed]
            members["w.npy"] = npy_bytes(np.ones(3), declared_shape=(claimed,))
        elif lie == "count":  # the JSON declares arrays the file does not hold
            extra = min(claimed, 20_000)
            header["state_dict"].update({f"a{i}": {"dtype": "float64", "shape": [1]} for i in range(extra)})
        members["__architecture__.npy"] = npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8))
        with zipfile.ZipFile(path, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
        if lie == "zip size":  # the central directory claims a member larger than the file
            raw = bytearray(path.read_bytes())
            at = raw.rfind(b"PK\x01\x02")  # the last member's central directory entry
            field = np.random.default_rng(seed).choice([20, 24])  # compressed or uncompressed size
            raw[at + field: at + field + 4] = min(claimed, 2**32 - 1).to_bytes(4, "little")
            path.write_bytes(bytes(raw))
        with pytest.raises(tn.ModelFileError) as refused_file:
            tn.load(path)
        assert len(str(refused_file.value)) < 1200
