import copy
import json
import re

import numpy as np
import pytest

import tinynet as tn
from test_torch_reference import reference

CASES, ARRAYS = reference("optim")
INPUTS = CASES[0]
TRAJECTORIES = CASES[1:]
SHAPES = [(3, 4), (4,)]


def reference_run(case):
    """Run tinynet's optimizer through the fixture's gradients; yields the parameters after each step."""
    dtype = case["dtype"]
    params = [tn.Parameter(ARRAYS[f"inputs/start/{i}"].astype(dtype)) for i in range(len(SHAPES))]
    cls = getattr(tn.optim, case["optimizer"])
    if "groups" in case:
        opt = cls([{**g, "params": [params[i] for i in g["params"]]} for g in case["groups"]],
                  **case["kwargs"])
    else:
        opt = cls(params, **case["kwargs"])
    for k in range(INPUTS["steps"]):
        opt.zero_grad()
        for i, p in enumerate(params):
            if i not in INPUTS["missing"].get(str(k), []):
                p.accumulate(ARRAYS[f"inputs/grad/{k}/{i}"].astype(dtype))
        opt.step()
        yield k, params


@pytest.mark.parametrize("case", TRAJECTORIES, ids=[c["name"] for c in TRAJECTORIES])
def test_matches_pytorch_step_for_step_with_missing_gradients(case):
    tol = dict(rtol=1e-12, atol=1e-14) if case["dtype"] == "float64" else dict(rtol=1e-6, atol=1e-7)
    for k, params in reference_run(case):
        for i, p in enumerate(params):
            assert p.dtype == case["dtype"]
            np.testing.assert_allclose(p.data, ARRAYS[f"{case['name']}/param/{i}"][k], **tol,
                                       err_msg=f"step {k + 1}, parameter {i}")


def test_every_optimizer_and_option_is_compared_with_pytorch():
    compared = {(c["optimizer"], k) for c in TRAJECTORIES for k in c["kwargs"]}
    assert {("SGD", k) for k in ("momentum", "dampening", "nesterov", "weight_decay", "maximize")} <= compared
    assert {("Adam", k) for k in ("betas", "eps", "weight_decay", "amsgrad", "maximize")} <= compared
    assert {("AdamW", "weight_decay"), ("AdamW", "amsgrad")} <= compared
    assert {("RMSprop", k) for k in ("momentum", "centered", "alpha", "weight_decay", "maximize")} <= compared
    assert any("groups" in c for c in TRAJECTORIES) and INPUTS["missing"]


def start(seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [tn.Parameter(rng.standard_normal(s).astype(dtype)) for s in SHAPES]


def train(opt, params, steps, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        opt.zero_grad()
        for p in params:
            p.accumulate(rng.standard_normal(p.shape).astype(p.dtype))
        opt.step()
    return rng


MAKERS = [
    lambda ps: tn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: tn.Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: tn.AdamW(ps, lr=0.01),
    lambda ps: tn.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    lambda ps: tn.SGD([{"params": ps[:1], "lr": 0.5}, {"params": ps[1:], "momentum": 0.3}], lr=0.1),
]


@pytest.mark.parametrize("make", MAKERS)
def test_resuming_from_state_dict_continues_bit_for_bit(make):
    params = start()
    opt = make(params)
    rng = train(opt, params, 4)
    saved = json.loads(json.dumps(opt.state_dict(), default=lambda a: a.tolist()))  # through JSON, as a file
    saved["state"] = {int(k): {n: np.array(v) if isinstance(v, list) else v for n, v in s.items()}
                      for k, s in saved["state"].items()}
    kept = [p.data.copy() for p in params]
    train(opt, params, 3, seed=1)
    uninterrupted = [p.data.copy() for p in params]

    resumed_params = [tn.Parameter(k) for k in kept]
    resumed = make(resumed_params)
    resumed.load_state_dict(saved)
    train(resumed, resumed_params, 3, seed=1)
    for a, b in zip(resumed_params, uninterrupted):
        np.testing.assert_array_equal(a.data, b)
    del rng


def test_state_dict_has_pytorchs_layout():
    params = start()
    opt = tn.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], lr=0.01)
    train(opt, params, 2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.01, 0.1]
    assert sorted(sd["state"]) == [0, 1]
    assert sd["state"][0]["step"] == 2 and set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    sd["state"][0]["exp_avg"][...] = 0  # a copy: the optimizer's own state is untouched
    assert opt.state_dict()["state"][0]["exp_avg"].any()


def test_load_state_dict_errors():
    opt = tn.SGD(start(), lr=0.1)
    other = tn.SGD(start()[:1], lr=0.1)
    with pytest.raises(ValueError, match=re.escape("SGD.load_state_dict: parameter group 0 has 2 parameters, the loaded one 1")):
        opt.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


