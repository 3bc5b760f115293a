"""Losses on the difference ``pred - target``: MSELoss, L1Loss, HuberLoss, SmoothL1Loss, as in ``torch.nn``.

``pred: (batch, ...)`` and ``target`` of the same shape. "mean" divides by
the number of elements, not by the batch size, as PyTorch does.
"""

import numpy as np

from ..checks import check_number
from .base import Loss, float_target


class MSELoss(Loss):
    """Squared error ``(pred - target)**2``; ``dpred = 2 (pred - target)`` (over N for "mean")."""

    def _losses(self, pred, target):
        diff = pred - float_target(type(self).__name__, target, pred)
        return diff * diff, diff.size, diff

    def _backward(self, diff, dlosses):
        return 2 * diff * dlosses


class L1Loss(Loss):
    """Absolute error ``|pred - target|``; ``dpred = sign(pred - target)`` (0 where they are equal)."""

    def _losses(self, pred, target):
        diff = pred - float_target(type(self).__name__, target, pred)
        return np.abs(diff), diff.size, diff

    def _backward(self, diff, dlosses):
        return np.sign(diff) * dlosses


class HuberLoss(Loss):
    """``d**2 / 2`` for ``|d| < delta``, else ``delta (|d| - delta / 2)``, with ``d = pred - target``.

    Quadratic near zero and linear in the tails, so one outlier's gradient
    is at most ``delta``. As ``torch.nn.HuberLoss`` (``delta=1`` is
    ``SmoothL1Loss``).
    """

    def __init__(self, *, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = check_number(type(self).__name__, "delta", delta, positive=True)

    def _losses(self, pred, target):
        diff = pred - float_target(type(self).__name__, target, pred)
        size = np.abs(diff)
        losses = np.where(size < self.delta, 0.5 * diff * diff, self.delta * (size - 0.5 * self.delta))
        return losses, diff.size, diff

    def _backward(self, diff, dlosses):
        return np.clip(diff, -self.delta, self.delta) * dlosses

    def get_config(self):
        return {"reduction": self.reduction, "delta": self.delta}


class SmoothL1Loss(Loss):
    """``0.5 d**2 / beta`` for ``|d| < beta``, else ``|d| - beta / 2``, as ``torch.nn.SmoothL1Loss``.

    ``HuberLoss(delta=beta)`` divided by ``beta``, so the slope in the tails
    is 1 whatever ``beta``; ``beta=0`` is ``L1Loss``. ``dpred = clip(d / beta, -1, 1)``.
    """

    def __init__(self, *, reduction="mean", beta=1.0):
        super().__init__(reduction=reduction)
        self.beta = check_number(type(self).__name__, "beta", beta, nonnegative=True)

    def _losses(self, pred, target):
        diff = pred - float_target(type(self).__name__, target, pred)
        size = np.abs(diff)
        if self.beta == 0:  # the quadratic piece is empty, and would divide by 0
            return size, diff.size, diff
        near = np.minimum(size, self.beta)  # squared only where it is used, so it never overflows
        losses = np.where(size < self.beta, 0.5 * near * near / self.beta, size - 0.5 * self.beta)
        return losses, diff.size, diff

    def _backward(self, diff, dlosses):
        slope = np.sign(diff) if self.beta == 0 else np.clip(diff / self.beta, -1, 1)
        return slope * dlosses

    def get_config(self):
        return {"reduction": self.reduction, "beta": self.beta}
