"""Linear: the affine layer ``y = x @ weight.T + bias``."""

import numpy as np

from . import init as init_module
from .checks import as_float_array, check_bool, check_float_dtype, check_rng, check_size
from .layer import Layer
from .parameter import Parameter


def _drawn(init, shape, rng, dtype, who, what):
    """``init(shape, rng, dtype=dtype)``, checked to have ``shape``: a custom initializer may get it wrong."""
    values = np.asarray(init(shape, rng, dtype=dtype))
    if values.shape != shape:
        raise ValueError(f"{who}: {what} returned an array of shape {values.shape}, expected {shape}")
    return values


class Linear(Layer):
    """Affine map ``x: (batch, in_features) -> (batch, out_features)``.

    ``weight`` has shape ``(out_features, in_features)`` and ``bias`` shape
    ``(out_features,)``, exactly as in ``torch.nn.Linear``, so weights move
    between the two without transposing.

    The default ``weight_init`` is ``LeCunUniform()``: U(-a, a) with
    a = sqrt(3 / in_features), variance 1 / in_features. It keeps the variance
    of the signal through the layer itself (the neutral choice when the
    activation is not known yet); pass ``HeNormal()`` for ReLU networks, or let
    ``diagnostics.theory.critical_init`` choose. The default ``bias_init`` is
    zeros, so a fresh layer adds no variance of its own. ``weight_init`` and
    ``bias_init`` may be initializer objects or ``init.from_spec`` strings.
    Input of another float dtype is cast to ``dtype``.
    """

    def __init__(self, in_features, out_features, bias=True, weight_init=None,
                 bias_init=None, rng=None, dtype=np.float64):
        super().__init__()
        who = f"Linear({in_features} -> {out_features})"
        self.in_features = check_size(who, "in_features", in_features)
        self.out_features = check_size(who, "out_features", out_features)
        self.dtype = check_float_dtype(who, "dtype", dtype)
        bias = check_bool(who, "bias", bias)
        rng = check_rng(who, "rng", rng)
        self.weight_init = init_module.LeCunUniform() if weight_init is None else init_module.get(weight_init, who)
        self.weight = Parameter(_drawn(self.weight_init, (self.out_features, self.in_features), rng,
                                       self.dtype, who, "weight_init"))
        if bias:
            self.bias_init = init_module.Zeros() if bias_init is None else init_module.get(bias_init, who)
            self.bias = Parameter(_drawn(self.bias_init, (self.out_features,), rng, self.dtype, who,
                                         "bias_init"))
        else:
            self.bias_init = None
            self.bias = None

    def reset_parameters(self, rng=None):
        """Draw the weight (then the bias) again from their initializers, in place.

        The draws are the constructor's, in its order, so the same ``rng``
        state gives the same numbers as building the layer anew.
        """
        rng = check_rng(self.label(), "rng", rng)
        self.weight.data[...] = _drawn(self.weight_init, self.weight.shape, rng, self.dtype, self.label(),
                                       "weight_init")
        if self.bias is not None:
            self.bias.data[...] = _drawn(self.bias_init, self.bias.shape, rng, self.dtype, self.label(),
                                         "bias_init")

    def _check_input(self, x):
        if type(x) is np.ndarray and x.dtype == self.dtype and x.ndim == 2 and x.shape[1] == self.in_features:
            return x  # the common case in one line: this runs every forward
        x = as_float_array(self, "input", x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"{self.label()}: expected input of shape (batch, {self.in_features}), got {x.shape}")
        return x.astype(self.dtype, copy=False)

    def _forward(self, x):
        y = x @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data
        return y, x

    def _backward(self, x, dy):
        weight, bias = self.weight, self.bias
        if weight.requires_grad:
            # with several cotangents for one input row, the gradient of their sum
            weight.accumulate(dy.T @ x if len(dy) == len(x) else np.outer(dy.sum(axis=0), x[0]))
        if bias is not None and bias.requires_grad:
            bias.accumulate(dy.sum(axis=0))
        return dy @ weight.data

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None}

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

    def label(self):
        return f"Linear({self.in_features} -> {self.out_features})"
