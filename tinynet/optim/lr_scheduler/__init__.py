"""Learning-rate schedulers with ``torch.optim.lr_scheduler``'s values, epoch for epoch.

A scheduler sets each parameter group's ``"lr"``. Building it records
``"initial_lr"`` in every group and applies the schedule's value for epoch
0; each ``step()`` (called after ``optimizer.step()``, once per epoch or per
batch as the schedule is meant) moves to the next epoch. ``get_last_lr()``
gives the current rates, one per group. The updates are PyTorch's
recursive ones (each rate computed from the previous), so the numbers agree
with PyTorch's to the last bit, not just to the closed form's rounding.
``ReduceLROnPlateau`` is the exception: ``step(metric)`` reacts to a
metric instead of counting epochs.
"""

from .base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cyclic import CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .decay import (ConstantLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR,
                    PolynomialLR, StepLR)
from .plateau import ReduceLROnPlateau

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR"]
