"""``torch.nn.init``'s functions: fill an array in place, with PyTorch's signatures and errors.

Each takes a floating-point numpy array, fills it and returns it (or a
``Parameter``: its ``data`` is filled and the Parameter returned, as PyTorch
returns the tensor it was given); random
ones draw from the keyword argument ``rng`` (a ``numpy.random.Generator``,
in the place of PyTorch's ``generator=``; a fresh unseeded one when None).
An array with no elements is returned untouched, as PyTorch does. The
draws go through the initializer classes (``Normal``, ``Uniform``,
``TruncatedNormal``, ``Orthogonal``), so each distribution is sampled in
one place; these functions only turn PyTorch's arguments into its
parameters. Fans follow PyTorch: a weight is ``(out, in, *kernel)``.
"""

import functools
import math
import numbers

import numpy as np

from ..checks import check_rng
from ..parameter import Parameter
from .base import compute_fans
from .basic import Normal, Uniform
from .gain import calculate_gain
from .orthogonal import Orthogonal
from .truncated import TruncatedNormal

__all__ = ["uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_"]


def _fills_parameter(fill):
    """``fill`` that also takes a Parameter, as PyTorch's take one: fills its data, returns it."""
    @functools.wraps(fill)
    def wrapper(tensor, *args, **kwargs):
        if isinstance(tensor, Parameter):
            fill(tensor.data, *args, **kwargs)
            return tensor
        return fill(tensor, *args, **kwargs)
    return wrapper


@_fills_parameter
def uniform_(tensor, a=0.0, b=1.0, *, rng=None):
    """Fill ``tensor`` with draws from U(a, b)."""
    tensor = _target("uniform_", tensor)
    a, b = _real("uniform_", "a", a), _real("uniform_", "b", b)
    if a > b:
        raise ValueError(f"uniform_: expects a <= b, got a={a}, b={b}")
    rng = check_rng("uniform_", "rng", rng)
    if tensor.size == 0:
        return tensor
    if a == b:
        tensor.fill(a)
        return tensor
    return Uniform(low=a, high=b).fill_(tensor, rng)


@_fills_parameter
def normal_(tensor, mean=0.0, std=1.0, *, rng=None):
    """Fill ``tensor`` with draws from N(mean, std**2)."""
    tensor = _target("normal_", tensor)
    mean, std = _real("normal_", "mean", mean), _real("normal_", "std", std)
    if std < 0:
        raise ValueError(f"normal_: expects std >= 0.0, got std={std}")
    rng = check_rng("normal_", "rng", rng)
    if tensor.size == 0:
        return tensor
    return Normal(mean=mean, std=std).fill_(tensor, rng)


@_fills_parameter
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, *, rng=None):
    """Fill ``tensor`` with N(mean, std**2) conditioned on [a, b] (absolute bounds, not in stds)."""
    tensor = _target("trunc_normal_", tensor)
    rng = check_rng("trunc_normal_", "rng", rng)
    try:
        dist = TruncatedNormal(mean=mean, std=std, a=a, b=b)
    except (TypeError, ValueError) as e:
        raise type(e)(f"trunc_normal_: {str(e).removeprefix('TruncatedNormal: ')}") from None
    return tensor if tensor.size == 0 else dist.fill_(tensor, rng)


@_fills_parameter
def constant_(tensor, val):
    """Fill ``tensor`` with ``val``."""
    tensor = _target("constant_", tensor)
    tensor.fill(_real("constant_", "val", val, finite=False))
    return tensor


@_fills_parameter
def zeros_(tensor):
    """Fill ``tensor`` with zeros."""
    _target("zeros_", tensor).fill(0)
    return tensor


@_fills_parameter
def ones_(tensor):
    """Fill ``tensor`` with ones."""
    _target("ones_", tensor).fill(1)
    return tensor


@_fills_parameter
def eye_(tensor):
    """Fill the 2-D ``tensor`` with the identity (ones on the diagonal of a rectangle too)."""
    tensor = _target("eye_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only arrays with 2 dimensions are supported, got shape {tensor.shape}")
    tensor[...] = np.eye(*tensor.shape)
    return tensor


