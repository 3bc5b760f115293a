"""Values a fuzz found past the checks: huge ints, sizes past numpy's limit, float16 at its edge."""

import io
import zipfile

import numpy as np
import pytest

import tinynet as tn

HUGE = 10**400  # an int float() cannot hold


@pytest.mark.parametrize("build", [
    lambda: tn.Residual(tn.Linear(3, 3), alpha=HUGE),
    lambda: tn.LeakyReLU(negative_slope=HUGE),
    lambda: tn.ELU(alpha=HUGE),
    lambda: tn.LayerNorm(3, eps=HUGE),
    lambda: tn.BatchNorm1d(3, momentum=HUGE),
    lambda: tn.Dropout(HUGE),
    lambda: tn.init.Normal(std=HUGE),
], ids=["Residual.alpha", "LeakyReLU", "ELU", "LayerNorm.eps", "BatchNorm1d.momentum", "Dropout.p",
        "Normal.std"])
def test_a_huge_int_is_a_value_error_naming_the_argument(build):
    with pytest.raises(ValueError, match="must be finite, got an integer of 1329 bits"):
        build()


@pytest.mark.parametrize("build, name", [
    (lambda: tn.Linear(2**63, 2), "in_features"),
    (lambda: tn.datasets.xor(2**63), "n_samples"),
])
def test_a_size_past_numpys_limit_is_a_value_error(build, name):
    with pytest.raises(ValueError, match=f"{name} is too large for an array dimension"):
        build()


def test_gradcheck_names_a_bad_dy():
    with pytest.raises(TypeError, match="gradcheck: dy must be a real numeric array"):
        tn.gradcheck(tn.Linear(2, 2, rng=np.random.default_rng(0)), np.ones((1, 2)), dy="x")


def test_dropout_near_one_on_float16_zeroes_what_it_drops():
    # 1 / (1 - p) = 1e5 is past float16's range: a kept entry is inf, as IEEE rounds, and a dropped one 0
    drop = tn.Dropout(0.99999, rng=np.random.default_rng(0))
    x = np.ones((4, 100_000), np.float16)
    y = drop(x)
    dx = drop.backward(np.ones_like(y))
    for out in (y, dx):
        assert out.dtype == np.float16 and not np.isnan(out).any()
        assert set(np.unique(out)) <= {0.0, np.inf} and (out == 0).sum() > 0.999 * out.size


def test_dropout_keeps_the_float64_numbers():
    drop = tn.Dropout(0.3, rng=np.random.default_rng(1))
    x = np.random.default_rng(2).standard_normal((5, 7))
    keep = np.random.default_rng(1).random(x.shape) >= 0.3
    np.testing.assert_array_equal(drop(x), np.where(keep, x * (1 / 0.7), 0.0))  # as PyTorch scales


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e160), (np.float32, 1e20), (np.float16, 6e4)])
def test_layernorm_of_huge_values_is_what_it_is_at_any_scale(dtype, big):
    # y is invariant to scaling x, and dx scales as 1 / scale; squares past the dtype's range change neither
    x = np.array([[1.0, -1.0, 0.3]])
    dy = np.array([[1.0, 2.0, 3.0]])
    ln = tn.LayerNorm(3, eps=1e-30, dtype=np.float64)  # at scale 1: eps as small against the variance
    y1, dx1 = ln(x), ln.backward(dy)
    ln = tn.LayerNorm(3, eps=1e-5, dtype=dtype)
    y2 = ln(np.asarray(x * big, dtype))
    dx2 = ln.backward(np.asarray(dy, dtype))
    tol = {np.float64: 1e-12, np.float32: 1e-6, np.float16: 2e-3}[dtype]
    np.testing.assert_allclose(y2, y1, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx2.astype(np.float64) * big, dx1, rtol=tol * 10, atol=tol * 10)


