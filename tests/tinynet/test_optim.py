import re

import numpy as np
import pytest

import tinynet as tn

SHAPES = [(3, 4), (4,)]
STEPS = 6


def grads(seed=0, steps=STEPS):
    """A fixed sequence of gradients, one list of arrays per step."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def start(seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [tn.Parameter(rng.standard_normal(s).astype(dtype)) for s in SHAPES]


def run(opt_class, params, seq, **kw):
    opt = opt_class(params, **kw)
    for step_grads in seq:
        opt.zero_grad()
        for p, g in zip(params, step_grads):
            p.accumulate(g.astype(p.dtype))
        opt.step()
    return [p.data for p in params]


def sgd_reference(p, seq, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """The SGD update written out from its formula, one parameter."""
    p, buf = p.copy(), None
    for g in seq:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


def adam_reference(p, seq, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """The Adam update written out from its formula (Kingma and Ba, with PyTorch's L2 decay)."""
    p, m, v = p.copy(), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(seq, start=1):
        g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g ** 2
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    dict(lr=0.1, momentum=0.5, dampening=0.3, weight_decay=0.1),
]
ADAM_CONFIGS = [
    dict(),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.02, weight_decay=0.1),
    dict(lr=0.01, betas=(0.0, 0.0)),
]


@pytest.mark.parametrize("kw", SGD_CONFIGS)
def test_sgd_matches_its_formula(kw):
    seq, params = grads(), start()
    expected = [sgd_reference(p.data, [s[i] for s in seq], **kw) for i, p in enumerate(params)]
    for got, want in zip(run(tn.SGD, params, seq, **kw), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kw", ADAM_CONFIGS)
def test_adam_matches_its_formula(kw):
    seq, params = grads(), start()
    expected = [adam_reference(p.data, [s[i] for s in seq], **kw) for i, p in enumerate(params)]
    for got, want in zip(run(tn.Adam, params, seq, **kw), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


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


@pytest.mark.parametrize("opt_class, kw", [(tn.SGD, c) for c in SGD_CONFIGS]
                         + [(tn.Adam, c) for c in ADAM_CONFIGS])
def test_matches_pytorch(opt_class, kw):
    torch = pytest.importorskip("torch")
    seq, params = grads(seed=4), start(seed=5)
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    topt = getattr(torch.optim, opt_class.__name__)(tparams, **kw)
    for step_grads in seq:
        topt.zero_grad()
        for tp, g in zip(tparams, step_grads):
            tp.grad = torch.tensor(g)
        topt.step()
    for got, tp in zip(run(opt_class, params, seq, **kw), tparams):
        np.testing.assert_allclose(got, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("opt_class, kw", [(tn.SGD, SGD_CONFIGS[2]), (tn.Adam, ADAM_CONFIGS[2])])
def test_float32_stays_float32(opt_class, kw):
    params = start(dtype=np.float32)
    for data in run(opt_class, params, grads(), **kw):
        assert data.dtype == np.float32
    for p in params:
        assert p.grad.dtype == np.float32


def test_updates_in_place_and_skips_frozen_parameters():
    a, b = start()
    b.requires_grad = False
    a_data, b_before = a.data, b.data.copy()
    opt = tn.SGD([a, b], lr=0.1)
    a.accumulate(np.ones_like(a.data))
    b.accumulate(np.ones_like(b.data))
    opt.step()
    assert a.data is a_data  # a layer holding the array sees the update
    np.testing.assert_array_equal(b.data, b_before)
    opt.zero_grad()
    assert not a.grad.any() and not b.grad.any()


def test_tied_parameter_is_updated_once():
    p = tn.Parameter(np.array([1.0]))
    opt = tn.SGD([p, p], lr=0.5)
    assert len(opt.params) == 1
    p.accumulate(np.array([1.0]))
    opt.step()
    assert p.data[0] == 0.5


def test_accepts_a_network_parameters_generator():
    net = tn.MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0))
    opt = tn.Adam(net.parameters(), lr=0.1)
    assert len(opt.params) == 4
    assert repr(opt).startswith("Adam(4 parameters, lr=0.1")


@pytest.mark.parametrize("make, error, message", [
    (lambda ps: tn.SGD(ps, lr=-1), ValueError, "SGD: invalid learning rate: -1"),
    (lambda ps: tn.SGD(ps, lr=0.1, momentum=-0.5), ValueError, "SGD: invalid momentum value: -0.5"),
    (lambda ps: tn.SGD(ps, lr=0.1, weight_decay=-1e-4), ValueError,
     "SGD: invalid weight_decay value: -0.0001"),
    (lambda ps: tn.SGD(ps, lr=0.1, nesterov=True), ValueError,
     "SGD: Nesterov momentum requires a momentum and zero dampening, got momentum=0.0"),
    (lambda ps: tn.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "SGD: Nesterov momentum requires a momentum and zero dampening, got momentum=0.9, dampening=0.1"),
    (lambda ps: tn.SGD(ps, lr="fast"), TypeError, "SGD: learning rate must be a number, got 'fast'"),
    (lambda ps: tn.SGD(ps, lr=float("nan")), ValueError, "SGD: invalid learning rate: nan"),
    (lambda ps: tn.Adam(ps, lr=-0.1), ValueError, "Adam: invalid learning rate: -0.1"),
    (lambda ps: tn.Adam(ps, betas=(1.0, 0.999)), ValueError,
     "Adam: invalid beta parameter at index 0: 1.0"),
    (lambda ps: tn.Adam(ps, betas=(0.9, -0.1)), ValueError,
     "Adam: invalid beta parameter at index 1: -0.1"),
    (lambda ps: tn.Adam(ps, betas=0.9), ValueError, "Adam: betas must be a pair (beta1, beta2), got 0.9"),
    (lambda ps: tn.Adam(ps, eps=-1e-8), ValueError, "Adam: invalid epsilon value: -1e-08"),
    (lambda ps: tn.Adam(ps, weight_decay=-1), ValueError, "Adam: invalid weight_decay value: -1"),
    (lambda ps: tn.SGD([], lr=0.1), ValueError, "SGD: optimizer got an empty parameter list"),
    (lambda ps: tn.SGD(ps[0], lr=0.1), TypeError, "SGD: params must be an iterable of Parameters"),
    (lambda ps: tn.Adam([ps[0], np.zeros(3)], lr=0.1), TypeError,
     "Adam: params[1] is not a tinynet Parameter, got ndarray"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make(start())
