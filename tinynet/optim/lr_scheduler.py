"""Learning-rate schedulers with ``torch.optim.lr_scheduler``'s values, epoch for epoch.

A scheduler sets each parameter group's ``"lr"``. Building it records
``"initial_lr"`` in every group and applies the schedule's value for epoch
0; each ``step()`` (called after ``optimizer.step()``, once per epoch or per
batch as the schedule is meant) moves to the next epoch. ``get_last_lr()``
gives the current rates, one per group. The updates are PyTorch's
recursive ones (each rate computed from the previous), so the numbers agree
with PyTorch's to the last bit, not just to the closed form's rounding.
"""

import math
import numbers

from ..checks import check_bool, check_choice, check_size
from .optimizer import Optimizer, check_hyper


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``last_epoch``, ``state_dict()``."""

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a tinynet optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def get_lr(self):
        """The rates for epoch ``last_epoch``, from the groups' current ones (used by ``step``)."""
        raise NotImplementedError

    def step(self):
        """Advance one epoch and set every group's ``"lr"``."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rate of each parameter group, as the last ``step`` set it."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer, as PyTorch's (save it next to ``optimizer.state_dict()``)."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Continue the schedule saved by ``state_dict()``."""
        unknown = set(state_dict) - set(vars(self))
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unknown entries "
                             f"{sorted(unknown)}; is this another scheduler's state?")
        vars(self).update(state_dict)

    def _lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = check_size("StepLR", "step_size", step_size)
        self.gamma = check_hyper("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch in ``milestones`` (a repeated one, once per repeat)."""

    def __init__(self, optimizer, milestones, gamma=0.1):
        try:
            milestones = [check_size("MultiStepLR", "each milestone", m) for m in milestones]
        except TypeError as e:
            if "milestone" in str(e):
                raise
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs, "
                            f"got {milestones!r}") from None
        self.milestones = {m: milestones.count(m) for m in sorted(set(milestones))}
        self.gamma = check_hyper("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer)

    def get_lr(self):
        # JSON keeps dict keys as strings: look the epoch up either way after a load
        count = self.milestones.get(self.last_epoch, self.milestones.get(str(self.last_epoch)))
        if count is None:
            return self._lrs()
        return [lr * self.gamma ** count for lr in self._lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma):
        self.gamma = check_hyper("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """``eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2``, continued as a cosine past T_max.

    As PyTorch's, past ``T_max`` the rate rises again along the same cosine
    (period ``2 T_max``); it does not restart.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max = check_size("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = check_hyper("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def get_lr(self):
        t, T = self.last_epoch, self.T_max
        if t == 0:
            return self._lrs()
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - self.eta_min) + self.eta_min for lr in self._lrs()]


class LinearLR(LRScheduler):
    """Scale the rate by a factor moving linearly from ``start_factor`` to ``end_factor`` over ``total_iters``."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        name = "LinearLR"
        self.start_factor = check_hyper(name, "start_factor", start_factor)
        self.end_factor = check_hyper(name, "end_factor", end_factor)
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"{name}: start_factor must be in (0, 1], got {start_factor}")
        if not self.end_factor <= 1:
            raise ValueError(f"{name}: end_factor must be in [0, 1], got {end_factor}")
        self.total_iters = check_size(name, "total_iters", total_iters)
        super().__init__(optimizer)

    def get_lr(self):
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._lrs()]
        if t > self.total_iters:
            return self._lrs()
        factor = 1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start))
        return [lr * factor for lr in self._lrs()]


class OneCycleLR(LRScheduler):
    """The 1cycle policy: warm up to ``max_lr``, then anneal far below the start; stepped per batch.

    As PyTorch's: the rate starts at ``max_lr / div_factor``, rises over the
    first ``pct_start`` of ``total_steps`` (or ``epochs * steps_per_epoch``)
    and falls to ``initial_lr / final_div_factor``, by cosine or linear
    annealing. With ``cycle_momentum`` the momentum (SGD) or beta1 (Adam)
    moves the opposite way between ``max_momentum`` and ``base_momentum``.
    ``three_phase`` comes back to the start before the final anneal.
    Stepping past ``total_steps`` is an error.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False):
        name = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a tinynet optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            self.total_steps = check_size(name, "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (check_size(name, "epochs", epochs)
                                * check_size(name, "steps_per_epoch", steps_per_epoch))
        else:
            raise ValueError(f"{name}: give total_steps, or epochs and steps_per_epoch")
        pct_start = check_hyper(name, "pct_start", pct_start)
        if pct_start > 1:
            raise ValueError(f"{name}: pct_start must be in [0, 1], got {pct_start}")
        self.anneal_strategy = check_choice(name, "anneal_strategy", anneal_strategy, ("cos", "linear"))
        self.cycle_momentum = check_bool(name, "cycle_momentum", cycle_momentum)
        div_factor = check_hyper(name, "div_factor", div_factor)
        final_div_factor = check_hyper(name, "final_div_factor", final_div_factor)
        groups = optimizer.param_groups
        up = float(pct_start * self.total_steps) - 1
        if check_bool(name, "three_phase", three_phase):
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                            "base_momentum", "max_momentum"),
                           (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        for group, top in zip(groups, _per_group(name, "max_lr", max_lr, len(groups))):
            group["initial_lr"] = top / div_factor
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"{name}: cycle_momentum needs an optimizer with momentum or "
                                 f"betas, got {type(optimizer).__name__}; pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            highs = _per_group(name, "max_momentum", max_momentum, len(groups))
            lows = _per_group(name, "base_momentum", base_momentum, len(groups))
            for group, high, low in zip(groups, highs, lows):
                if self.use_beta1:
                    group["betas"] = (high, *group["betas"][1:])
                else:
                    group["momentum"] = high
                group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {t} times; total_steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            begin = 0.0
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(self.phases):
                if t <= end or i == len(self.phases) - 1:
                    pct = (t - begin) / (end - begin)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal(group[m_from], group[m_to], pct)
                        if self.use_beta1:
                            group["betas"] = (momentum, *group["betas"][1:])
                        else:
                            group["momentum"] = momentum
                    break
                begin = end
        return lrs


def _per_group(owner, name, value, n_groups):
    """One number per parameter group: ``value`` repeated, or a list of one per group."""
    if isinstance(value, numbers.Real):
        return [check_hyper(owner, name, value)] * n_groups
    values = list(value)
    if len(values) != n_groups:
        raise ValueError(f"{owner}: expected {n_groups} values of {name}, one per parameter group, "
                         f"got {len(values)}")
    return [check_hyper(owner, name, v) for v in values]