def test_layernorm_with_an_eps_below_float32s_range_keeps_a_constant_sample_at_zero():
    ln = tn.LayerNorm(2, eps=1e-50, dtype=np.float32)
    np.testing.assert_array_equal(ln(np.ones((1, 2), np.float32)), np.zeros((1, 2), np.float32))


# ---- losses: PyTorch's finite answers (torch 2.13: 0.6931 and grad [-0.5, 0.5, 0]; 0.0; zeros) ----

def test_cross_entropy_with_a_minus_inf_mask_is_finite():
    loss = tn.CrossEntropyLoss()
    assert loss(np.array([[0.0, 0.0, -np.inf]]), np.array([0])) == pytest.approx(np.log(2))
    np.testing.assert_allclose(loss.backward(), [[-0.5, 0.5, 0.0]])


def test_cross_entropy_of_logits_1e308_apart_is_its_limit():
    loss = tn.CrossEntropyLoss()
    assert loss(np.array([[1e308, -1e308]]), np.array([0])) == 0.0
    np.testing.assert_array_equal(loss.backward(), [[0.0, 0.0]])


def test_every_label_ignored_gives_a_zero_gradient():
    loss = tn.CrossEntropyLoss()
    assert np.isnan(loss(np.array([[1.0, 2.0]]), np.array([-100])))  # 0 / 0, as PyTorch's mean
    np.testing.assert_array_equal(loss.backward(), [[0.0, 0.0]])


# ---- optimizers and schedulers: arguments and state dicts ----

def test_optimizer_hyperparameters_past_floats_range_are_value_errors():
    params = tn.Linear(2, 2).parameters()
    with pytest.raises(ValueError, match="invalid learning rate"):
        tn.SGD(params, lr=HUGE)
    with pytest.raises(ValueError, match="beta parameter at index 0"):
        tn.Adam(tn.Linear(2, 2).parameters(), betas=(HUGE, 0.9))


@pytest.mark.parametrize("kwargs, message", [
    (dict(total_steps=10, pct_start=0.1), "leaves a phase of no steps"),
    (dict(total_steps=10, div_factor=0), "div_factor must be > 0"),
    (dict(total_steps=10, final_div_factor=0), "final_div_factor must be > 0"),
])
def test_one_cycle_refuses_what_would_divide_by_zero(kwargs, message):
    optimizer = tn.SGD(tn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match=message):
        tn.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, **kwargs)


def adam_with_state():
    layer = tn.Linear(2, 2, rng=np.random.default_rng(0))
    optimizer = tn.Adam(layer.parameters(), lr=0.1)
    layer.weight.grad = np.ones((2, 2))
    layer.bias.grad = np.ones(2)
    optimizer.step()
    return layer, optimizer


@pytest.mark.parametrize("spoil, message", [
    (lambda sd: sd["param_groups"][0].update(lr=float("nan")), "invalid learning rate"),
    (lambda sd: sd["param_groups"][0].update(lr=-1), "invalid learning rate"),
    (lambda sd: sd["param_groups"][0].update(betas=(2, 2)), "beta parameter"),
    (lambda sd: sd["state"][0]["exp_avg_sq"].__setitem__((0, 0), -1.0), "cannot be negative"),
    (lambda sd: sd["state"].update({7: {}}), "which no group holds"),
    (lambda sd: sd["param_groups"].__setitem__(0, None), "should be a dict"),
])
def test_an_optimizer_state_dict_is_checked_before_anything_changes(spoil, message):
    layer, optimizer = adam_with_state()
    before = optimizer.state_dict()
    spoiled = optimizer.state_dict()
    spoil(spoiled)
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict(spoiled)
    after = optimizer.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["exp_avg_sq"], before["state"][0]["exp_avg_sq"])


def test_an_option_missing_from_an_older_state_dict_takes_its_default():
    layer, optimizer = adam_with_state()
    old = optimizer.state_dict()
    del old["param_groups"][0]["amsgrad"]  # saved before the option existed
    optimizer.load_state_dict(old)
    optimizer.step()
    assert optimizer.param_groups[0]["amsgrad"] is False


