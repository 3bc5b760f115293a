"""The scheduler base class: the epoch counter, ``step``, ``get_last_lr`` and ``state_dict``."""

import numbers
import types
import warnings

import numpy as np

from ..optimizer import Optimizer, as_scalar, check_hyper

EPOCH_DEPRECATION = ("step(epoch) is deprecated, as in PyTorch: call step() once per epoch. "
                     "Given an epoch, the scheduler jumps there by its closed form where it has one.")


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``last_epoch``, ``state_dict()``.

    Subclasses write ``get_lr()``, the rates for ``last_epoch`` from the
    groups' current ones (PyTorch's chainable form), and where a schedule
    has one, ``_get_closed_form_lr()``, the rates from ``base_lrs`` alone,
    which ``step(epoch)`` and ``SequentialLR`` use. ``last_epoch`` other
    than -1 resumes a schedule: the groups must already hold
    ``"initial_lr"`` (load the optimizer's state first).
    """

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a tinynet optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        last_epoch = check_epoch(name, "last_epoch", last_epoch, minimum=-1)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise ValueError(f"{name}: last_epoch={last_epoch} resumes a schedule, but param_groups[{i}] "
                                 "has no 'initial_lr'; load the optimizer's state_dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The step a scheduler takes when built: rates for the first epoch, flagged as such."""
        self._step_count = 0
        self._is_initial = True  # some schedules leave the rates alone on this step only, as PyTorch's
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The rates for epoch ``last_epoch``, from the groups' current ones (used by ``step``)."""
        raise NotImplementedError

    def _get_closed_form_lr(self):
        # a schedule without a closed form steps its chainable one, as PyTorch's
        return self.get_lr()

    def step(self, epoch=None):
        """Advance one epoch and set every group's ``"lr"``; ``step(epoch)`` (deprecated) jumps to ``epoch``."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = check_epoch(f"{type(self).__name__}.step", "epoch", epoch)
            lrs = self._get_closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._lrs()

    def get_last_lr(self):
        """The learning rate of each parameter group, as the last ``step`` set it."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer, as PyTorch's (save it next to ``optimizer.state_dict()``)."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Continue the schedule saved by ``state_dict()``."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict, as state_dict() returns, "
                            f"got {type(state_dict).__name__}")
        unknown = set(state_dict) - set(self.state_dict())
        if unknown:
            raise ValueError(f"{name}.load_state_dict: unknown entries "
                             f"{sorted(unknown, key=str)!r:.200}; is this another scheduler's state?")
        for key, value in state_dict.items():  # all checked before anything changes
            _check_like(name, key, value, vars(self)[key])
        vars(self).update(state_dict)

    def _lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


def _check_like(owner, key, value, now):
    """A loaded entry must be of the kind the scheduler holds now: a count, a number, a flag, a list."""
    def kind(v):
        if isinstance(v, (bool, np.bool_)):
            return "a flag"
        if isinstance(v, (int, np.integer)):
            return "a number"  # an int entry may come back as a float (a closed-form epoch) and back
        if isinstance(v, numbers.Real):
            return "a number"
        if isinstance(v, (list, tuple)):
            return "a list"
        return None  # anything else (None, a callable's state) is the scheduler's own to read
    expected = kind(now)
    if expected is not None and now is not None and kind(value) != expected:
        raise ValueError(f"{owner}.load_state_dict: entry {key!r} should be {expected}, got {value!r:.60}")
    if expected == "a list" and len(value) != len(now):
        raise ValueError(f"{owner}.load_state_dict: entry {key!r} should have {len(now)} items, "
                         f"one per parameter group, got {len(value)}")


def check_epoch(owner, name, value, minimum=0):
    """``value`` as a Python int >= ``minimum`` (an epoch, a milestone, a count of steps)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value}")
    return int(value)


def per_group(owner, name, value, n_groups):
    """One number per parameter group: ``value`` repeated, or a list or tuple of one per group."""
    if not isinstance(value, (list, tuple)):
        return [check_hyper(owner, name, value)] * n_groups
    if len(value) != n_groups:
        raise ValueError(f"{owner}: expected {n_groups} values of {name}, one per parameter group, "
                         f"got {len(value)}")
    return [check_hyper(owner, name, v) for v in value]


def functions_per_group(owner, name, fn, n_groups):
    """``fn`` once per parameter group, or a list or tuple of one callable per group."""
    fns = list(fn) if isinstance(fn, (list, tuple)) else [fn] * n_groups
    if len(fns) != n_groups:
        raise ValueError(f"{owner}: expected {n_groups} {name}s, one per parameter group, got {len(fns)}")
    for f in fns:
        if not callable(f):
            raise TypeError(f"{owner}: {name} must be a function of the epoch, got {type(f).__name__}")
    return fns


def call_factor(owner, fn, epoch):
    """``fn(epoch)`` as a float, or a TypeError naming what it returned."""
    value = as_scalar(fn(epoch))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: lr_lambda({epoch}) must return a number, got {value!r}")
    return float(value)


def callables_state(fns):
    """PyTorch's saved form of user functions: None for a plain function, else the object's ``__dict__``."""
    return [None if isinstance(fn, types.FunctionType) else dict(vars(fn)) for fn in fns]


def load_callables_state(fns, saved):
    """Restore what ``callables_state`` saved into the callable objects ``fns``."""
    for fn, state in zip(fns, saved):
        if state is not None:
            vars(fn).update(state)
