"""Write PyTorch's numbers for what tinynet claims to match, as small fixtures next to this file.

Run with a Python that has torch (tinynet is not needed): ``python
tests/reference/make_fixtures.py [OUTDIR]``. The inputs are drawn here with
numpy and stored with torch's outputs, so the tests in tests/tinynet read
both and need no torch. Each topic is one ``NAME.json`` (the cases and
their options, and scalar results) and, where there are arrays, one
``NAME.npz`` (arrays keyed ``CASE/what``). A test regenerates everything
with torch, where torch is installed, and checks nothing changed, to a few
units in the last place of each array's dtype.

Generation runs torch on one thread: a float32 sum (a matrix product) then
adds its terms in one order, whatever the machine's core count, so the
numbers do not move with it. torch's own kernels and BLAS build may still
round differently in the last bit elsewhere; the tolerance covers that.
"""

import json
import math
import pathlib
import sys
import warnings

import numpy as np
import torch

F = torch.nn.functional
torch.use_deterministic_algorithms(True)


def t(a, requires_grad=False):
    return torch.tensor(np.asarray(a), requires_grad=requires_grad)


def n(x):
    return x.detach().numpy().copy()


class Fixture:
    """Collects one topic's cases and arrays, and writes them."""

    def __init__(self, name):
        self.name, self.cases, self.arrays = name, [], {}

    def add(self, case, arrays=None):
        self.cases.append(case)
        for k, v in (arrays or {}).items():
            self.arrays[f"{case['name']}/{k}"] = np.asarray(v)

    def write(self, outdir):
        meta = {"torch": torch.__version__.split("+")[0], "cases": self.cases}
        (outdir / f"{self.name}.json").write_text(json.dumps(meta, indent=1) + "\n")
        if self.arrays:
            np.savez_compressed(outdir / f"{self.name}.npz", **self.arrays)


# ---------------------------------------------------------------- activations, Linear

ACTIVATIONS = {
    "identity": lambda x: x,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "silu": F.silu,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "scaled_sigmoid": lambda x: 4 * torch.sigmoid(x) - 2,
}
# (name, tinynet's options, torch's function with those options)
ACTIVATION_OPTIONS = [
    ("softplus", {"beta": 2.0, "threshold": 10.0}, lambda x: F.softplus(x, beta=2.0, threshold=10.0)),
    ("softplus", {"beta": 0.5, "threshold": 3.0}, lambda x: F.softplus(x, beta=0.5, threshold=3.0)),
    ("softplus", {"beta": -1.5, "threshold": 4.0}, lambda x: F.softplus(x, beta=-1.5, threshold=4.0)),
    ("gelu", {"approximate": "none"}, lambda x: F.gelu(x, approximate="none")),
    ("gelu", {"approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
]


def activations():
    fx = Fixture("activations")
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(scale=3.0, size=24), [-30.0, -1e-3, 0.0, 1e-3, 30.0, 700.0]])
    x = x.reshape(6, 5)
    dy = rng.standard_normal((6, 5))
    cases = [(name, {}, fn) for name, fn in ACTIVATIONS.items()] + ACTIVATION_OPTIONS
    # the options' thresholds (beta x = threshold) and GELU's far tails
    x_opt = np.concatenate([x.ravel(), [1.999, 2.0, 2.001, 5.0, 6.0, 7.0, -2.6667, -40.0, 1e4, -1e4]])
    x_opt = x_opt.reshape(8, 5)
    dy_opt = rng.standard_normal((8, 5))
    for name, kwargs, fn in cases:
        xs, dys = (x_opt, dy_opt) if kwargs else (x, dy)
        tx = t(xs, True)
        ty = fn(tx)
        ty.backward(t(dys))
        label = name + "".join(f"-{k}={v}" for k, v in kwargs.items())
        fx.add({"name": label, "activation": name, "kwargs": kwargs},
               {"x": xs, "dy": dys, "y": n(ty), "dx": n(tx.grad)})
    return fx