def test_zero_grad_sets_gradients_to_none_and_step_skips_them():
    a, b = start()
    opt = tn.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.5)
    b_before = b.data.copy()
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    a.accumulate(np.ones(a.shape))
    opt.step()  # weight decay and momentum would move b; it has no gradient, so it stays
    np.testing.assert_array_equal(b.data, b_before)
    assert b not in opt.state and a in opt.state
    opt.zero_grad(set_to_none=False)
    assert not a.grad.any() and b.grad is None  # as in PyTorch, a gradient never computed stays None
    with pytest.raises(TypeError, match="SGD.zero_grad: set_to_none must be True or False, got 'no'"):
        opt.zero_grad(set_to_none="no")


@pytest.mark.parametrize("make", [lambda ps: tn.Adam(ps, lr=1e-3), lambda ps: tn.RMSprop(ps, lr=1e-3),
                                  lambda ps: tn.SGD(ps, lr=1e-3, momentum=0.9)])
def test_float16_parameters_step_in_float32(make):
    # a float16 square of 1000 overflows, and eps=1e-8 underflows to 0: Adam in float16 writes -inf
    data = np.array([0.5, -0.25, 1.0], dtype=np.float16)
    grads = [np.array([1000.0, -3e-5, 0.0], dtype=np.float16), np.array([-2000.0, 1.0, 0.0], dtype=np.float16)]
    half, single = tn.Parameter(data.copy()), tn.Parameter(data.astype(np.float32))
    opt_half, opt_single = make([half]), make([single])
    for g in grads:
        for opt, p in ((opt_half, half), (opt_single, single)):
            opt.zero_grad()
            p.accumulate(g.astype(p.dtype))
            opt.step()
        # the same float32 arithmetic, rounded into float16 after each step
        assert half.dtype == np.float16 and np.all(np.isfinite(half.data))
        np.testing.assert_array_equal(half.data, single.data.astype(np.float16))
        single.data[...] = half.data
    assert all(v.dtype == np.float32 for s in opt_half.state.values() for v in s.values()
               if isinstance(v, np.ndarray))


def test_sgd_momentum_by_hand():
    p = tn.Parameter(np.array([1.0]))
    opt = tn.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        p.accumulate(np.array([1.0]))
        opt.step()
    # buffer 1, then 0.9 * 1 + 1 = 1.9: p = 1 - 0.1 - 0.19
    assert p.data[0] == pytest.approx(0.71, abs=1e-15)


def test_adam_first_step_moves_each_entry_by_lr():
    p = tn.Parameter(np.array([1.0, 1.0, 1.0]))
    p.accumulate(np.array([1e-3, -5.0, 200.0]))
    tn.Adam([p], lr=0.01, eps=1e-12).step()
    # bias correction makes the first step lr * sign(grad), whatever the size of grad
    np.testing.assert_allclose(p.data, [0.99, 1.01, 0.99], rtol=1e-9)


def test_updates_in_place_and_skips_parameters_without_a_gradient():
    a, b = start()
    b.requires_grad = False  # a layer computes no gradient for it
    a_data, b_before = a.data, b.data.copy()
    opt = tn.SGD([a, b], lr=0.1)
    a.accumulate(np.ones_like(a.data))
    opt.step()
    assert a.data is a_data  # a layer holding the array sees the update
    np.testing.assert_array_equal(b.data, b_before)
    b.grad = np.ones_like(b.data)  # set by hand, it is stepped whatever requires_grad says, as in PyTorch
    opt.step()
    np.testing.assert_allclose(b.data, b_before - 0.1)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_tied_parameter_is_updated_once():
    p = tn.Parameter(np.array([1.0]))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt = tn.SGD([p, p], lr=0.5)
    assert len(opt.param_groups[0]["params"]) == 1
    p.accumulate(np.array([1.0]))
    opt.step()
    assert p.data[0] == 0.5


