"""Argument checks shared by the theory modules: bad input fails here, named."""

import math
import numbers

import tinynet
from tinynet.checks import check_number as check_real  # noqa: F401  (the theory's name for it)


def as_activation(activation, owner):
    """``activation`` as a tinynet Activation: an instance, a subclass, or a registered name."""
    if isinstance(activation, tinynet.Activation):
        return activation
    if isinstance(activation, type) and issubclass(activation, tinynet.Activation):
        return activation()
    if isinstance(activation, str):
        try:
            return tinynet.activation(activation)
        except ValueError as exc:
            raise ValueError(f"{owner}: {exc}") from None
    raise TypeError(
        f"{owner}: activation must be a tinynet Activation or the name of one "
        f"(e.g. 'relu'), got {activation!r} (type {type(activation).__name__})")


def check_count(owner, name, value, minimum=1):
    """``value`` as a Python int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value}")
    return int(value)


def check_variance(owner, q):
    """``q`` as a float in [0, inf]; inf stands for the limit of an exploding variance."""
    if isinstance(q, bool) or not isinstance(q, numbers.Real) or not float(q) >= 0.0:
        raise ValueError(f"{owner}: q must be a variance >= 0, got {q!r}")
    return float(q)


def first_variance(owner, sigma_w, sigma_b, input_sq=1.0):
    """``sigma_w**2 * input_sq + sigma_b**2``, or an OverflowError that says the theory cannot go on.

    Beyond float64's range the variance is inf, and the mean-field maps of
    a saturating activation have no usable limit there: E[phi'(z)**2] ~
    1 / sqrt(q) while sigma_w**2 grows, so their product is inf times 0.
    """
    q = sigma_w * sigma_w * input_sq + sigma_b * sigma_b
    if not math.isfinite(q):
        raise OverflowError(f"{owner}: the first layer's variance sigma_w^2 * mean(x^2) + sigma_b^2 is "
                            f"beyond float64's range (sigma_w = {sigma_w:.3g}, sigma_b = {sigma_b:.3g})")
    return q
