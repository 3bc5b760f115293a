"""Schedules that scale the rate by a factor per epoch: step, exponential, linear, polynomial, lambdas.

Each ``get_lr`` is PyTorch's chainable update (the new rate from the
group's current one), in PyTorch's order of operations, so the numbers
agree to the last bit; ``_get_closed_form_lr`` is PyTorch's closed form,
for ``step(epoch)`` and ``SequentialLR``.
"""

from ...checks import check_size
from ..optimizer import check_hyper
from .base import (LRScheduler, call_factor, callables_state, check_epoch, functions_per_group,
                   load_callables_state)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = check_size("StepLR", "step_size", step_size)
        self.gamma = check_hyper("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch in ``milestones`` (a repeated one, once per repeat).

    A milestone 0 applies at construction, as in PyTorch.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        try:
            milestones = [check_epoch("MultiStepLR", "each milestone", m) for m in milestones]
        except TypeError as e:
            if "milestone" in str(e):
                raise
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs, "
                            f"got {milestones!r}") from None
        self.milestones = {m: milestones.count(m) for m in sorted(set(milestones))}
        self.gamma = check_hyper("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _count(self, epoch):
        # JSON keeps dict keys as strings: look the epoch up either way after a load
        return self.milestones.get(epoch, self.milestones.get(str(epoch), 0))

    def get_lr(self):
        count = self._count(self.last_epoch)
        if count == 0:
            return self._lrs()
        return [lr * self.gamma ** count for lr in self._lrs()]

    def _get_closed_form_lr(self):
        passed = sum(c for m, c in self.milestones.items() if int(m) <= self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = check_hyper("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """Scale the rate by ``factor`` for the first ``total_iters`` epochs, then restore it."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        self.factor = check_hyper("ConstantLR", "factor", factor)
        if not 0 < self.factor <= 1:  # PyTorch takes 0, then divides by it at total_iters
            raise ValueError(f"ConstantLR: factor must be in (0, 1], got {factor}")
        self.total_iters = check_epoch("ConstantLR", "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr * (1.0 / self.factor) for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate by a factor moving linearly from ``start_factor`` to ``end_factor`` over ``total_iters``.

    ``total_iters=0`` keeps ``start_factor`` for good, as PyTorch's chainable form does.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        name = "LinearLR"
        self.start_factor = check_hyper(name, "start_factor", start_factor)
        self.end_factor = check_hyper(name, "end_factor", end_factor)
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"{name}: start_factor must be in (0, 1], got {start_factor}")
        if not self.end_factor <= 1:
            raise ValueError(f"{name}: end_factor must be in [0, 1], got {end_factor}")
        self.total_iters = check_epoch(name, "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._lrs()]
        if self._is_initial or t > self.total_iters:
            return self._lrs()
        factor = 1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start))
        return [lr * factor for lr in self._lrs()]

    def _get_closed_form_lr(self):
        start, end = self.start_factor, self.end_factor
        done = min(self.total_iters, self.last_epoch) / self.total_iters if self.total_iters else 0.0
        return [base * (start + (end - start) * done) for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """``base_lr * (1 - t / total_iters) ** power`` until ``total_iters``, then that rate (0 for power > 0)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = check_size("PolynomialLR", "total_iters", total_iters)
        self.power = check_hyper("PolynomialLR", "power", power)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, n = self.last_epoch, self.total_iters
        if self._is_initial or t > n:
            return self._lrs()
        decay = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [lr * decay for lr in self._lrs()]

    def _get_closed_form_lr(self):
        n = self.total_iters
        return [base * (1.0 - min(n, self.last_epoch) / n) ** self.power for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """``base_lr * lr_lambda(epoch)``: one function of the epoch, or a list of one per group.

    As PyTorch's, ``state_dict()`` holds ``lr_lambdas`` as None for a plain
    function or lambda (code is not state) and as the ``__dict__`` of a
    callable object, which ``load_state_dict`` restores into this
    scheduler's own objects.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n_groups = len(getattr(optimizer, "param_groups", []))
        self.lr_lambdas = functions_per_group(type(self).__name__, "lr_lambda", lr_lambda, n_groups)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * call_factor("LambdaLR", fn, self.last_epoch)
                for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        """As the base's, with each lambda saved as None or its object's ``__dict__``."""
        return {**super().state_dict(), "lr_lambdas": callables_state(self.lr_lambdas)}

    def load_state_dict(self, state_dict):
        """Continue the schedule saved by ``state_dict()``; callable objects get their saved attributes."""
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        load_callables_state(self.lr_lambdas, saved)


class MultiplicativeLR(LambdaLR):
    """Multiply the rate by ``lr_lambda(epoch)`` every epoch (one function, or a list of one per group)."""

    def get_lr(self):
        if self._is_initial:
            return self._lrs()
        return [lr * call_factor("MultiplicativeLR", fn, self.last_epoch)
                for fn, lr in zip(self.lr_lambdas, self._lrs())]
