"""tinynet: a minimal neural-network framework with explicit forward and backward.

Layers follow one contract (``forward``, ``backward``, parameters with
``.data`` and ``.grad``, hooks); see ``tinynet.layer``.
"""

from . import init
from .activations import (
    ELU, GELU, SELU, Activation, Identity, LeakyReLU, ReLU, ScaledSigmoid, Sigmoid, SiLU,
    Softplus, Tanh, activation, available_activations,
)
from .containers import MLP, Sequential
from .gradcheck import GradcheckReport, gradcheck
from .hooks import HandleGroup, RemovableHandle, register_hooks
from .layer import Layer
from .linear import Linear
from .parameter import Parameter

__version__ = "0.1.0"