def linear():
    fx = Fixture("linear")
    for dtype, tdtype in (("float64", torch.float64), ("float32", torch.float32)):
        rng = np.random.default_rng(1)
        net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
        net = net.to(tdtype)
        arrays = {}
        with torch.no_grad():
            for name, p in net.named_parameters():
                value = rng.normal(scale=0.5, size=tuple(p.shape)).astype(dtype)
                p.copy_(torch.from_numpy(value))
                arrays[f"param/{name}"] = value
        x = rng.standard_normal((4, 5)).astype(dtype)
        dy = rng.standard_normal((4, 3)).astype(dtype)
        tx = t(x, True)
        ty = net(tx)
        ty.backward(t(dy))
        arrays.update({"x": x, "dy": dy, "y": n(ty), "dx": n(tx.grad)})
        arrays.update({f"grad/{name}": n(p.grad) for name, p in net.named_parameters()})
        fx.add({"name": dtype, "layers": ["linear 5->7", "tanh", "linear 7->3"]}, arrays)
    return fx


# ---------------------------------------------------------------- losses

def losses():
    fx = Fixture("losses")
    rng = np.random.default_rng(2)
    case_id = 0

    def run(loss, kwargs, pred, target, dtype="float64", tdtype=torch.float64,
            reductions=("mean", "sum", "none")):
        nonlocal case_id
        for reduction in reductions:
            case_id += 1
            pred = np.asarray(pred, dtype=dtype)
            tp = t(pred, True)
            ttarget = t(target)
            if ttarget.dtype.is_floating_point:
                ttarget = ttarget.to(tdtype)
            tk = {k: (t(v).to(tdtype) if isinstance(v, list) else v) for k, v in kwargs.items()}
            value = getattr(torch.nn, loss)(reduction=reduction, **tk)(tp, ttarget)
            dloss = (rng.standard_normal(tuple(value.shape)).astype(dtype) if reduction == "none"
                     else np.asarray(1.0, dtype=dtype))
            value.backward(t(dloss) if reduction == "none" else None)
            fx.add({"name": f"{loss}-{case_id}", "loss": loss, "kwargs": kwargs,
                    "reduction": reduction, "dtype": dtype},
                   {"pred": pred, "target": target, "dloss": dloss, "loss": n(value),
                    "dpred": n(tp.grad)})

    pred, target = 3 * rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    target[0, :2] = pred[0, :2]  # ties: L1's gradient there is 0
    run("MSELoss", {}, pred, target)
    run("MSELoss", {}, pred, target, "float32", torch.float32)
    run("L1Loss", {}, pred, target)
    run("HuberLoss", {}, pred, target)
    run("HuberLoss", {"delta": 0.5}, pred, target)

    logits = 3 * rng.standard_normal((6, 4))
    labels = np.array([0, 3, 1, 1, 2, 3])
    weight = [0.5, 2.0, 1.0, 3.0]
    ignored = labels.copy()
    ignored[[1, 4]] = -100
    probs = rng.dirichlet(np.ones(4), size=6)
    run("CrossEntropyLoss", {}, logits, labels)
    run("CrossEntropyLoss", {}, logits, labels, "float32", torch.float32)
    run("CrossEntropyLoss", {"weight": weight}, logits, labels)
    run("CrossEntropyLoss", {}, logits, ignored)
    run("CrossEntropyLoss", {"ignore_index": 1}, logits, labels)
    run("CrossEntropyLoss", {"label_smoothing": 0.1}, logits, labels)
    run("CrossEntropyLoss", {"weight": weight, "label_smoothing": 0.2}, logits, ignored)
    run("CrossEntropyLoss", {}, logits, probs)
    run("CrossEntropyLoss", {"weight": weight, "label_smoothing": 0.1}, logits, probs)
    huge = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, -1e4], [-1e4, 0.0, 1e4]])
    run("CrossEntropyLoss", {}, huge, np.array([0, 1, 0]))
    log_probs = n(F.log_softmax(t(logits), dim=1))
    run("NLLLoss", {}, log_probs, labels)
    run("NLLLoss", {"weight": weight}, log_probs, ignored)
    run("NLLLoss", {"ignore_index": 3}, log_probs, labels)

    scores = 4 * rng.standard_normal((5, 3))
    scores[0] = [800.0, -800.0, 0.0]
    bits = (rng.random((5, 3)) < 0.5).astype(float)
    soft = rng.random((5, 3))
    run("BCEWithLogitsLoss", {}, scores, bits)
    run("BCEWithLogitsLoss", {}, scores, soft, "float32", torch.float32)
    run("BCEWithLogitsLoss", {"pos_weight": [3.0, 0.5, 1.0]}, scores, soft)
    run("BCEWithLogitsLoss", {"weight": [2.0, 1.0, 0.25], "pos_weight": [3.0, 0.5, 1.0]}, scores, bits)

    # round 2: SmoothL1Loss, BCELoss, KLDivLoss, and (N, C, d1, ...) and unbatched class scores
    run("SmoothL1Loss", {}, pred, target)
    run("SmoothL1Loss", {"beta": 0.5}, pred, target)
    run("SmoothL1Loss", {"beta": 0.0}, pred, target)
    run("SmoothL1Loss", {"beta": 2.0}, pred, target, "float32", torch.float32)
    probs_in = rng.random((4, 3))
    probs_in[0] = [0.0, 1.0, 1e-30]  # the clamped logs, and the floor in the gradient
    probs_t = rng.random((4, 3))
    probs_t[0] = [1.0, 0.0, 0.5]
    run("BCELoss", {}, probs_in, probs_t)
    run("BCELoss", {"weight": [2.0, 1.0, 0.25]}, probs_in, probs_t)
    run("BCELoss", {}, probs_in, probs_t, "float32", torch.float32)
    kl_pred = n(F.log_softmax(t(3 * rng.standard_normal((4, 5))), dim=1))
    kl_target = rng.dirichlet(np.ones(5), size=4)
    kl_target[0, :2] = [0.0, kl_target[0, 0] + kl_target[0, 1]]  # 0 log 0 counts as 0
    all_means = ("mean", "batchmean", "sum", "none")
    run("KLDivLoss", {}, kl_pred, kl_target, reductions=all_means)
    run("KLDivLoss", {"log_target": True}, kl_pred, np.log(kl_target[::-1] + 0.01), reductions=all_means)
    run("KLDivLoss", {}, kl_pred, kl_target, "float32", torch.float32, reductions=all_means)
    run("KLDivLoss", {}, kl_pred[0], kl_target[0], reductions=all_means)  # unbatched

    spatial = 2 * rng.standard_normal((2, 4, 3, 2))  # (N, C, d1, d2)
    spatial_labels = rng.integers(0, 4, size=(2, 3, 2))
    spatial_ignored = spatial_labels.copy()
    spatial_ignored[0, 1, 1] = spatial_ignored[1, 2, 0] = -100
    spatial_probs = np.moveaxis(rng.dirichlet(np.ones(4), size=(2, 3, 2)), -1, 1)
    run("CrossEntropyLoss", {}, spatial, spatial_labels)
    run("CrossEntropyLoss", {"weight": weight, "label_smoothing": 0.15}, spatial, spatial_ignored)
    run("CrossEntropyLoss", {"ignore_index": 2}, spatial[:, :, :, 0], spatial_labels[:, :, 0])
    run("CrossEntropyLoss", {"weight": weight, "label_smoothing": 0.1, "ignore_index": -1},
        spatial, spatial_probs)
    run("CrossEntropyLoss", {}, spatial, spatial_labels, "float32", torch.float32)
    run("CrossEntropyLoss", {"weight": weight, "label_smoothing": 0.2}, logits[0], np.array(3))
    run("CrossEntropyLoss", {"label_smoothing": 0.1}, logits[0], probs[0])
    spatial_log_probs = n(F.log_softmax(t(spatial), dim=1))
    run("NLLLoss", {"weight": weight}, spatial_log_probs, spatial_ignored)
    run("NLLLoss", {"ignore_index": 0}, spatial_log_probs, spatial_labels)
    run("NLLLoss", {"weight": weight}, log_probs[1], np.array(2))

    # which ignore_index PyTorch refuses together with class probabilities
    values = [-100, -1, 0, 2, 7]
    refused = []
    for value in values:
        try:
            F.cross_entropy(t(logits), t(probs), ignore_index=value)
            refused.append(False)
        except RuntimeError:
            refused.append(True)
    fx.add({"name": "probabilities-ignore_index", "ignore_index": values, "refused": refused})
    return fx


