"""Variance scaling (Keras semantics) and its named cases: Xavier, He and LeCun."""

import math

from .base import Initializer, check_choice, check_number, check_shape
from .gain import NONLINEARITIES, calculate_gain
from .truncated import sample_standard, standard_kurtosis

__all__ = ["VarianceScaling", "XavierUniform", "XavierNormal", "HeNormal", "HeUniform",
           "LeCunNormal", "LeCunUniform"]

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
# std of N(0, 1) truncated to [-2, 2]; dividing by it restores the target variance
_TRUNCATED_STD = 0.87962566103423978


class VarianceScaling(Initializer):
    """Zero-mean entries with variance ``scale / n``, exactly Keras 3's ``VarianceScaling``.

    ``mode`` picks n: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"`` (their
    mean), at least 1. ``distribution`` (any case) is
    ``"truncated_normal"`` (cut at 2 std, the std divided by 0.8796... so
    the variance is still scale / n), ``"untruncated_normal"``, or
    ``"uniform"`` (U(-sqrt(3 scale / n), sqrt(3 scale / n))); as in Keras,
    ``"normal"`` means ``"truncated_normal"``. Fans are tinynet's (a weight
    is ``(out, in, *kernel)``, Keras's kernel is ``(in, out)``, so both give
    a layer the same n); a 1-D shape ``(n,)`` has fan_in = fan_out = n, as
    in Keras. ``seed`` exists for Keras's configs and must be None: the
    numbers come from the ``rng`` passed at each call.

    Text form: ``variance_scaling[:SCALE[,MODE[,DISTRIBUTION]]]``.
    """

    name = "variance_scaling"
    _spec_params = ("scale", "mode", "distribution")
    _keras_fans = True  # 1-D shapes allowed; the PyTorch-named subclasses need 2 dimensions

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        owner = type(self).__name__
        self._scale = check_number(owner, "scale", scale, positive=True)
        self._mode = check_choice(owner, "mode", mode, MODES)
        if isinstance(distribution, str):
            distribution = distribution.lower()
            if distribution == "normal":
                distribution = "truncated_normal"  # Keras 3 reads "normal" so
        self._distribution = check_choice(owner, "distribution", distribution, DISTRIBUTIONS)
        if seed is not None:
            raise ValueError(f"{owner}: seed must be None; tinynet draws from the rng passed "
                             f"at each call, got seed={seed!r}")
        self._config = {"scale": self._scale, "mode": mode, "distribution": self._distribution}

    def get_config(self):
        """Keras's keys: scale, mode, distribution (as Keras stores it) and seed (None)."""
        if type(self) is VarianceScaling:
            return {**self._config, "seed": None}
        return dict(self._config)  # the named cases take their own arguments

    def variance(self, shape=None):
        if shape is None:
            raise TypeError(f"{type(self).__name__}: the variance depends on the weight shape; pass it")
        if self._keras_fans and len(check_shape(type(self).__name__, shape)) < 2:
            dims = check_shape(type(self).__name__, shape)
            fan_in = fan_out = dims[0] if dims else 1
        else:
            fan_in, fan_out = self._fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self._mode]
        return self._scale / max(1.0, n)

    def kurtosis(self, shape=None):
        if self._distribution == "uniform":
            return 1.8
        return 3.0 if self._distribution == "untruncated_normal" else standard_kurtosis(-2.0, 2.0)

    def _sample(self, shape, rng):
        variance = self.variance(shape)
        if self._distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        if self._distribution == "uniform":
            bound = math.sqrt(3.0 * variance)
            return rng.uniform(-bound, bound, shape)
        z = sample_standard(-2.0, 2.0, math.prod(shape), rng)
        return (math.sqrt(variance) / _TRUNCATED_STD * z).reshape(shape)


class _Xavier(VarianceScaling):
    """Shared constructor of the Xavier initializers: scale gain**2 over fan_avg."""

    _spec_params = ("gain",)
    _keras_fans = False

    def __init__(self, gain=1.0):
        gain = check_number(type(self).__name__, "gain", gain, positive=True)
        super().__init__(gain * gain, "fan_avg", self._kind)
        self._config = {"gain": gain}


class XavierUniform(_Xavier):
    """Glorot/Xavier uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).

    Text form: ``xavier_uniform[:GAIN]`` (alias ``glorot_uniform``).
    """

    name = "xavier_uniform"
    _kind = "uniform"


class XavierNormal(_Xavier):
    """Glorot/Xavier normal: N(0, gain**2 * 2 / (fan_in + fan_out)), untruncated as in PyTorch.

    Text form: ``xavier_normal[:GAIN]`` (alias ``glorot_normal``).
    """

    name = "xavier_normal"
    _kind = "untruncated_normal"


class _He(VarianceScaling):
    """Shared constructor of the He initializers: scale gain**2 over fan_in or fan_out."""

    _spec_params = ("negative_slope", "mode", "nonlinearity")
    _keras_fans = False

    def __init__(self, negative_slope=0.0, mode="fan_in", nonlinearity=None):
        owner = type(self).__name__
        slope = check_number(owner, "negative_slope", negative_slope)
        mode = check_choice(owner, "mode", mode, ("fan_in", "fan_out"))
        if nonlinearity is None:
            nonlinearity = "leaky_relu" if slope else "relu"
        check_choice(owner, "nonlinearity", nonlinearity, NONLINEARITIES)
        if slope and nonlinearity != "leaky_relu":
            # PyTorch silently ignores the slope here; that is almost always a mistake
            raise ValueError(f"{owner}: negative_slope={slope} only applies to "
                             f"nonlinearity='leaky_relu', got nonlinearity={nonlinearity!r}")
        gain = calculate_gain(nonlinearity, slope)
        super().__init__(gain * gain, mode, self._kind)
        self._config = {"negative_slope": slope, "mode": mode, "nonlinearity": nonlinearity}


class HeNormal(_He):
    """He/Kaiming normal: N(0, gain**2 / fan), like ``torch.nn.init.kaiming_normal_``.

    ``gain = calculate_gain(nonlinearity, negative_slope)``; ``mode`` is
    ``"fan_in"`` or ``"fan_out"``. ``nonlinearity`` defaults to
    ``"leaky_relu"`` when ``negative_slope`` is non-zero, else ``"relu"``.

    Text form: ``he_normal[:SLOPE[,MODE[,NONLINEARITY]]]`` (alias ``kaiming_normal``).
    """

    name = "he_normal"
    _kind = "untruncated_normal"


class HeUniform(_He):
    """He/Kaiming uniform: U(-b, b), b = gain * sqrt(3 / fan), like ``kaiming_uniform_``.

    Parameters and text form as ``HeNormal``, with name ``he_uniform``
    (alias ``kaiming_uniform``).
    """

    name = "he_uniform"
    _kind = "uniform"


class _LeCun(VarianceScaling):
    """Shared constructor of the LeCun initializers: scale 1 over fan_in."""

    _spec_params = ()
    _keras_fans = False

    def __init__(self):
        super().__init__(1.0, "fan_in", self._kind)
        self._config = {}


class LeCunNormal(_LeCun):
    """LeCun normal: N(0, 1 / fan_in), untruncated (Keras truncates). Text form: ``lecun_normal``."""

    name = "lecun_normal"
    _kind = "untruncated_normal"


class LeCunUniform(_LeCun):
    """LeCun uniform: U(-b, b), b = sqrt(3 / fan_in). Text form: ``lecun_uniform``."""

    name = "lecun_uniform"
    _kind = "uniform"
