"""PyTorch's numbers for the schedulers of round two and for how optimizers take their parameters.

Run with a Python that has torch (tinynet is not needed): ``python
tests/reference/make_scheduler_fixtures.py [OUTDIR]``. It writes, as
make_fixtures.py does (and with its ``Fixture``, one thread, float64):

- ``lr_scheduler_sequences.json``: each case builds a scheduler (from a
  spec both libraries read with scheduler_specs.py, where functions are named) on a
  two-group optimizer and records every group's rate (and momentum, for the
  cyclic ones) over the steps; some cases save the optimizer's and the
  scheduler's ``state_dict`` mid-way and continue with fresh ones built the
  same way (callable objects built with other numbers, so their saved
  ``__dict__`` must be what continues), some rebuild the scheduler with
  ``last_epoch=``, some call ``step(epoch)``;
- ``plateau.json``: ReduceLROnPlateau driven by a scripted metric sequence;
- ``optim_params.json``/``.npz``: optimizers given named parameters, 0-d
  hyperparameters, a duplicated parameter, and a gradient set by hand on a
  parameter that does not require one.
"""

import pathlib
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_fixtures import Fixture, n  # noqa: E402  (the same writer and layout)
from scheduler_specs import build  # noqa: E402  (how the tests build a case too)

LRS = torch.optim.lr_scheduler


def optimizer(name):
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    kwargs = {"SGD": {"lr": 0.1, "momentum": 0.9}, "Adam": {"lr": 0.1}}[name]
    return getattr(torch.optim, name)([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}],
                                      **kwargs)


