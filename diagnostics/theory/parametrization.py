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

__all__ = ["sigma_w_from_init", "sigma_w_from_std", "weight_std", "weights_kind", "weight_kurtosis"]


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
    ``fan_in`` (a square layer, as in the lecture). Where the initializer's
    std is known without squaring (normal, uniform, orthogonal), sigma_w is
    ``std * sqrt(fan_in)``, so that stds beyond 1e154 or below 1e-154 (whose
    squares leave float range) give sigma_w too.
    """
    owner = "sigma_w_from_init"
    init = _as_init(owner, init)
    fan_in = check_count(owner, "fan_in", fan_in)
    fan_out = fan_in if fan_out is None else check_count(owner, "fan_out", fan_out)
    if init.mean != 0.0:
        raise ValueError(f"{owner}: {init!r} has mean {init.mean}; the mean-field theory "
                         "needs zero-mean weights")
    std = _std(init, (fan_out, fan_in))
    if std is not None:
        sigma_w = std * math.sqrt(fan_in)
    else:
        try:
            sigma_w = math.sqrt(fan_in * init.variance((fan_out, fan_in)))
        except OverflowError:  # a variance squared from a huge std
            sigma_w = math.inf
    if not math.isfinite(sigma_w):
        raise OverflowError(f"{owner}: sigma_w of {init!r} at fan-in {fan_in} is beyond float64's range")
    return sigma_w


def weights_kind(init):
    """``"orthogonal"`` for an initializer that draws orthogonal matrices (``init.orthogonal``), else ``"gaussian"``.

    The theory treats every other zero-mean initializer as Gaussian: at large
    width only the variance of i.i.d. entries matters.
    """
    return "orthogonal" if _as_init("weights_kind", init).orthogonal else "gaussian"


def weight_kurtosis(init, shape=None):
    """``E[w**4] / E[w**2]**2`` of one entry: 3 Gaussian, 1.8 uniform, 2.37 cut at 2 std.

    The initializer's own ``kurtosis(shape)``; ``shape`` may be omitted
    where the distribution does not depend on it.
    """
    return _as_init("weight_kurtosis", init).kurtosis(shape)


def linear_scales(who, layer):
    """``(sigma_w, variance of the biases)`` of a ``tinynet.Linear``, from its initializers; ``who`` names it in errors."""
    sigma_w = sigma_w_from_init(layer.weight_init, layer.in_features, layer.out_features)
    if not sigma_w > 0.0:
        raise ValueError(f"{who}: the weights have variance 0 ({layer.weight_init!r}); the theory needs > 0")
    if layer.bias_init is None:
        return sigma_w, 0.0
    if layer.bias_init.mean != 0.0:
        raise ValueError(f"{who}: the bias initializer {layer.bias_init!r} has mean "
                         f"{layer.bias_init.mean}; the mean-field theory needs zero-mean biases")
    variance = layer.bias_init.variance((layer.out_features,))
    if not math.isfinite(variance):  # a std beyond 1e154 squares past float64's range
        raise OverflowError(f"{who}: the biases' variance ({layer.bias_init!r}) is beyond float64's range")
    return sigma_w, variance


def _as_init(owner, init):
    if isinstance(init, str):
        init = tinynet.init.from_spec(init)
    if not isinstance(init, tinynet.init.Initializer):
        raise TypeError(f"{owner}: init must be a tinynet.init initializer or its text form, "
                        f"got {init!r}")
    return init


def _std(init, shape):
    """The entries' std computed without squaring anything, or None where that is not known here."""
    config = init.get_config()
    if type(init) is tinynet.init.Normal:
        return config["std"]
    if type(init) is tinynet.init.Uniform:
        # halves first: high - low itself overflows for bounds near 1e308
        return (config["high"] / 2 - config["low"] / 2) / math.sqrt(3.0)
    if type(init) is tinynet.init.Orthogonal:
        rows, cols = shape[0], shape[1]
        return config["gain"] / math.sqrt(max(rows, cols))
    return None