# ---------------------------------------------------------------- optimizers

SHAPES = [(3, 4), (4,)]
STEPS = 7
# which parameter has no gradient (grad None) at which step
MISSING = {2: [1], 4: [0], 5: [0, 1]}

OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "maximize": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "betas": [0.0, 0.0]}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "alpha": 0.9, "maximize": True}),
]


def optimizers():
    fx = Fixture("optim")
    rng = np.random.default_rng(3)
    start = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    arrays = {f"start/{i}": s for i, s in enumerate(start)}
    arrays.update({f"grad/{k}/{i}": g for k, step in enumerate(grads) for i, g in enumerate(step)})
    fx.add({"name": "inputs", "missing": {str(k): v for k, v in MISSING.items()}, "steps": STEPS},
           arrays)

    def trajectory(make, dtype):
        params = [torch.tensor(s.astype(dtype), requires_grad=True) for s in start]
        opt = make(params)
        out = []
        for k in range(STEPS):
            opt.zero_grad()
            for i, (p, g) in enumerate(zip(params, grads[k])):
                p.grad = None if i in MISSING.get(k, []) else torch.tensor(g.astype(dtype))
            opt.step()
            out.append([n(p) for p in params])
        return {f"param/{i}": np.stack([step[i] for step in out]) for i in range(len(params))}

    for j, (cls, kwargs) in enumerate(OPTIMIZERS):
        for dtype in ("float64", "float32") if j in (1, 5, 13) else ("float64",):
            kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items()}
            make = lambda ps, cls=cls, kw=kw: getattr(torch.optim, cls)(ps, foreach=False, **kw)
            fx.add({"name": f"{cls}-{j}-{dtype}", "optimizer": cls, "kwargs": kwargs,
                    "dtype": dtype}, trajectory(make, dtype))
    groups = [{"params": [0], "momentum": 0.9}, {"params": [1], "lr": 0.01, "nesterov": False}]

    def grouped(ps):
        return torch.optim.SGD([{**g, "params": [ps[i] for i in g["params"]]} for g in groups],
                               lr=0.1, foreach=False)
    fx.add({"name": "SGD-groups", "optimizer": "SGD", "kwargs": {"lr": 0.1}, "groups": groups,
            "dtype": "float64"}, trajectory(grouped, "float64"))
    return fx