def momentum_of(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def one(cls, steps=30, optim="SGD", resume=None, last_epoch_at=None, epochs=None, **kwargs):
    """A case: ``cls(**kwargs)``; ``resume`` saves and reloads at that step; ``epochs`` are step(epoch) calls."""
    return {"spec": {"scheduler": cls, "kwargs": kwargs}, "steps": steps, "optimizer": optim,
            "resume": resume, "last_epoch_at": last_epoch_at, "epochs": epochs}


def composite(cls, schedulers, steps=30, resume=None, **kwargs):
    return {"spec": {"scheduler": cls, "kwargs": kwargs, "schedulers": schedulers}, "steps": steps,
            "optimizer": "SGD", "resume": resume, "last_epoch_at": None, "epochs": None}


def inner(cls, **kwargs):
    return {"scheduler": cls, "kwargs": kwargs}


CASES = [
    one("LambdaLR", lr_lambda="decay"),
    one("LambdaLR", lr_lambda=["warmup", "decay"], resume=12),
    one("LambdaLR", lr_lambda="scale_0.9", resume=10),
    one("LambdaLR", lr_lambda="decay", last_epoch_at=7),
    one("MultiplicativeLR", lr_lambda="shrink"),
    one("MultiplicativeLR", lr_lambda=["halve_every_4", "shrink"], resume=9),
    one("MultiplicativeLR", lr_lambda="scale_1.1", resume=6),
    one("ConstantLR"),
    one("ConstantLR", factor=0.25, total_iters=8, resume=4),
    one("ConstantLR", factor=1.0, total_iters=0),
    one("ConstantLR", factor=0.5, total_iters=6, epochs=[0, 1, 5, 6, 2, 9]),
    one("PolynomialLR"),
    one("PolynomialLR", total_iters=20, power=2.0, resume=11),
    one("PolynomialLR", total_iters=10, power=0.5, last_epoch_at=4),
    one("PolynomialLR", total_iters=8, power=1.5, epochs=[0, 3, 8, 12, 4]),
    one("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4),
    one("CyclicLR", base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3, step_size_down=5,
        mode="triangular2", resume=13),
    one("CyclicLR", base_lr=0.001, max_lr=0.01, step_size_up=5, mode="exp_range", gamma=0.97,
        optim="Adam", base_momentum=0.85, max_momentum=0.95),
    one("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4, scale_fn="half_per_cycle",
        cycle_momentum=False),
    one("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn="scale_0.9",
        scale_mode="iterations", resume=8),
    one("CosineAnnealingWarmRestarts", T_0=5),
    one("CosineAnnealingWarmRestarts", T_0=3, T_mult=2, eta_min=0.001, resume=10),
    one("CosineAnnealingWarmRestarts", T_0=4, T_mult=1, eta_min=0.01, last_epoch_at=6),
    one("CosineAnnealingWarmRestarts", T_0=3, T_mult=2, epochs=[0, 0.5, 1.25, 3, 4.5, 9, 21.5, 2]),
    # round-one schedulers: what PyTorch accepts that tinynet refused, last_epoch= and step(epoch)
    one("MultiStepLR", milestones=[0, 3, 3, 7], gamma=0.5),
    one("LinearLR", start_factor=0.5, total_iters=0),
    one("StepLR", step_size=4, gamma=0.5, last_epoch_at=6),
    one("StepLR", step_size=3, gamma=0.5, epochs=[0, 2, 3, 7, 1]),
    one("MultiStepLR", milestones=[2, 5, 5], gamma=0.5, epochs=[0, 5, 1, 8]),
    one("ExponentialLR", gamma=0.9, last_epoch_at=5),
    one("ExponentialLR", gamma=0.9, epochs=[0, 4, 2]),
    one("CosineAnnealingLR", T_max=6, eta_min=0.01, last_epoch_at=4),
    one("CosineAnnealingLR", T_max=6, epochs=[0, 3, 6, 9]),
    one("LinearLR", start_factor=0.2, total_iters=6, last_epoch_at=3),
    one("LinearLR", start_factor=0.2, end_factor=0.8, total_iters=6, epochs=[0, 2, 6, 10]),
    one("OneCycleLR", steps=19, max_lr=0.5, total_steps=20, last_epoch_at=8),
    composite("SequentialLR", [inner("ConstantLR", factor=0.5, total_iters=3),
                               inner("ExponentialLR", gamma=0.9)], milestones=[4]),
    composite("SequentialLR", [inner("LinearLR", start_factor=0.1, total_iters=5),
                               inner("CosineAnnealingLR", T_max=10, eta_min=0.001)], milestones=[5],
              resume=14),
    composite("SequentialLR", [inner("LambdaLR", lr_lambda="warmup"),
                               inner("MultiplicativeLR", lr_lambda="shrink"),
                               inner("StepLR", step_size=3, gamma=0.5)], milestones=[3, 8]),
    composite("SequentialLR", [inner("PolynomialLR", total_iters=4),
                               inner("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=3)],
              milestones=[6]),
    composite("ChainedScheduler", [inner("ConstantLR", factor=0.1, total_iters=2),
                                   inner("ExponentialLR", gamma=0.9)]),
    composite("ChainedScheduler", [inner("MultiStepLR", milestones=[4, 9], gamma=0.5),
                                   inner("LinearLR", start_factor=0.3, total_iters=6),
                                   inner("LambdaLR", lr_lambda="scale_0.9")], resume=7),
]


def run_case(case):
    opt = optimizer(case["optimizer"])
    sched = build(LRS, opt, case["spec"])
    lrs, momenta = [sched.get_last_lr()], [momentum_of(opt)]
    epochs = case["epochs"] or [None] * case["steps"]
    for k, epoch in enumerate(epochs, start=1):
        opt.step()  # no gradients: nothing moves, but the order is PyTorch's
        if epoch is None:
            sched.step()
        else:
            sched.step(epoch)
        lrs.append(sched.get_last_lr())
        momenta.append(momentum_of(opt))
        if k == case["resume"]:
            saved_opt, saved = opt.state_dict(), sched.state_dict()
            opt = optimizer(case["optimizer"])
            sched = build(LRS, opt, case["spec"], fresh=True)
            opt.load_state_dict(saved_opt)
            sched.load_state_dict(saved)
        if k == case["last_epoch_at"]:  # resuming at epoch k: building it steps to epoch k + 1
            sched = build(LRS, opt, case["spec"], last_epoch=k)
            lrs.append(sched.get_last_lr())
            momenta.append(momentum_of(opt))
    return [list(map(float, row)) for row in lrs], momenta


def sequences():
    fx = Fixture("lr_scheduler_sequences")
    for j, case in enumerate(CASES):
        lrs, momenta = run_case(case)
        cyclic = case["spec"]["scheduler"] in ("CyclicLR", "OneCycleLR")
        fx.add({"name": f"{case['spec']['scheduler']}-{j}", **case, "lrs": lrs,
                "momenta": momenta if cyclic else None})
    return fx


# ---------------------------------------------------------------- ReduceLROnPlateau

METRICS = [1.0, 0.8, 0.7, 0.7, 0.70001, 0.69995, 0.69, 0.69, 0.69, 0.5, 0.52, 0.51, 0.51, 0.5, 0.5,
           0.49, 0.4999, 0.3, 0.3, 0.3, 0.31, 0.29, 0.29, 0.29, 0.29, 0.29, 0.1, 0.12, 0.1, 0.1]
PLATEAU = [
    {"patience": 2},
    {"patience": 1, "factor": 0.5, "threshold": 0.01},
    {"patience": 1, "threshold_mode": "abs", "threshold": 0.005},
    {"mode": "max", "patience": 2, "factor": 0.5},
    {"mode": "max", "patience": 1, "threshold_mode": "abs", "threshold": 0.0},
    {"patience": 1, "cooldown": 3, "factor": 0.5},
    {"patience": 0, "factor": 0.5, "min_lr": 0.02},
    {"patience": 0, "factor": 0.5, "min_lr": [0.03, 0.001]},
    {"patience": 0, "factor": 0.9, "eps": 0.004},
    {"threshold": 0.0, "patience": 3, "cooldown": 1, "factor": 0.2},
]


def plateau():
    fx = Fixture("plateau")
    for j, kwargs in enumerate(PLATEAU):
        for resume in (None, 13):
            opt = optimizer("SGD")
            sched = LRS.ReduceLROnPlateau(opt, **kwargs)
            metrics = [-m for m in METRICS] if kwargs.get("mode") == "max" else METRICS
            lrs, best, bad = [sched.get_last_lr()], [], []
            for k, m in enumerate(metrics, start=1):
                opt.step()
                sched.step(m)
                lrs.append(sched.get_last_lr())
                best.append(sched.best)
                bad.append(sched.num_bad_epochs)
                if k == resume:
                    saved_opt, saved = opt.state_dict(), sched.state_dict()
                    opt = optimizer("SGD")
                    sched = LRS.ReduceLROnPlateau(opt, **kwargs)
                    opt.load_state_dict(saved_opt)
                    sched.load_state_dict(saved)
            fx.add({"name": f"plateau-{j}-resume{resume}", "kwargs": kwargs, "metrics": metrics,
                    "resume": resume, "lrs": lrs, "best": best, "num_bad_epochs": bad})
    return fx


# ---------------------------------------------------------------- how optimizers take parameters

SHAPES = {"w": (3, 2), "b": (2,)}
STEPS = 4


def optim_params():
    fx = Fixture("optim_params")
    rng = np.random.default_rng(6)
    start = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grads = [{k: rng.standard_normal(s) for k, s in SHAPES.items()} for _ in range(STEPS)]
    arrays = {f"start/{k}": v for k, v in start.items()}
    arrays.update({f"grad/{i}/{k}": v for i, step in enumerate(grads) for k, v in step.items()})
    fx.add({"name": "inputs", "steps": STEPS, "names": list(SHAPES)}, arrays)

    def trajectory(make, requires_grad=True):
        params = {k: torch.tensor(v, requires_grad=requires_grad) for k, v in start.items()}
        opt = make(params)
        out = {k: [] for k in params}
        for step in grads:
            opt.zero_grad()
            for k, p in params.items():
                p.grad = torch.tensor(step[k])
            opt.step()
            for k, p in params.items():
                out[k].append(n(p))
        groups = [{"param_names": g.get("param_names"), "params": g["params"]}
                  for g in opt.state_dict()["param_groups"]]
        return {f"param/{k}": np.stack(v) for k, v in out.items()}, groups

    zero_d = lambda v: torch.tensor(v)  # noqa: E731 - a 0-d tensor, float64 by default here
    cases = [
        ("named-sgd", "SGD", {"lr": 0.1, "momentum": 0.9}, "named", {}),
        ("named-adam-groups", "Adam", {"lr": 0.01}, "named-groups", {}),
        ("zero-d-adam", "Adam", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1},
         "plain", {"lr", "betas", "eps", "weight_decay"}),
        ("zero-d-adamw", "AdamW", {"lr": 0.02, "betas": [0.9, 0.999], "weight_decay": 0.05},
         "plain", {"lr", "betas", "weight_decay"}),
        ("zero-d-sgd", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
         "plain", {"lr", "momentum", "dampening", "weight_decay"}),
        ("zero-d-rmsprop", "RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5}, "plain",
         {"lr", "alpha", "momentum"}),
        ("no-requires-grad", "SGD", {"lr": 0.1, "momentum": 0.9}, "plain", set()),
        ("no-requires-grad-adam", "Adam", {"lr": 0.01}, "plain", set()),
    ]
    for name, cls, kwargs, layout, as_tensor in cases:
        def make(params, cls=cls, kwargs=kwargs, layout=layout, as_tensor=as_tensor):
            kw = {k: (tuple(zero_d(x) for x in v) if isinstance(v, list) else zero_d(v))
                  if k in as_tensor else (tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items()}
            if layout == "named":
                ps = list(params.items())
            elif layout == "named-groups":
                ps = [{"params": [("w", params["w"])]}, {"params": [("b", params["b"])], "lr": 0.1}]
            else:
                ps = list(params.values())
            return getattr(torch.optim, cls)(ps, foreach=False, **kw)
        traj, groups = trajectory(make, requires_grad=not name.startswith("no-requires-grad"))
        fx.add({"name": name, "optimizer": cls, "kwargs": kwargs, "layout": layout,
                "zero_d": sorted(as_tensor), "state_dict_groups": groups}, traj)

    w = torch.zeros(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt = torch.optim.SGD([w, w], lr=0.1)
    fx.add({"name": "duplicate", "warnings": [[c.category.__name__, str(c.message)] for c in caught],
            "params_in_group": len(opt.param_groups[0]["params"])})
    return fx


def main(outdir):
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # one summation order, as make_fixtures.py
    warnings.simplefilter("ignore", UserWarning)  # step(epoch)'s deprecation; the order-of-calls check
    for make in (sequences, plateau, optim_params):
        make().write(outdir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent)
