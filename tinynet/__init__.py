"""tinynet: a minimal neural-network framework with explicit forward and backward.

Layers follow one contract (``forward``, ``backward``, parameters with
``.data`` and ``.grad``, hooks); see ``tinynet.layer``.
"""

from . import datasets, init, optim
from .activations import (
    ELU, GELU, SELU, Activation, Identity, LeakyReLU, ReLU, ScaledSigmoid, Sigmoid, SiLU,
    Softplus, Tanh, activation, available_activations,
)
from .containers import MLP, Sequential
from .gradcheck import GradcheckReport, gradcheck
from .hooks import HandleGroup, RemovableHandle, register_hooks
from .layer import Layer
from .linear import Linear
from .losses import CrossEntropyLoss, Loss, MSELoss
from .optim import SGD, Adam, Optimizer
from .parameter import Parameter
from .serialization import ModelFileError, load, save
from .training import History, NonFiniteLossError, evaluate, fit

__version__ = "0.1.0"
