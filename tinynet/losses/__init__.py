"""Losses with ``torch.nn``'s names, options and numbers: ``loss(pred, target)``, ``loss.backward()``.

See ``tinynet.losses.base`` for the contract and the reductions.
"""

from .base import Loss
from .classification import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss
from .divergence import KLDivLoss
from .regression import HuberLoss, L1Loss, MSELoss, SmoothL1Loss

__all__ = ["Loss", "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss",
           "BCEWithLogitsLoss", "SmoothL1Loss", "BCELoss", "KLDivLoss"]
