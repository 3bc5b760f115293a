"""ReduceLROnPlateau: cut the rate when a metric stops improving."""

import math
import numbers
import warnings

from ...checks import check_choice
from ..optimizer import Optimizer, as_scalar, check_hyper
from .base import EPOCH_DEPRECATION, LRScheduler, check_epoch, per_group


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when ``step(metric)`` has not improved for ``patience`` epochs.

    As PyTorch's: with ``mode="min"`` a metric improves on the best so far
    when it is below ``best * (1 - threshold)`` (``threshold_mode="rel"``)
    or ``best - threshold`` ("abs"); ``"max"`` mirrors that. After more than
    ``patience`` epochs without improvement every group's rate becomes
    ``max(lr * factor, min_lr)`` (``min_lr`` one number or one per group),
    unless that changes it by no more than ``eps``, and ``cooldown`` epochs
    follow in which bad epochs are not counted. Unlike the other
    schedulers, building it leaves the rates alone and ``step`` takes the
    metric (a number; ``fit`` passes the validation loss).
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a tinynet optimizer, got {type(optimizer).__name__}")
        self.factor = check_hyper(name, "factor", factor)
        if self.factor >= 1:
            raise ValueError(f"{name}: factor must be < 1, got {factor}")
        self.optimizer = optimizer
        n_groups = len(optimizer.param_groups)
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else check_hyper(name, "min_lr", min_lr)
        self.min_lrs = per_group(name, "min_lr", min_lr, n_groups)
        self.patience = check_epoch(name, "patience", patience)
        self.cooldown = check_epoch(name, "cooldown", cooldown)
        self.eps = check_hyper(name, "eps", eps)
        self.mode = check_choice(name, "mode", mode, ("min", "max"))
        self.threshold = check_hyper(name, "threshold", threshold)
        self.threshold_mode = check_choice(name, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.last_epoch = 0
        self._last_lr = self._lrs()
        self.best = math.inf if self.mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record this epoch's ``metrics`` (a number) and reduce the rates if it has plateaued."""
        current = as_scalar(metrics)
        if isinstance(current, bool) or not isinstance(current, numbers.Real):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number, got {metrics!r}")
        current = float(current)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION, UserWarning, stacklevel=2)
            epoch = check_epoch("ReduceLROnPlateau.step", "epoch", epoch)
        self.last_epoch = epoch
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()

    def _is_better(self, a):
        best = self.best
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups, "
                                 f"min_lr has {len(self.min_lrs)} values; set min_lrs to one per group")
            self.min_lrs = [self.default_min_lr] * len(groups)  # a group was added: it gets the default
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new
