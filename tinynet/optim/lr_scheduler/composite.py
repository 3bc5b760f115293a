"""Schedulers made of schedulers: one after another (``SequentialLR``) or all at once (``ChainedScheduler``)."""

import bisect

from ..optimizer import Optimizer
from .base import LRScheduler, check_epoch
from .plateau import ReduceLROnPlateau


def check_schedulers(owner, schedulers, optimizer):
    """``schedulers`` as a non-empty list of schedulers of ``optimizer`` (ReduceLROnPlateau refused)."""
    try:
        schedulers = list(schedulers)
    except TypeError:
        raise TypeError(f"{owner}: schedulers must be a list of schedulers, got {schedulers!r}") from None
    if not schedulers:
        raise ValueError(f"{owner}: expects at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"{owner}: schedulers[{i}] is not a learning-rate scheduler, got {type(s).__name__}")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{owner}: schedulers[{i}] is a ReduceLROnPlateau, which needs a metric "
                             "at each step; step it on its own")
        if s.optimizer is not (optimizer if optimizer is not None else schedulers[0].optimizer):
            raise ValueError(f"{owner}: schedulers[{i}] ({type(s).__name__}) belongs to another optimizer")
    return schedulers


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` from its epoch 0, and so on.

    As PyTorch's: building it resets the rates to ``initial_lr`` and undoes
    the step each scheduler took when built; at a milestone the next
    scheduler starts from its closed form at epoch 0.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        name = "SequentialLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a tinynet optimizer, got {type(optimizer).__name__}")
        self._schedulers = check_schedulers(name, schedulers, optimizer)
        try:
            self._milestones = [check_epoch(name, "each milestone", m) for m in milestones]
        except TypeError as e:
            if "milestone" in str(e):
                raise
            raise TypeError(f"{name}: milestones must be a list of epochs, got {milestones!r}") from None
        if len(self._milestones) != len(self._schedulers) - 1:
            raise ValueError(f"{name}: expects one milestone fewer than schedulers, got "
                             f"{len(self._schedulers)} schedulers and {len(self._milestones)} milestones")
        self.last_epoch = check_epoch(name, "last_epoch", last_epoch, minimum=-1) + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in self._schedulers:
            undo_initial_step(s)
        first = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        """Advance one epoch: step the scheduler whose turn it is, or start the next one at a milestone."""
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        """Its own state, with each scheduler's ``state_dict()`` under ``"_schedulers"``."""
        return state_with_schedulers(self)

    def load_state_dict(self, state_dict):
        """Continue the schedule saved by ``state_dict()``, the inner schedulers' too."""
        load_state_with_schedulers(self, state_dict)


class ChainedScheduler(LRScheduler):
    """Step every scheduler in ``schedulers`` at each ``step()``, so their factors compose."""

    def __init__(self, schedulers, optimizer=None):
        name = "ChainedScheduler"
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a tinynet optimizer, got {type(optimizer).__name__}")
        self._schedulers = check_schedulers(name, schedulers, optimizer)
        self.optimizer = optimizer if optimizer is not None else self._schedulers[0].optimizer
        self._last_lr = self._lrs()

    def step(self):
        """Step each scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._lrs()

    def __repr__(self):
        return f"ChainedScheduler({', '.join(type(s).__name__ for s in self._schedulers)}, lr={self.get_last_lr()})"

    def state_dict(self):
        """Its own state, with each scheduler's ``state_dict()`` under ``"_schedulers"``."""
        return state_with_schedulers(self)

    def load_state_dict(self, state_dict):
        """Continue the schedules saved by ``state_dict()``."""
        load_state_with_schedulers(self, state_dict)


def undo_initial_step(scheduler):
    """Take back the epoch a scheduler counted when built (in nested composites too), as PyTorch's."""
    if isinstance(scheduler, (SequentialLR, ChainedScheduler)):
        for s in scheduler._schedulers:
            undo_initial_step(s)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


def state_with_schedulers(composite):
    state = {k: v for k, v in vars(composite).items() if k not in ("optimizer", "_schedulers")}
    state["_schedulers"] = [s.state_dict() for s in composite._schedulers]
    return state


def load_state_with_schedulers(composite, state_dict):
    state = dict(state_dict)
    saved = state.pop("_schedulers", None)
    if saved is None or len(saved) != len(composite._schedulers):
        raise ValueError(f"{type(composite).__name__}.load_state_dict: expected the states of "
                         f"{len(composite._schedulers)} schedulers under '_schedulers'")
    LRScheduler.load_state_dict(composite, state)
    for s, sd in zip(composite._schedulers, saved):
        s.load_state_dict(sd)