@_fills_parameter
def xavier_uniform_(tensor, gain=1.0, *, rng=None):
    """Glorot/Xavier uniform: U(-b, b), ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    tensor, rng = _target("xavier_uniform_", tensor), check_rng("xavier_uniform_", "rng", rng)
    fan_in, fan_out = _fans("xavier_uniform_", tensor)
    gain = _real("xavier_uniform_", "gain", gain)
    if tensor.size == 0:
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill_uniform(tensor, math.sqrt(3.0) * std, rng)


@_fills_parameter
def xavier_normal_(tensor, gain=1.0, *, rng=None):
    """Glorot/Xavier normal: N(0, std**2), ``std = gain * sqrt(2 / (fan_in + fan_out))``, untruncated."""
    tensor, rng = _target("xavier_normal_", tensor), check_rng("xavier_normal_", "rng", rng)
    fan_in, fan_out = _fans("xavier_normal_", tensor)
    gain = _real("xavier_normal_", "gain", gain)
    if tensor.size == 0:
        return tensor
    return normal_(tensor, 0.0, abs(gain) * math.sqrt(2.0 / float(fan_in + fan_out)), rng=rng)


@_fills_parameter
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None):
    """He/Kaiming uniform: U(-b, b), ``b = gain * sqrt(3 / fan)``, ``gain = calculate_gain(nonlinearity, a)``.

    The defaults are PyTorch's: ``nonlinearity="leaky_relu"`` with ``a=0``
    is ReLU's gain sqrt(2). ``a`` is the negative slope and counts only for
    ``"leaky_relu"``.
    """
    tensor, rng = _target("kaiming_uniform_", tensor), check_rng("kaiming_uniform_", "rng", rng)
    if tensor.size == 0:
        return tensor
    std = _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    return _fill_uniform(tensor, math.sqrt(3.0) * std, rng)


@_fills_parameter
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None):
    """He/Kaiming normal: N(0, std**2), ``std = gain / sqrt(fan)``, untruncated; arguments as ``kaiming_uniform_``."""
    tensor, rng = _target("kaiming_normal_", tensor), check_rng("kaiming_normal_", "rng", rng)
    if tensor.size == 0:
        return tensor
    return normal_(tensor, 0.0, _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity), rng=rng)


@_fills_parameter
def orthogonal_(tensor, gain=1, *, rng=None):
    """A (semi-)orthogonal matrix times ``gain``, the array viewed as ``(shape[0], rest)``."""
    tensor, rng = _target("orthogonal_", tensor), check_rng("orthogonal_", "rng", rng)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only arrays with 2 or more dimensions are supported, "
                         f"got shape {tensor.shape}")
    gain = _real("orthogonal_", "gain", gain)
    if tensor.size == 0:
        return tensor
    tensor[...] = gain * Orthogonal()(tensor.shape, rng)
    return tensor


def _target(owner, tensor):
    if not isinstance(tensor, np.ndarray) or tensor.dtype.kind != "f":
        got = f"an array of dtype {tensor.dtype}" if isinstance(tensor, np.ndarray) else type(tensor).__name__
        raise TypeError(f"{owner}: expected a floating-point numpy array to fill, got {got}")
    if not tensor.flags.writeable:
        raise ValueError(f"{owner}: the array is read-only")
    return tensor


def _real(owner, name, value, finite=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    if finite and not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    return float(value)


def _fans(owner, tensor):
    if tensor.ndim < 2:
        raise ValueError(f"{owner}: fan in and fan out can not be computed for an array with "
                         f"fewer than 2 dimensions, got shape {tensor.shape}")
    if tensor.size == 0:
        return 0, 0
    return compute_fans(tensor.shape, owner)


def _kaiming_std(owner, tensor, a, mode, nonlinearity):
    fan_in, fan_out = _fans(owner, tensor)
    key = mode.lower() if isinstance(mode, str) else mode
    if key not in ("fan_in", "fan_out"):
        raise ValueError(f"{owner}: mode {mode!r} not supported, please use one of "
                         "'fan_in', 'fan_out'")
    try:
        gain = calculate_gain(nonlinearity, a)
    except ValueError as e:
        raise ValueError(f"{owner}: {str(e).removeprefix('calculate_gain: ')}") from None
    return gain / math.sqrt(fan_in if key == "fan_in" else fan_out)


def _fill_uniform(tensor, bound, rng):
    if bound == 0:
        tensor.fill(0)
        return tensor
    return Uniform(low=-abs(bound), high=abs(bound)).fill_(tensor, rng)
