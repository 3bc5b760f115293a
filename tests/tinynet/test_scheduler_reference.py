"""tinynet's schedulers and optimizer arguments against PyTorch's numbers (make_scheduler_fixtures.py)."""

import sys
import warnings

import numpy as np
import pytest

import tinynet as tn
from tinynet.optim import lr_scheduler
from test_torch_reference import REFERENCE, reference

sys.path.insert(0, str(REFERENCE))  # scheduler_specs.py, shared with the fixture script, imports neither library
from scheduler_specs import build  # noqa: E402

SEQUENCES, _ = reference("lr_scheduler_sequences")
PLATEAU, _ = reference("plateau")
PARAMS, PARAM_ARRAYS = reference("optim_params")


def optimizer(name):
    params = [tn.Parameter(np.zeros(2)), tn.Parameter(np.zeros(3))]
    kwargs = {"SGD": {"lr": 0.1, "momentum": 0.9}, "Adam": {"lr": 0.1}}[name]
    return getattr(tn.optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], **kwargs)


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


@pytest.mark.parametrize("case", SEQUENCES, ids=[c["name"] for c in SEQUENCES])
def test_schedule_matches_pytorch(case):
    """Every rate, step for step, through state_dict round trips, last_epoch= and step(epoch)."""
    opt = optimizer(case["optimizer"])
    sched = build(lr_scheduler, opt, case["spec"])
    lrs, moms = [sched.get_last_lr()], [momenta(opt)]
    for k, epoch in enumerate(case["epochs"] or [None] * case["steps"], start=1):
        opt.step()
        if epoch is None:
            sched.step()
        else:
            with pytest.warns(UserWarning, match="deprecated") if case["spec"]["scheduler"] != \
                    "CosineAnnealingWarmRestarts" else warnings.catch_warnings():
                sched.step(epoch)
        lrs.append(sched.get_last_lr())
        moms.append(momenta(opt))
        if k == case["resume"]:
            saved_opt, saved = opt.state_dict(), sched.state_dict()
            opt = optimizer(case["optimizer"])
            sched = build(lr_scheduler, opt, case["spec"], fresh=True)
            opt.load_state_dict(saved_opt)
            sched.load_state_dict(saved)
        if k == case["last_epoch_at"]:
            sched = build(lr_scheduler, opt, case["spec"], last_epoch=k)
            lrs.append(sched.get_last_lr())
            moms.append(momenta(opt))
    np.testing.assert_allclose(lrs, case["lrs"], rtol=1e-14, atol=1e-17)
    if case["momenta"] is not None:
        np.testing.assert_allclose(moms, case["momenta"], rtol=1e-14, atol=0)


def test_every_new_scheduler_is_compared_with_pytorch():
    names = {c["spec"]["scheduler"] for c in SEQUENCES}
    assert names >= {"LambdaLR", "MultiplicativeLR", "ConstantLR", "PolynomialLR", "CyclicLR",
                     "CosineAnnealingWarmRestarts", "SequentialLR", "ChainedScheduler"}
    assert {c["spec"]["scheduler"] for c in SEQUENCES if c["resume"]} >= names - {
        "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR"}


@pytest.mark.parametrize("case", PLATEAU, ids=[c["name"] for c in PLATEAU])
def test_reduce_lr_on_plateau_matches_pytorch(case):
    opt = optimizer("SGD")
    sched = lr_scheduler.ReduceLROnPlateau(opt, **case["kwargs"])
    lrs, best, bad = [sched.get_last_lr()], [], []
    for k, metric in enumerate(case["metrics"], start=1):
        opt.step()
        sched.step(metric)
        lrs.append(sched.get_last_lr())
        best.append(sched.best)
        bad.append(sched.num_bad_epochs)
        if k == case["resume"]:
            saved_opt, saved = opt.state_dict(), sched.state_dict()
            opt = optimizer("SGD")
            sched = lr_scheduler.ReduceLROnPlateau(opt, **case["kwargs"])
            opt.load_state_dict(saved_opt)
            sched.load_state_dict(saved)
    np.testing.assert_allclose(lrs, case["lrs"], rtol=1e-14, atol=0)
    assert best == case["best"] and bad == case["num_bad_epochs"]


INPUTS = next(c for c in PARAMS if c["name"] == "inputs")


def as_arguments(case):
    """The case's hyperparameters, those PyTorch got as 0-d tensors given as 0-d numpy arrays."""
    return {k: (tuple(np.asarray(x) for x in v) if isinstance(v, list) else np.asarray(v))
            if k in case["zero_d"] else (tuple(v) if isinstance(v, list) else v)
            for k, v in case["kwargs"].items()}


@pytest.mark.parametrize("case", [c for c in PARAMS if "optimizer" in c], ids=lambda c: c["name"])
def test_optimizer_arguments_match_pytorch(case):
    """Named parameters, 0-d array hyperparameters, a hand-set grad without requires_grad."""
    params = {k: tn.Parameter(PARAM_ARRAYS[f"inputs/start/{k}"].copy(),
                              requires_grad=not case["name"].startswith("no-requires-grad"))
              for k in INPUTS["names"]}
    if case["layout"] == "named":
        given = list(params.items())
    elif case["layout"] == "named-groups":
        given = [{"params": [("w", params["w"])]}, {"params": [("b", params["b"])], "lr": 0.1}]
    else:
        given = list(params.values())
    opt = getattr(tn.optim, case["optimizer"])(given, **as_arguments(case))
    for i in range(INPUTS["steps"]):
        opt.zero_grad()
        for k, p in params.items():
            p.grad = PARAM_ARRAYS[f"inputs/grad/{i}/{k}"]
        opt.step()
        for k, p in params.items():
            np.testing.assert_allclose(p.data, PARAM_ARRAYS[f"{case['name']}/param/{k}"][i],
                                       rtol=1e-12, atol=1e-15, err_msg=f"{k} at step {i}")
    groups = [{"param_names": g.get("param_names"), "params": g["params"]}
              for g in opt.state_dict()["param_groups"]]
    assert groups == case["state_dict_groups"]


def test_duplicate_parameters_warn_as_pytorch():
    case = next(c for c in PARAMS if c["name"] == "duplicate")
    [(category, message)] = case["warnings"]
    w = tn.Parameter(np.zeros(2))
    with pytest.warns(UserWarning, match="duplicate parameters") as record:
        opt = tn.optim.SGD([w, w], lr=0.1)
    assert category == "UserWarning" and "duplicate parameters" in message
    assert len(record) == 1
    # deliberately unlike PyTorch (which keeps both and steps w twice): a tied weight is updated once
    assert case["params_in_group"] == 2 and opt.param_groups[0]["params"] == [w]
