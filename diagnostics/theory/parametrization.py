"""From weight initializers and raw weight stds to the theory's sigma_w.

The theory draws weights from N(0, sigma_w**2 / fan_in). Only the variance
of a zero-mean initializer matters at large width, so the lecture's
N(0, std**2) is ``sigma_w**2 = fan_in * std**2``, a uniform U(-b, b) is
``fan_in * b**2 / 3``, and any tinynet initializer is
``fan_in * init.variance((fan_out, fan_in))``.
"""

import math

import tinynet

from ._checks import check_count, check_real

__all__ = ["sigma_w_from_init", "sigma_w_from_std", "weight_std"]


def sigma_w_from_std(std, fan_in):
    """``sigma_w = std * sqrt(fan_in)`` for weights N(0, std**2) with no fan scaling."""
    std = check_real("sigma_w_from_std", "std", std, nonnegative=True)
    fan_in = check_count("sigma_w_from_std", "fan_in", fan_in)
    return std * math.sqrt(fan_in)


def weight_std(sigma_w, fan_in):
    """The per-entry weight std ``sigma_w / sqrt(fan_in)`` that realizes ``sigma_w``."""
    sigma_w = check_real("weight_std", "sigma_w", sigma_w, nonnegative=True)
    fan_in = check_count("weight_std", "fan_in", fan_in)
    return sigma_w / math.sqrt(fan_in)


def sigma_w_from_init(init, fan_in, fan_out=None):
    """``sqrt(fan_in * init.variance((fan_out, fan_in)))`` for a zero-mean initializer.

    ``init`` is a ``tinynet.init`` initializer or its text form (e.g.
    ``"normal:0.1"``, ``"xavier_uniform"``); ``fan_out`` defaults to
    ``fan_in`` (a square layer, as in the lecture).
    """
    owner = "sigma_w_from_init"
    if isinstance(init, str):
        init = tinynet.init.from_spec(init)
    if not isinstance(init, tinynet.init.Initializer):
        raise TypeError(f"{owner}: init must be a tinynet.init initializer or its text form, "
                        f"got {init!r}")
    fan_in = check_count(owner, "fan_in", fan_in)
    fan_out = fan_in if fan_out is None else check_count(owner, "fan_out", fan_out)
    if init.mean != 0.0:
        raise ValueError(f"{owner}: {init!r} has mean {init.mean}; the mean-field theory "
                         "needs zero-mean weights")
    return math.sqrt(fan_in * init.variance((fan_out, fan_in)))
