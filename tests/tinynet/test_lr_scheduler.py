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
    (lambda o: lr_scheduler.LambdaLR(o, lr_lambda=[lambda e: 1.0]), ValueError,
     "LambdaLR: expected 2 lr_lambdas, one per parameter group, got 1"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, lr_lambda=0.9), TypeError,
     "MultiplicativeLR: lr_lambda must be a function of the epoch, got float"),
    (lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda e: "fast"), TypeError,
     "LambdaLR: lr_lambda(0) must return a number, got 'fast'"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, "ConstantLR: factor must be in (0, 1], got 1.5"),
    (lambda o: lr_scheduler.ConstantLR(o, total_iters=-1), ValueError,
     "ConstantLR: total_iters must be an integer >= 0, got -1"),
    (lambda o: lr_scheduler.PolynomialLR(o, total_iters=0), ValueError,
     "PolynomialLR: total_iters must be a positive integer, got 0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, last_epoch=3), ValueError,
     "StepLR: last_epoch=3 resumes a schedule, but param_groups[0] has no 'initial_lr'"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, last_epoch=1.5), TypeError,
     "StepLR: last_epoch must be an integer, got 1.5"),
    (lambda o: lr_scheduler.CyclicLR(o, base_lr=0.1, max_lr=[1.0]), ValueError,
     "CyclicLR: expected 2 values of max_lr, one per parameter group, got 1"),
    (lambda o: lr_scheduler.CyclicLR(o, base_lr=0.1, max_lr=1.0, mode="triangle"), ValueError,
     "CyclicLR: mode must be one of 'triangular', 'triangular2', 'exp_range', got 'triangle'"),
    (lambda o: lr_scheduler.CyclicLR(o, base_lr=0.1, max_lr=1.0, scale_fn=0.5), TypeError,
     "CyclicLR: scale_fn must be a function of the cycle or step, got float"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "CosineAnnealingWarmRestarts: T_0 must be a positive integer, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2).step(-1), ValueError,
     "CosineAnnealingWarmRestarts.step: epoch must be a number >= 0, got -1"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ConstantLR(o)], milestones=[2]), ValueError,
     "SequentialLR: expects one milestone fewer than schedulers, got 1 schedulers and 1 milestones"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], milestones=[]), ValueError,
     "SequentialLR: schedulers[0] is a ReduceLROnPlateau, which needs a metric at each step"),
    (lambda o: lr_scheduler.ChainedScheduler([]), ValueError, "ChainedScheduler: expects at least one scheduler, got none"),
    (lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(o), "StepLR"]), TypeError,
     "ChainedScheduler: schedulers[1] is not a learning-rate scheduler, got str"),
    (lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(o), lr_scheduler.ConstantLR(
        optimizer("SGD", {"lr": 0.1}))]), ValueError, "ChainedScheduler: schedulers[1] (ConstantLR) belongs to another optimizer"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "ReduceLROnPlateau: factor must be < 1, got 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="minimum"), ValueError,
     "ReduceLROnPlateau: mode must be one of 'min', 'max', got 'minimum'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
     "ReduceLROnPlateau: expected 2 values of min_lr, one per parameter group, got 1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o).step("loss"), TypeError,
     "ReduceLROnPlateau.step: metrics must be a number, got 'loss'"),
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


def test_lambda_state_dict_saves_callable_objects_not_functions_as_pytorch():
    class Scale:
        def __init__(self, k):
            self.k = k

        def __call__(self, epoch):
            return self.k ** epoch

    sched = lr_scheduler.LambdaLR(optimizer("SGD", {"lr": 0.1}), [lambda e: 1.0, Scale(0.5)])
    assert sched.state_dict()["lr_lambdas"] == [None, {"k": 0.5}]
    other = lr_scheduler.LambdaLR(optimizer("SGD", {"lr": 0.1}), [lambda e: 1.0, Scale(0.9)])
    other.load_state_dict(sched.state_dict())
    assert other.lr_lambdas[1].k == 0.5


def test_hyperparameters_may_be_zero_d_arrays():
    opt = optimizer("SGD", {"lr": np.array(0.1), "momentum": np.array(0.9)})
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=np.array(0.5), patience=0)
    sched.step(np.array(1.0))
    sched.step(np.array(2.0))
    assert sched.get_last_lr() == [0.05, 0.025]