# ---------------------------------------------------------------- schedulers

SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}, "SGD", 10),
    ("MultiStepLR", {"milestones": [2, 5, 5, 8], "gamma": 0.3}, "SGD", 10),
    ("ExponentialLR", {"gamma": 0.9}, "SGD", 8),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}, "SGD", 16),
    ("CosineAnnealingLR", {"T_max": 3}, "Adam", 8),
    ("LinearLR", {}, "SGD", 8),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 4}, "SGD", 7),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 12}, "SGD", 11),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "epochs": 3, "steps_per_epoch": 4,
                    "anneal_strategy": "linear"}, "Adam", 11),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 20, "pct_start": 0.25, "three_phase": True,
                    "div_factor": 10.0, "final_div_factor": 100.0}, "SGD", 19),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 10, "cycle_momentum": False}, "RMSprop", 9),
]


def schedulers():
    fx = Fixture("lr_scheduler")
    for j, (cls, kwargs, opt_name, steps) in enumerate(SCHEDULERS):
        params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
        opt_kwargs = {"SGD": {"lr": 0.1, "momentum": 0.9}, "Adam": {"lr": 0.1},
                      "RMSprop": {"lr": 0.1}}[opt_name]
        opt = getattr(torch.optim, opt_name)([{"params": [params[0]]},
                                              {"params": [params[1]], "lr": 0.05}], **opt_kwargs)
        sched = getattr(torch.optim.lr_scheduler, cls)(opt, **kwargs)
        lrs, momenta = [sched.get_last_lr()], [momentum_of(opt)]
        for _ in range(steps):
            opt.step()  # no gradients: nothing moves, but the order is PyTorch's
            sched.step()
            lrs.append(sched.get_last_lr())
            momenta.append(momentum_of(opt))
        fx.add({"name": f"{cls}-{j}", "scheduler": cls, "kwargs": kwargs, "optimizer": opt_name,
                "optimizer_kwargs": opt_kwargs, "group_lrs": [None, 0.05], "lrs": lrs,
                "momenta": momenta})
    return fx


