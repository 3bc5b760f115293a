"""Schedules that rise and fall: cosine annealing (with warm restarts), cyclical rates, 1cycle."""

import math
import numbers

from ...checks import check_bool, check_choice, check_size
from ..optimizer import Optimizer, as_scalar, check_hyper
from .base import LRScheduler, callables_state, check_epoch, load_callables_state, per_group


class CosineAnnealingLR(LRScheduler):
    """``eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2``, continued as a cosine past T_max.

    As PyTorch's, past ``T_max`` the rate rises again along the same cosine
    (period ``2 T_max``); it does not restart (``CosineAnnealingWarmRestarts`` does).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = check_size("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = check_hyper("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T = self.last_epoch, self.T_max
        if self._is_initial:
            return self._lrs()
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - self.eta_min) + self.eta_min for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from ``base_lr`` to ``eta_min`` over ``T_0`` epochs, restarting, each period ``T_mult`` times longer.

    ``step(epoch)`` takes a fractional epoch too (``epoch + i / iters`` per
    batch), as PyTorch's, and is not deprecated here.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        name = "CosineAnnealingWarmRestarts"
        self.T_0 = self.T_i = check_size(name, "T_0", T_0)
        self.T_mult = check_size(name, "T_mult", T_mult)
        self.eta_min = check_hyper(name, "eta_min", eta_min)
        self.T_cur = check_epoch(name, "last_epoch", last_epoch, minimum=-1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or go to ``epoch`` (a number >= 0, fractions allowed), and set the rates."""
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            epoch = as_scalar(epoch)
            if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real):
                raise TypeError(f"CosineAnnealingWarmRestarts.step: epoch must be a number, got {epoch!r}")
            if not epoch >= 0:
                raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be a number >= 0, got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._lrs()


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith): a triangle between ``base_lr`` and ``max_lr``, stepped per batch.

    As PyTorch's: a cycle rises over ``step_size_up`` steps and falls over
    ``step_size_down`` (default: the same). ``mode`` scales the amplitude
    per cycle ("triangular": 1, "triangular2": halved each cycle) or per
    step ("exp_range": ``gamma ** step``); ``scale_fn`` (a function of the
    cycle or of the step, as ``scale_mode`` says) replaces ``mode``. With
    ``cycle_momentum`` the momentum (SGD) or beta1 (Adam) moves the opposite
    way between ``max_momentum`` and ``base_momentum``.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True,
                 base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        name = "CyclicLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a tinynet optimizer, got {type(optimizer).__name__}")
        groups = optimizer.param_groups
        base_lrs = per_group(name, "base_lr", base_lr, len(groups))
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
        self.max_lrs = per_group(name, "max_lr", max_lr, len(groups))
        up = float(check_size(name, "step_size_up", step_size_up))
        down = float(check_size(name, "step_size_down", step_size_down)) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{name}: scale_fn must be a function of the cycle or step, got {type(scale_fn).__name__}")
        if scale_fn is None:
            mode = check_choice(name, "mode", mode, ("triangular", "triangular2", "exp_range"))
            scale_mode = "iterations" if mode == "exp_range" else "cycle"  # PyTorch's fixed pairing
        self.mode, self.gamma = mode, check_hyper(name, "gamma", gamma)
        self.scale_mode = check_choice(name, "scale_mode", scale_mode, ("cycle", "iterations"))
        self._scale_fn_custom = scale_fn
        self.cycle_momentum = check_bool(name, "cycle_momentum", cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = uses_beta1(name, optimizer)
            self.base_momentums = per_group(name, "base_momentum", base_momentum, len(groups))
            self.max_momentums = per_group(name, "max_momentum", max_momentum, len(groups))
            if last_epoch == -1:
                for high, low, group in zip(self.max_momentums, self.base_momentums, groups):
                    set_momentum(group, self.use_beta1, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs  # after the first step, as PyTorch's (which used the groups' initial_lr)

    def scale_fn(self, x):
        """The amplitude's scale at cycle or step ``x``: ``scale_fn(x)`` if given, else by ``mode``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * scale_factor * scale for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                set_momentum(group, self.use_beta1, high - (high - low) * scale_factor * scale)
        return lrs

    def state_dict(self):
        """As the base's, with a custom ``scale_fn`` saved as None or its object's ``__dict__``."""
        fn = self._scale_fn_custom
        return {**super().state_dict(), "_scale_fn_custom": None if fn is None else callables_state([fn])[0]}

    def load_state_dict(self, state_dict):
        """Continue the schedule saved by ``state_dict()``; a callable ``scale_fn`` gets its saved attributes."""
        state = dict(state_dict)
        saved = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if self._scale_fn_custom is not None:
            load_callables_state([self._scale_fn_custom], [saved])


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
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
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
        for what, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if value == 0:  # the rates are divided by it
                raise ValueError(f"{name}: {what} must be > 0, got {value}")
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
        ends = [0.0] + [end for end, *_ in self.phases]
        if any(b == a for a, b in zip(ends, ends[1:])):
            # PyTorch accepts these and divides by zero at the first step
            raise ValueError(f"{name}: pct_start {pct_start} of total_steps {self.total_steps} leaves a phase "
                             "of no steps; each phase needs at least one (a larger pct_start or total_steps)")
        if last_epoch == -1:  # resuming, the groups hold these already
            for group, top in zip(groups, per_group(name, "max_lr", max_lr, len(groups))):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if self.cycle_momentum:
            self.use_beta1 = uses_beta1(name, optimizer)
            highs = per_group(name, "max_momentum", max_momentum, len(groups))
            lows = per_group(name, "base_momentum", base_momentum, len(groups))
            if last_epoch == -1:
                for group, high, low in zip(groups, highs, lows):
                    set_momentum(group, self.use_beta1, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

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
                        set_momentum(group, self.use_beta1, self._anneal(group[m_from], group[m_to], pct))
                    break
                begin = end
        return lrs


def uses_beta1(owner, optimizer):
    """Whether a momentum schedule moves ``betas[0]`` (Adam) rather than ``momentum`` (SGD)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{owner}: cycle_momentum needs an optimizer with momentum or "
                         f"betas, got {type(optimizer).__name__}; pass cycle_momentum=False")
    return "betas" in optimizer.defaults


def set_momentum(group, use_beta1, momentum):
    """Set a group's momentum, or its beta1 keeping beta2."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum
