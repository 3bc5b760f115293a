"""Elementwise activations: each is a layer defined by ``fn`` and ``derivative``.

Forward keeps the pre-activation ``z``; backward returns ``dy * derivative(z)``,
in one pass and in ``dy``'s dtype. ``derivative`` may give floats or, where
it is only ever 0 or 1 (ReLU), a boolean mask: a mask is an eighth of the
memory, and is never converted to floats first.
The formulas are written to stay finite and warning-free for any finite input
(no ``exp`` of a large positive number), because the probes push activations
far into their tails. Where a result is truly beyond the largest float (SELU
of the largest float) it is inf; ``nan`` gives ``nan``, and ``inf`` what IEEE
arithmetic gives, as in PyTorch (GELU and SiLU of -inf are nan); none of these
warns. The derivation of each derivative is in docs/backprop.md.
"""

import inspect
import math

import numpy as np

from .architecture import register_layer, registered_layers
from .checks import check_choice, check_number
from .layer import Layer


class Activation(Layer):
    """An elementwise layer ``x: (batch, ...) -> (batch, ...)``, ``y = fn(x)``.

    A new activation in one line::

        Sine = Activation(np.sin, np.cos, name="sine")

    or subclass it and define ``fn`` and ``derivative`` as methods. A
    subclass with a class attribute ``name`` is registered under it, as
    ``register_layer`` would: :func:`activation` finds it, and ``save`` and
    ``load`` know it.
    """

    name = None
    #: fn(a * z) == a * fn(z) for a > 0. Rescaling the signal then leaves
    #: the Jacobian unchanged, which lets probes rescale the forward pass too.
    positively_homogeneous = False
    #: Bounded with flat tails, where gradients vanish.
    saturating = False

    def __init__(self, fn=None, derivative=None, name=None):
        super().__init__()
        if type(self) is not Activation and any(v is not None for v in (fn, derivative, name)):
            # a subclass's fn and derivative are its methods; ReLU(0.1) is a slip
            given = ", ".join(repr(v) for v in (fn, derivative, name) if v is not None)
            raise TypeError(f"{type(self).__name__}: takes no fn, derivative or name (got {given}); "
                            "those are for Activation(fn, derivative, name) itself")
        if (fn is None) != (derivative is None):
            raise TypeError("Activation: give both fn and derivative, or neither")
        if fn is not None:
            if not (callable(fn) and callable(derivative)):
                raise TypeError("Activation: fn and derivative must be callable")
            self.fn = fn
            self.derivative = derivative
            self.name = name or getattr(fn, "__name__", "custom")
        elif type(self).fn is Activation.fn:
            raise TypeError("Activation: give fn and derivative (or subclass and define them)")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            register_layer(cls, name=cls.name)

    def fn(self, z):
        """The activation itself, elementwise."""
        raise NotImplementedError

    def derivative(self, z):
        """Its derivative with respect to the input, elementwise: floats, or a boolean mask where it is 0 or 1."""
        raise NotImplementedError

    def _forward(self, x):
        return self.fn(x), x  # backward needs the input

    def _backward(self, x, dy):
        # dtype: a boolean mask, or a wider derivative, multiplies in one pass into dy's dtype
        return np.multiply(dy, self.derivative(x), dtype=dy.dtype)

    def __repr__(self):
        if type(self) is Activation:
            return f"Activation(name={self.name!r})"
        return super().__repr__()


def activation(name, **kwargs):
    """Build the activation registered under ``name``, e.g. ``activation("relu")``."""
    cls = registered_layers().get(name) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, Activation)):
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(available_activations())}")
    settings = [] if cls.__init__ is Activation.__init__ else [
        p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(kwargs) - set(settings))
    if unknown:
        takes = ", ".join(settings) if settings else "no settings"
        raise TypeError(f"activation {name!r} takes {takes}; got {', '.join(unknown)}")
    return cls(**kwargs)


def available_activations():
    """The registered activation names, sorted."""
    return sorted(name for name, cls in registered_layers().items() if issubclass(cls, Activation))