def momentum_of(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


# ---------------------------------------------------------------- clipping

def clipping():
    fx = Fixture("clip")
    rng = np.random.default_rng(4)
    base = [3 * rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal(2)]
    with_inf = [g.copy() for g in base]
    with_inf[1][2] = np.inf
    cases = [
        ("norm2", base, [0, 1, 2], {"max_norm": 1.0}),
        ("no-clip", base, [0, 1, 2], {"max_norm": 100.0}),
        ("inf-norm", base, [0, 1, 2], {"max_norm": 0.5, "norm_type": "inf"}),
        ("norm1", base, [0, 1, 2], {"max_norm": 2.0, "norm_type": 1.0}),
        ("norm3", base, [0, 1, 2], {"max_norm": 2.0, "norm_type": 3.0}),
        ("grad-none", base, [0, 2], {"max_norm": 1.0}),
        ("float32", [g.astype(np.float32) for g in base], [0, 1, 2], {"max_norm": 1.0}),
        ("nonfinite", with_inf, [0, 1, 2], {"max_norm": 1.0}),
        ("value", base, [0, 1, 2], {"clip_value": 0.5}),
    ]
    for name, grads, present, kwargs in cases:
        params = [torch.zeros(g.shape, dtype=torch.float64 if g.dtype == np.float64 else torch.float32,
                              requires_grad=True) for g in grads]
        for i, (p, g) in enumerate(zip(params, grads)):
            p.grad = t(g).clone() if i in present else None
        tk = {k: (math.inf if v == "inf" else v) for k, v in kwargs.items()}
        if "clip_value" in kwargs:
            torch.nn.utils.clip_grad_value_(params, foreach=False, **tk)
            total = None
        else:
            total = float(torch.nn.utils.clip_grad_norm_(params, foreach=False, **tk))
        arrays = {f"grad/{i}": g for i, g in enumerate(grads)}
        arrays.update({f"clipped/{i}": n(p.grad) for i, p in enumerate(params) if i in present})
        fx.add({"name": name, "present": present, "kwargs": kwargs,
                "total_norm": None if total is None or math.isfinite(total) else str(total),
                "total_norm_value": total if total is not None and math.isfinite(total) else None},
               arrays)
    return fx


# ---------------------------------------------------------------- initializers

INIT = torch.nn.init
MOMENTS = [
    ("uniform_", (256, 128), {"a": -0.3, "b": 0.7}),
    ("normal_", (256, 128), {"mean": 0.5, "std": 2.0}),
    ("trunc_normal_", (256, 128), {}),
    ("trunc_normal_", (256, 128), {"mean": 0.1, "std": 0.5, "a": -0.2, "b": 0.9}),
    ("xavier_uniform_", (256, 128), {"gain": 2.0}),
    ("xavier_normal_", (256, 128), {}),
    ("kaiming_uniform_", (256, 128), {}),
    ("kaiming_uniform_", (256, 128), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (16, 8, 3, 3), {"mode": "fan_out"}),
    ("kaiming_normal_", (256, 128), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (256, 128), {"a": 0.2, "mode": "FAN_IN"}),
    ("kaiming_normal_", (256, 128), {"nonlinearity": "tanh", "a": 0.5}),
    ("orthogonal_", (128, 256), {"gain": 1.5}),
]
QUANTILES = [0.01, 0.1, 0.5, 0.9, 0.99]
ERRORS = [
    ("xavier_uniform_", (5,), {}), ("xavier_normal_", (), {}), ("kaiming_uniform_", (5,), {}),
    ("kaiming_normal_", (4, 3), {"mode": "fan_avg"}), ("kaiming_uniform_", (4, 3), {"nonlinearity": "swish"}),
    ("eye_", (3,), {}), ("eye_", (2, 2, 2), {}), ("orthogonal_", (4,), {}),
    ("uniform_", (3,), {"a": 1.0, "b": 0.0}), ("normal_", (3,), {"std": -1.0}),
    ("kaiming_uniform_", (0, 3), {}), ("kaiming_normal_", (0,), {}), ("xavier_uniform_", (0, 3), {}),
    ("orthogonal_", (0, 3), {}), ("eye_", (0, 3), {}), ("uniform_", (0,), {}), ("normal_", (2, 0), {}),
    ("trunc_normal_", (0, 2), {}), ("constant_", (0,), {"val": 1.0}), ("orthogonal_", (3, 0), {}),
]
GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]


