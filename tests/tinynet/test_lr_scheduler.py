import re

import numpy as np
import pytest

import tinynet as tn
from tinynet.optim import lr_scheduler
from test_torch_reference import reference

CASES, _ = reference("lr_scheduler")


def optimizer(name, kwargs):
    params = [tn.Parameter(np.zeros(2)), tn.Parameter(np.zeros(3))]
    return getattr(tn.optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], **kwargs)


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_pytorch_epoch_for_epoch(case):
    opt = optimizer(case["optimizer"], case["optimizer_kwargs"])
    sched = getattr(lr_scheduler, case["scheduler"])(opt, **case["kwargs"])
    lrs, moms = [sched.get_last_lr()], [momenta(opt)]
    for _ in range(len(case["lrs"]) - 1):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        moms.append(momenta(opt))
    # PyTorch's recursive updates, in the same order: equal to the last bit or nearly
    np.testing.assert_allclose(lrs, case["lrs"], rtol=1e-14, atol=0)
    if case["kwargs"].get("cycle_momentum", True) and case["scheduler"] == "OneCycleLR":
        np.testing.assert_allclose(moms, case["momenta"], rtol=1e-14, atol=0)


def test_every_scheduler_is_compared_with_pytorch():
    assert {c["scheduler"] for c in CASES} == {"StepLR", "MultiStepLR", "ExponentialLR",
                                               "CosineAnnealingLR", "LinearLR", "OneCycleLR"}


def test_state_dict_resumes_the_schedule():
    opt = optimizer("SGD", {"lr": 0.1, "momentum": 0.9})
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    for _ in range(4):
        sched.step()
    saved = sched.state_dict()
    rest = []
    for _ in range(5):
        sched.step()
        rest.append(sched.get_last_lr())
    other_opt = optimizer("SGD", {"lr": 0.1, "momentum": 0.9})
    other_opt.load_state_dict(opt.state_dict())
    other = lr_scheduler.OneCycleLR(other_opt, max_lr=1.0, total_steps=10)
    other.load_state_dict(saved)
    other_opt.param_groups[0].update(max_lr=1.0)  # as after loading the optimizer's own state at step 4
    resumed = []
    for _ in range(5):
        other.step()
        resumed.append(other.get_last_lr())
    assert resumed == rest
    assert saved["last_epoch"] == 4 and "optimizer" not in saved


def test_scheduler_sets_the_optimizers_rate():
    opt = optimizer("Adam", {"lr": 0.1})
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    sched.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr() == [0.05, 0.025]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be a positive integer, got 0"),
    (lambda o: lr_scheduler.ExponentialLR(object(), gamma=0.5), TypeError,
     "ExponentialLR: expected a tinynet optimizer, got object"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=3), TypeError, "MultiStepLR: milestones must be a list of epochs, got 3"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "LinearLR: start_factor must be in (0, 1], got 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError,
     "OneCycleLR: give total_steps, or epochs and steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=[1.0], total_steps=3), ValueError,
     "OneCycleLR: expected 2 values of max_lr, one per parameter group, got 1"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=3, anneal_strategy="cosine"), ValueError,
     "OneCycleLR: anneal_strategy must be one of 'cos', 'linear', got 'cosine'"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make(optimizer("SGD", {"lr": 0.1, "momentum": 0.9}))


def test_one_cycle_refuses_to_step_past_its_end_and_needs_momentum():
    sched = lr_scheduler.OneCycleLR(optimizer("SGD", {"lr": 0.1, "momentum": 0.9}), max_lr=1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match=re.escape("OneCycleLR: tried to step 3 times; total_steps is 2")):
        sched.step()

    class Plain(tn.Optimizer):  # an optimizer with neither momentum nor betas
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

        def _check_group(self, group):
            pass

    with pytest.raises(ValueError, match="OneCycleLR: cycle_momentum needs an optimizer with momentum or betas"):
        lr_scheduler.OneCycleLR(Plain([tn.Parameter(np.zeros(2))]), max_lr=1.0, total_steps=2)
