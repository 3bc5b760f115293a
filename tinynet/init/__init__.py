"""Weight initializers, called as ``init(shape, rng, dtype=np.float64)``.

``rng`` must be a ``numpy.random.Generator``; global numpy random state is
never used. A weight of shape ``(out, in, *kernel)`` has
``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)``.
Every initializer has ``mean`` and ``variance(shape)`` describing one drawn
entry, a ``name``, ``to_spec()`` (see ``from_spec``) and ``get_config()``
(see ``from_config``).

``uniform_``, ``normal_``, ``kaiming_uniform_``, ... are ``torch.nn.init``'s
functions, with its signatures: they fill an array in place (``rng=`` in
the place of PyTorch's ``generator=``).
"""

from .base import Initializer, compute_fans
from .basic import Constant, Normal, Ones, Uniform, Zeros
from .functions import (
    constant_, eye_, kaiming_normal_, kaiming_uniform_, normal_, ones_, orthogonal_, trunc_normal_,
    uniform_, xavier_normal_, xavier_uniform_, zeros_,
)
from .gain import calculate_gain
from .orthogonal import Orthogonal
from .spec import available_initializers, from_config, from_spec, get
from .truncated import TruncatedNormal
from .variance_scaling import (
    HeNormal, HeUniform, LeCunNormal, LeCunUniform, VarianceScaling, XavierNormal, XavierUniform,
)

__all__ = [
    "Initializer", "Normal", "Uniform", "TruncatedNormal", "Constant", "Zeros", "Ones",
    "VarianceScaling", "XavierUniform", "XavierNormal", "HeNormal", "HeUniform",
    "LeCunNormal", "LeCunUniform", "Orthogonal", "calculate_gain", "compute_fans",
    "from_spec", "from_config", "get", "available_initializers",
    "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "eye_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
]
