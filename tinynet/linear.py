"""Linear: the affine layer ``y = x @ weight.T + bias``."""

import numpy as np

from . import init as init_module
from .architecture import register_layer
from .checks import as_float_array, check_bool, check_float_dtype, check_rng, check_size
from .layer import Layer
from .parameter import Parameter


@register_layer
class Linear(Layer):
    """Affine map ``x: (batch, in_features) -> (batch, out_features)``.

    ``weight: (out_features, in_features)`` and ``bias: (out_features,)``, as
    in ``torch.nn.Linear``. The default ``weight_init``, ``LeCunUniform()``
    (variance 1 / in_features), keeps the signal's variance through the layer
    itself, the neutral choice before the activation is known; the default
    ``bias_init`` is zeros. Both may be initializers or ``init.from_spec``
    strings. Input of another float dtype is cast to ``dtype``.
    """

    def __init__(self, in_features, out_features, bias=True, weight_init=None,
                 bias_init=None, rng=None, dtype=np.float64):
        super().__init__()
        who = f"Linear({in_features} -> {out_features})"
        self.in_features = check_size(who, "in_features", in_features)
        self.out_features = check_size(who, "out_features", out_features)
        self.dtype = check_float_dtype(who, "dtype", dtype)
        self.weight_init = init_module.LeCunUniform() if weight_init is None else init_module.get(weight_init, who)
        self.bias_init = None
        if check_bool(who, "bias", bias):
            self.bias_init = init_module.Zeros() if bias_init is None else init_module.get(bias_init, who)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), self.dtype))
        self.bias = Parameter(np.empty(self.out_features, self.dtype)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        """Draw the weight, then the bias, from their initializers, in place: the constructor's draws."""
        rng = check_rng(self.label(), "rng", rng)
        for param, init, what in ((self.weight, self.weight_init, "weight_init"),
                                  (self.bias, self.bias_init, "bias_init")):
            if param is not None:
                try:
                    values = np.asarray(init(param.shape, rng, dtype=self.dtype))
                except (TypeError, ValueError) as e:
                    if isinstance(init, init_module.Initializer):  # tinynet's own say what was wrong
                        raise
                    raise TypeError(f"{self.label()}: {what} {getattr(init, '__name__', init)!r:.60} failed when "
                                    f"called as init(shape, rng, dtype=dtype), as an initializer is: {e}") from None
                if values.dtype.kind not in "fiu":
                    raise TypeError(f"{self.label()}: {what} returned {values.dtype} values, not numbers")
                if values.shape != param.shape:  # a custom initializer may get it wrong
                    raise ValueError(f"{self.label()}: {what} returned an array of shape {values.shape}, "
                                     f"expected {param.shape}")
                param.data[...] = values

    def _check_input(self, x):
        if type(x) is np.ndarray and x.dtype is self.dtype and x.ndim == 2 and x.shape[1] == self.in_features:
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
                "bias": self.bias is not None, "dtype": self.dtype.name}

    @classmethod
    def state_spec(cls, config):
        """``weight: (out_features, in_features)`` and ``bias: (out_features,)``, of ``dtype``."""
        n_in = check_size("Linear", "in_features", config["in_features"])
        n_out = check_size("Linear", "out_features", config["out_features"])
        dtype = check_float_dtype("Linear", "dtype", config["dtype"])
        bias = check_bool("Linear", "bias", config["bias"])
        return {"weight": ((n_out, n_in), dtype), **({"bias": ((n_out,), dtype)} if bias else {})}

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def label(self):
        return f"Linear({self.in_features} -> {self.out_features})"