def _stable_exp_neg_abs(z):
    """``exp(-|z|)``: in (0, 1], so it never overflows."""
    return np.exp(-np.abs(z))


def sigmoid(z):
    """The logistic function, accurate and warning-free for any ``z``."""
    e = _stable_exp_neg_abs(z)
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_derivative(z):
    """``sigmoid(z) * (1 - sigmoid(z))`` without the cancellation of ``1 - s`` for large z."""
    e = _stable_exp_neg_abs(z)
    return e / (1.0 + e) ** 2


class Identity(Activation):
    """``y = x``; the linear network."""

    name = "identity"
    positively_homogeneous = True

    def fn(self, z):
        return z

    def derivative(self, z):
        return np.ones_like(z)


class ReLU(Activation):
    """``max(x, 0)``; derivative 0 at the kink, as in PyTorch, given as a boolean mask."""

    name = "relu"
    positively_homogeneous = True

    def fn(self, z):
        return np.maximum(z, 0)

    def derivative(self, z):
        return z > 0


class LeakyReLU(Activation):
    """``x`` for x > 0, ``negative_slope * x`` otherwise."""

    name = "leaky_relu"
    positively_homogeneous = True

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_number("LeakyReLU", "negative_slope", negative_slope)

    def fn(self, z):
        return np.where(z > 0, z, self.negative_slope * z)

    def derivative(self, z):
        return np.where(z > 0, 1.0, self.negative_slope).astype(z.dtype, copy=False)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class ELU(Activation):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""

    name = "elu"

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = check_number("ELU", "alpha", alpha)

    def fn(self, z):
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0)))

    def derivative(self, z):
        return np.where(z > 0, 1.0, self.alpha * np.exp(np.minimum(z, 0))).astype(z.dtype, copy=False)

    def get_config(self):
        return {"alpha": self.alpha}


class SELU(Activation):
    """``scale * ELU(x, alpha)`` with the self-normalizing constants of Klambauer et al."""

    name = "selu"
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def fn(self, z):
        with np.errstate(over="ignore"):  # scale * z passes the largest float only near it
            return self.scale * np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0)))

    def derivative(self, z):
        d = np.where(z > 0, 1.0, self.alpha * np.exp(np.minimum(z, 0)))
        return (self.scale * d).astype(z.dtype, copy=False)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(Activation):
    """``x * Phi(x)``, as ``torch.nn.GELU``: the exact normal CDF, or its tanh form.

    ``approximate="none"`` (the default) uses erf; ``"tanh"`` uses
    ``Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2``.
    """

    name = "gelu"

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = check_choice("GELU", "approximate", approximate, ("none", "tanh"))

    def fn(self, z):
        if self.approximate == "tanh":
            return _tanh_gelu(z, derivative=False)
        with np.errstate(invalid="ignore"):  # -inf * 0 is nan, as in PyTorch
            return (0.5 * z * (1.0 + _erf(z * _SQRT_HALF))).astype(z.dtype, copy=False)

    def derivative(self, z):
        if self.approximate == "tanh":
            return _tanh_gelu(z, derivative=True)
        cdf = 0.5 * (1.0 + _erf(z * _SQRT_HALF))
        # z^2 overflows to inf for huge |z|, and exp(-inf) = 0 is then the right answer
        with np.errstate(over="ignore", invalid="ignore"):
            return (cdf + z * _INV_SQRT_2PI * np.exp(-0.5 * z * z)).astype(z.dtype, copy=False)

    def get_config(self):
        return {"approximate": self.approximate}


_GELU_KAPPA = 0.044715
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _tanh_gelu(z, derivative):
    """GELU's tanh form, or its derivative, in float32 or wider.

    ``(1 + tanh(u)) / 2`` is written ``sigmoid(2u)``, which keeps its
    relative accuracy for negative ``z``, and ``1 - tanh(u)^2`` is
    ``4 sigmoid'(2u)``. The cubic is taken of ``z`` clipped to 1e4, where
    the CDF is already exactly 0 or 1 in every float type: so ``z^3`` never
    overflows and ``inf * 0`` never appears in the derivative.
    """
    x = z.astype(np.promote_types(z.dtype, np.float32), copy=False)
    xc = np.minimum(np.maximum(x, -1e4), 1e4)
    two_u = 2.0 * _SQRT_2_OVER_PI * (xc + _GELU_KAPPA * xc * xc * xc)
    cdf = sigmoid(two_u)
    if derivative:
        slope = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_KAPPA * xc * xc)
        out = cdf + 2.0 * xc * sigmoid_derivative(two_u) * slope
    else:
        with np.errstate(invalid="ignore"):  # -inf * 0 is nan, as in PyTorch
            out = x * cdf
    return out.astype(z.dtype, copy=False)