def test_a_scheduler_state_dict_is_checked():
    optimizer = tn.SGD(tn.Linear(2, 2).parameters(), lr=0.1)
    scheduler = tn.optim.lr_scheduler.StepLR(optimizer, 2)
    with pytest.raises(ValueError, match="unknown entries"):
        scheduler.load_state_dict({"optimizer": None})
    with pytest.raises(ValueError, match="entry 'last_epoch' should be a number"):
        scheduler.load_state_dict({"last_epoch": "3"})


# ---- hooks and initializers ----

def test_register_hooks_attaches_all_or_nothing():
    net = tn.Sequential(tn.Linear(2, 2), tn.ReLU())
    with pytest.raises(TypeError, match="the backward hook must be callable"):
        tn.register_hooks(net, forward=lambda layer, x, y: None, backward="not a hook")
    calls = []
    net[0].register_forward_hook(lambda layer, x, y: calls.append(layer))
    net(np.ones((1, 2)))
    assert calls == [net[0]]  # only the hook registered after: none was left behind


def test_a_pre_hook_returning_two_inputs_is_refused():
    layer = tn.Linear(2, 2)
    layer.register_forward_pre_hook(lambda m, x: (x, x))
    with pytest.raises(TypeError, match="returned a tuple of 2; a layer has one input"):
        layer(np.ones((1, 2)))


def test_a_callable_that_is_no_initializer_is_named():
    with pytest.raises(TypeError, match=r"weight_init 'zeros' failed when called as init\(shape, rng"):
        tn.Linear(2, 2, weight_init=np.zeros)


def test_nesting_past_pythons_recursion_limit_is_a_value_error():
    net = tn.ReLU()
    for _ in range(600):
        net = tn.Sequential(net)
    with pytest.raises(ValueError, match="nested deeper than Python's recursion limit"):
        net(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        net.backward(np.ones((1, 2)))  # the failed pass kept nothing


def test_a_nesting_past_the_recursion_limit_is_shown_summed_up_and_saved_or_said_too_deep(tmp_path):
    net = tn.Linear(2, 2, rng=np.random.default_rng(0))
    for _ in range(600):
        net = tn.Sequential(tn.Residual(net) if _ % 100 == 0 else net)
    too_deep = "nested deeper than Python's recursion limit"
    for show in (repr, str, tn.architecture.describe, lambda n: n.get_config(),
                 lambda n: tn.summary(n, (1, 2), verbose=0)):
        with pytest.raises(ValueError, match=too_deep):
            show(net)
    with pytest.raises(TypeError, match=f"save: Sequential: layers {too_deep}"):
        tn.save(net, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())
    assert [a.shape for a in net.state_dict().values()] == [(2, 2), (2,)]
    assert net.label() == "Sequential of 1 layers"


def test_a_file_nested_past_the_recursion_limit_is_refused_saying_so(tmp_path):
    depth = 450  # 900 levels of JSON, which json reads; the walk through its layers cannot
    text = ('{"format": "tinynet-model", "version": 2, "tinynet_version": "0.1.0", "model": '
            + '{"type": "Sequential", "layers": [' * depth + '{"type": "ReLU"}' + ']}' * depth + '}')
    path = tmp_path / "deep.npz"
    with zipfile.ZipFile(path, "w") as z:
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.frombuffer(text.encode(), np.uint8))
        z.writestr("__architecture__.npy", buffer.getvalue())
    with pytest.raises(tn.ModelFileError, match="layers nested deeper than Python's recursion limit") as info:
        tn.load(path)
    assert len(str(info.value)) < 1000


def test_a_sequential_indexed_by_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="indices must be ints or slices, got 'a'"):
        tn.Sequential(tn.ReLU())["a"]
