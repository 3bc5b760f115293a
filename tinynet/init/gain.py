"""Recommended weight gains per nonlinearity, matching ``torch.nn.init.calculate_gain``."""

import math

import numpy as np

__all__ = ["calculate_gain", "NONLINEARITIES"]

_LINEAR = ("linear", "identity", "conv1d", "conv2d", "conv3d",
           "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")
NONLINEARITIES = _LINEAR + ("tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity, param=None):
    """The factor by which to multiply the std of a variance-1/fan init for ``nonlinearity``.

    ``param`` is the negative slope for ``"leaky_relu"`` (default 0.01) and
    is ignored for every other nonlinearity, as in PyTorch.
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif (isinstance(param, (int, float, np.integer, np.floating))
              and not isinstance(param, bool) and math.isfinite(param)):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope must be a number, got {param!r}")
        return math.sqrt(2.0) / math.hypot(1.0, slope)  # slope * slope would overflow past 1e154
    if nonlinearity == "selu":
        # PyTorch's value trades self-normalization for steadier gradients;
        # a strictly self-normalizing init uses "linear" instead
        return 0.75
    options = ", ".join(repr(n) for n in NONLINEARITIES)
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of {options}")