def _erf(x):
    """scipy's erf; it has no float16 loop (it answers in float32) and no longdouble one.

    longdouble is computed in float64 and so has float64's precision.
    """
    from scipy.special import erf  # scipy loads only when GELU is used

    # erf is +-1 to float64 precision beyond 6; so longdouble fits. (np.clip does the
    # same but costs several times as much on the small arrays the theory passes.)
    x = np.minimum(np.maximum(x, -30.0), 30.0)
    return erf(x.astype(np.float64) if x.dtype.itemsize > 8 else x)


class SiLU(Activation):
    """``x * sigmoid(x)`` (also called swish)."""

    name = "silu"

    def fn(self, z):
        with np.errstate(invalid="ignore"):  # -inf * 0 is nan, as in PyTorch
            return z * sigmoid(z)

    def derivative(self, z):
        with np.errstate(invalid="ignore"):
            return sigmoid(z) + z * sigmoid_derivative(z)


class Softplus(Activation):
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold``, as ``torch.nn.Softplus``.

    The log is computed as ``logaddexp(0, beta x)``, so it never overflows
    whatever the threshold; the derivative is ``sigmoid(beta x)``, and 1 on
    the linear part.
    """

    name = "softplus"

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = check_number("Softplus", "beta", beta)
        if self.beta == 0:
            raise ValueError("Softplus: beta must be nonzero (it divides the log), got 0")
        self.threshold = check_number("Softplus", "threshold", threshold)

    def fn(self, z):
        with np.errstate(over="ignore", invalid="ignore"):  # beta z may pass the largest float
            bz = self.beta * z
            soft = np.logaddexp(0.0, bz) / self.beta
        return np.where(bz > self.threshold, z, soft).astype(z.dtype, copy=False)

    def derivative(self, z):
        with np.errstate(over="ignore"):
            bz = self.beta * z
        return np.where(bz > self.threshold, 1.0, sigmoid(bz)).astype(z.dtype, copy=False)

    def get_config(self):
        return {"beta": self.beta, "threshold": self.threshold}


class Sigmoid(Activation):
    """``1 / (1 + exp(-x))``, stable for any x."""

    name = "sigmoid"
    saturating = True

    def fn(self, z):
        return sigmoid(z)

    def derivative(self, z):
        return sigmoid_derivative(z)


class Tanh(Activation):
    """``tanh(x)``."""

    name = "tanh"
    saturating = True

    def fn(self, z):
        return np.tanh(z)

    def derivative(self, z):
        # 1 - tanh^2 rounds to 0 for |z| > 19; this form keeps its true size.
        # -2|z| overflows to -inf near the largest float, and exp(-inf) = 0 is right.
        with np.errstate(over="ignore"):
            e = np.exp(-2.0 * np.abs(z))
        return 4.0 * e / (1.0 + e) ** 2


class ScaledSigmoid(Activation):
    """``scale * sigmoid(x) + shift``; the default 4 * sigmoid(x) - 2 has slope 1 at 0, like tanh."""

    name = "scaled_sigmoid"
    saturating = True

    def __init__(self, scale=4.0, shift=-2.0):
        super().__init__()
        self.scale = check_number("ScaledSigmoid", "scale", scale)
        self.shift = check_number("ScaledSigmoid", "shift", shift)

    def fn(self, z):
        return self.scale * sigmoid(z) + self.shift

    def derivative(self, z):
        return self.scale * sigmoid_derivative(z)

    def get_config(self):
        return {"scale": self.scale, "shift": self.shift}
