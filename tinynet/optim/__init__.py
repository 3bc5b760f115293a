"""Optimizers with PyTorch's update rules, step for step, and learning-rate schedulers.

An optimizer holds parameter groups; ``step()`` updates each ``p.data`` in
place from ``p.grad``, skipping parameters whose ``grad`` is None, and
``zero_grad()`` clears the gradients (to None by default, as in PyTorch 2).
``tinynet.optim.lr_scheduler`` holds the schedulers.
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