def initializers():
    fx = Fixture("init")
    gen = torch.Generator().manual_seed(5)
    for fn, shape, kwargs in MOMENTS:
        w = getattr(INIT, fn)(torch.empty(shape, dtype=torch.float64), generator=gen, **kwargs)
        v = n(w).ravel()
        case = {"name": f"moments/{fn}/{shape}/{sorted(kwargs.items())}", "function": fn,
                "shape": list(shape), "kwargs": kwargs, "count": v.size, "mean": float(v.mean()),
                "var": float(v.var()), "min": float(v.min()), "max": float(v.max()),
                "quantiles": [float(q) for q in np.quantile(v, QUANTILES)]}
        if fn == "orthogonal_":
            m = n(w).reshape(shape[0], -1)
            case["gram_diagonal"] = float(np.mean(np.diag(m @ m.T)))  # rows orthogonal, norm gain
            case["gram_offdiagonal_max"] = float(np.max(np.abs(m @ m.T - np.diag(np.diag(m @ m.T)))))
        fx.add(case)
    arrays = {}
    for fn, shape, kwargs in [("eye_", (3, 5), {}), ("eye_", (4, 2), {}), ("constant_", (2, 3), {"val": 0.3}),
                              ("ones_", (2, 2), {}), ("zeros_", (3,), {})]:
        arrays[f"{fn}{shape}"] = n(getattr(INIT, fn)(torch.full(shape, 7.0, dtype=torch.float64), **kwargs))
        fx.add({"name": f"exact/{fn}/{shape}", "function": fn, "shape": list(shape), "kwargs": kwargs,
                "key": f"{fn}{shape}"})
    for fn, shape, kwargs in ERRORS:
        try:
            getattr(INIT, fn)(torch.empty(shape, dtype=torch.float64), **kwargs)
            raised = None
        except Exception as e:  # noqa: BLE001 - recording which exception torch raises
            raised = type(e).__name__
        fx.add({"name": f"errors/{fn}/{shape}/{sorted(kwargs.items())}", "function": fn,
                "shape": list(shape), "kwargs": kwargs, "raises": raised})
    for nonlinearity, param in GAINS:
        fx.add({"name": f"gain/{nonlinearity}/{param}", "nonlinearity": nonlinearity, "param": param,
                "gain": float(INIT.calculate_gain(nonlinearity, param))})
    orth = n(INIT.orthogonal_(torch.empty(4, 2, 3, dtype=torch.float64), gain=2.0, generator=gen))
    flat = orth.reshape(4, 6)
    arrays["orthogonal-gram"] = flat @ flat.T
    fx.add({"name": "exact/orthogonal_/(4, 2, 3)", "function": "orthogonal_", "shape": [4, 2, 3],
            "kwargs": {"gain": 2.0}, "key": "orthogonal-gram"})
    fx.arrays.update(arrays)
    return fx


def main(outdir):
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # one summation order for BLAS: see the module docstring
    warnings.simplefilter("ignore", UserWarning)  # torch's note that a zero-element fill is a no-op
    for make in (activations, linear, losses, optimizers, schedulers, clipping, initializers):
        make().write(outdir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent)