def test_param_groups_and_add_param_group():
    net = tn.MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0))
    opt = tn.Adam(net.parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 4
    assert opt.param_groups[0]["betas"] == (0.9, 0.999) and opt.defaults["lr"] == 0.1
    extra = tn.Parameter(np.zeros(2))
    opt.add_param_group({"params": [extra], "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    with pytest.raises(ValueError, match="Adam: some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [extra]})
    assert "Parameter Group 1: 1 parameters" in repr(opt)


@pytest.mark.parametrize("make, error, message", [
    (lambda ps: tn.SGD(ps, lr=-1), ValueError, "SGD: invalid learning rate: -1"),
    (lambda ps: tn.SGD(ps, lr=0.1, momentum=-0.5), ValueError, "SGD: invalid momentum value: -0.5"),
    (lambda ps: tn.SGD(ps, lr=0.1, weight_decay=-1e-4), ValueError,
     "SGD: invalid weight_decay value: -0.0001"),
    (lambda ps: tn.SGD(ps, lr=0.1, nesterov=True), ValueError,
     "SGD: Nesterov momentum requires a momentum and zero dampening, got momentum=0.0"),
    (lambda ps: tn.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "SGD: Nesterov momentum requires a momentum and zero dampening, got momentum=0.9, dampening=0.1"),
    (lambda ps: tn.SGD(ps, lr=0.1, nesterov="yes"), TypeError, "SGD: nesterov must be True or False, got 'yes'"),
    (lambda ps: tn.SGD(ps, lr="fast"), TypeError, "SGD: learning rate must be a number, got 'fast'"),
    (lambda ps: tn.SGD(ps, lr=float("nan")), ValueError, "SGD: invalid learning rate: nan"),
    (lambda ps: tn.SGD([{"params": ps, "lr": -2}]), ValueError, "SGD: invalid learning rate: -2"),
    (lambda ps: tn.Adam(ps, lr=-0.1), ValueError, "Adam: invalid learning rate: -0.1"),
    (lambda ps: tn.Adam(ps, betas=(1.0, 0.999)), ValueError,
     "Adam: invalid beta parameter at index 0: 1.0"),
    (lambda ps: tn.Adam(ps, betas=(0.9, -0.1)), ValueError,
     "Adam: invalid beta parameter at index 1: -0.1"),
    (lambda ps: tn.Adam(ps, betas=0.9), ValueError, "Adam: betas must be a pair (beta1, beta2), got 0.9"),
    (lambda ps: tn.Adam(ps, eps=-1e-8), ValueError, "Adam: invalid epsilon value: -1e-08"),
    (lambda ps: tn.AdamW(ps, weight_decay=-1), ValueError, "AdamW: invalid weight_decay value: -1"),
    (lambda ps: tn.Adam(ps, amsgrad=1), TypeError, "Adam: amsgrad must be True or False, got 1"),
    (lambda ps: tn.RMSprop(ps, alpha=-0.9), ValueError, "RMSprop: invalid alpha value: -0.9"),
    (lambda ps: tn.SGD([], lr=0.1), ValueError, "SGD: optimizer got an empty parameter list"),
    (lambda ps: tn.SGD(ps[0], lr=0.1), TypeError, "SGD: params must be an iterable of Parameters"),
    (lambda ps: tn.SGD([{"lr": 0.1}]), TypeError, "SGD: a parameter group must be a dict with a 'params' entry"),
    (lambda ps: tn.Adam([ps[0], np.zeros(3)], lr=0.1), TypeError,
     "Adam: params[1] is not a tinynet Parameter, got ndarray"),
    (lambda ps: tn.SGD([("a", ps[0]), ps[1]], lr=0.1), ValueError,
     "SGD: give every parameter with a name, as (name, Parameter) pairs (named_parameters()), or none"),
    (lambda ps: tn.SGD([(0, ps[0])], lr=0.1), TypeError, "SGD: params[0] must be a (name, Parameter) pair, got (0,"),
    (lambda ps: tn.SGD([{"params": [("a", ps[0])]}, {"params": [ps[1]]}], lr=0.1), ValueError,
     "SGD: all parameter groups must be given with names, or all without"),
    (lambda ps: tn.SGD(ps, lr=np.array([0.1])), TypeError, "SGD: learning rate must be a number, got array([0.1])"),
    (lambda ps: tn.Adam(ps, betas=(np.array(0.9), np.array(1.0))), ValueError,
     "Adam: invalid beta parameter at index 1: 1.0"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make(start())


def test_state_dict_round_trips_through_deepcopy():
    params = start()
    opt = tn.RMSprop(params, lr=0.01, centered=True)
    train(opt, params, 2)
    sd = copy.deepcopy(opt.state_dict())
    fresh = tn.RMSprop(start(), lr=0.5)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == 0.01 and fresh.param_groups[0]["centered"] is True


@pytest.mark.parametrize("make", [lambda ps: tn.AdamW(ps, lr=0.1), lambda ps: tn.RMSprop(ps, lr=0.1, weight_decay=0.1),
                                  lambda ps: tn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1)])
def test_a_layer_no_backward_reached_keeps_its_weights(make):
    rng = np.random.default_rng(0)
    used, unused = tn.Linear(3, 2, rng=rng), tn.Linear(3, 2, rng=rng)
    assert all(p.grad is None for p in unused.parameters())  # fresh: no gradient yet, as in PyTorch
    opt = make(list(used.parameters()) + list(unused.parameters()))
    before = {p: p.data.copy() for p in opt.param_groups[0]["params"]}
    for _ in range(3):
        opt.zero_grad()
        used.forward(rng.standard_normal((4, 3)))
        used.backward(np.ones((4, 2)))
        opt.step()
    for p in unused.parameters():
        np.testing.assert_array_equal(p.data, before[p])
    for p in used.parameters():
        assert not np.array_equal(p.data, before[p])


def test_named_parameters_keep_their_names_through_a_state_dict_without_them():
    a, b = start()
    named = tn.SGD([("a", a), ("b", b)], lr=0.1)
    assert named.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]
    named.load_state_dict(tn.SGD(start(), lr=0.5).state_dict())
    assert named.param_groups[0]["param_names"] == ["a", "b"] and named.param_groups[0]["lr"] == 0.5
    plain = tn.SGD(start(), lr=0.1)
    plain.load_state_dict(tn.SGD([("a", a), ("b", b)], lr=0.1).state_dict())
    assert plain.param_groups[0]["param_names"] == ["a", "b"]  # as PyTorch: the loaded names come along
