"""KLDivLoss, as in ``torch.nn``: the Kullback-Leibler divergence of a target from log-probabilities."""

import numpy as np

from ..checks import check_bool
from .base import Loss, first_offender, float_target


class KLDivLoss(Loss):
    """``target (log target - pred)`` per element, as ``torch.nn.KLDivLoss``.

    ``pred`` log-probabilities (a log-softmax's output) and ``target``
    probabilities of the same shape, or log-probabilities with
    ``log_target=True`` (then ``exp(target) (target - pred)``). A target of
    0 contributes 0. ``reduction="batchmean"`` divides the sum by
    ``pred.shape[0]``: summed over the classes, that is the divergence per
    sample, the mathematical KL. "mean" divides by the number of elements,
    as PyTorch does. ``dpred = -target`` (``-exp(target)``).
    """

    reductions = ("mean", "batchmean", "sum", "none")

    def __init__(self, *, reduction="mean", log_target=False):
        super().__init__(reduction=reduction)
        self.log_target = check_bool(type(self).__name__, "log_target", log_target)

    def _losses(self, pred, target):
        name = type(self).__name__
        target = float_target(name, target, pred)
        if self.log_target:
            with np.errstate(over="ignore"):  # a log-probability past 709 is not one; inf is honest
                prob = np.exp(target)
            with np.errstate(invalid="ignore"):  # inf * 0 where both are extreme: nan, as in PyTorch
                losses = prob * (target - pred)
        else:
            negative = first_offender(target < 0)
            if negative:
                at, where = negative
                raise ValueError(f"{name}: target must be probabilities (>= 0), got {target[at]}"
                                 f"{where}; for log-probabilities pass log_target=True")
            prob = target
            with np.errstate(divide="ignore", invalid="ignore"):  # 0 log 0 is taken as 0 below
                entropy_term = np.where(target > 0, target * np.log(target), 0)
            losses = entropy_term - target * pred  # PyTorch's xlogy(t, t) - t pred
        batch = pred.shape[0] if pred.ndim else 1
        return losses, batch if self.reduction == "batchmean" else pred.size, prob

    def _backward(self, prob, dlosses):
        return -prob * dlosses

    def get_config(self):
        return {"reduction": self.reduction, "log_target": self.log_target}
