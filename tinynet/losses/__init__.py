"""Losses with ``torch.nn``'s names, options and numbers: ``loss(pred, target)``, ``loss.backward()``.

See ``tinynet.losses.base`` for the contract and the reductions.
"""

from .base import Loss
from .classification import BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss
from .regression import HuberLoss, L1Loss, MSELoss

__all__ = ["Loss", "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss",
           "BCEWithLogitsLoss"]
