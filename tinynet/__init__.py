"""tinynet: a minimal neural-network framework with explicit forward and backward.

Layers follow one contract (``forward``, ``backward``, parameters with
``.data`` and ``.grad``, hooks); see ``tinynet.layer``. ``with
tinynet.no_grad():`` runs forwards that keep nothing for backward.
"""

from . import data, datasets, init, optim
from .architecture import register_layer
from .activations import (
    ELU, GELU, SELU, Activation, Identity, LeakyReLU, ReLU, ScaledSigmoid, Sigmoid, SiLU,
    Softplus, Tanh, activation, available_activations,
)
from .containers import MLP, Sequential
from .dropout import Dropout
from .grad_mode import is_grad_enabled, no_grad
from .gradcheck import GradcheckReport, gradcheck
from .hooks import HandleGroup, RemovableHandle, register_hooks
from .layer import Layer, PendingBackwardWarning
from .linear import Linear
from .clip import clip_grad_norm_, clip_grad_value_
from .losses import (
    BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, Loss, MSELoss, NLLLoss,
)
from .losses import BCELoss, KLDivLoss, SmoothL1Loss
from .normalization import BatchNorm1d, LayerNorm
from .optim import SGD, Adam, AdamW, Optimizer, RMSprop
from .parameter import Parameter
from .progress import progress_bar
from .residual import Residual
from .serialization import ModelFileError, load, save
from .summary import ModelSummary, SummaryRow, summary
from .training import History, NonFiniteLossError, evaluate, fit, predict

__version__ = "0.1.0"
