"""Initializers whose distribution does not depend on the weight shape."""

import math

import numpy as np

from .base import Initializer, arity_message, check_number, format_spec, keyword_only

__all__ = ["Normal", "Uniform", "Constant", "Zeros", "Ones"]


class Normal(Initializer):
    """Independent draws from N(mean, std**2).

    Both arguments are keyword-only: ``Normal(std=0.1)``. Text form:
    ``normal`` (mean 0, std 1), ``normal:STD``, ``normal:MEAN,STD``.
    """

    name = "normal"

    @keyword_only("give mean and std by name, e.g. Normal(std=0.1); "
                  "the text form 'normal:0.1' is std 0.1")
    def __init__(self, *, mean=0.0, std=1.0):
        self._config = {"mean": check_number("Normal", "mean", mean),
                        "std": check_number("Normal", "std", std, nonnegative=True)}

    def _sample(self, shape, rng):
        # the same numbers as rng.normal(mean, std, shape), which draws
        # standard normals and scales them, with less call overhead
        values = rng.standard_normal(shape)
        values *= self._config["std"]
        if self._config["mean"]:
            values += self._config["mean"]
        return values

    @property
    def mean(self):
        return self._config["mean"]

    def variance(self, shape=None):
        return self._config["std"] * self._config["std"]  # inf past 1e154, where ** raises

    def kurtosis(self, shape=None):
        return 3.0

    def to_spec(self):
        mean, std = self._config["mean"], self._config["std"]
        if mean != 0.0:
            return format_spec(self.name, [mean, std])
        return format_spec(self.name, [] if std == 1.0 else [std])

    @classmethod
    def _from_spec_values(cls, values):
        if len(values) > 2:
            raise ValueError(arity_message(cls.name, "STD or MEAN,STD", len(values)))
        names = ("mean", "std") if len(values) == 2 else ("std",)
        return cls(**dict(zip(names, values)))


class Uniform(Initializer):
    """Independent draws from U(low, high), defaults as ``torch.nn.init.uniform_``.

    Both arguments are keyword-only: ``Uniform(low=-0.5, high=0.5)``. Text
    form: ``uniform`` (U(0, 1)), ``uniform:BOUND`` for U(-BOUND, BOUND),
    ``uniform:LOW,HIGH``.
    """

    name = "uniform"

    @keyword_only("give low and high by name, e.g. Uniform(low=-0.5, high=0.5); "
                  "the text form 'uniform:0.5' is U(-0.5, 0.5)")
    def __init__(self, *, low=0.0, high=1.0):
        low = check_number("Uniform", "low", low)
        high = check_number("Uniform", "high", high)
        if low >= high:
            raise ValueError(f"Uniform: low must be < high, got low={low}, high={high}")
        self._config = {"low": low, "high": high}

    def _sample(self, shape, rng):
        low, high = self._config["low"], self._config["high"]
        if math.isfinite(high - low):
            return rng.uniform(low, high, shape)
        # numpy refuses a width past the largest float; this weighting never forms it
        u = rng.random(shape)
        return low * (1.0 - u) + high * u

    @property
    def mean(self):
        return self._config["low"] / 2 + self._config["high"] / 2  # low + high may overflow

    def variance(self, shape=None):
        width = self._config["high"] - self._config["low"]
        return width * width / 12

    def kurtosis(self, shape=None):
        return 1.8  # E[u**4] / E[u**2]**2 = (b**4 / 5) / (b**2 / 3)**2 for U(-b, b)

    def to_spec(self):
        low, high = self._config["low"], self._config["high"]
        if (low, high) == (0.0, 1.0):
            return self.name
        return format_spec(self.name, [high] if low == -high else [low, high])

    @classmethod
    def _from_spec_values(cls, values):
        if len(values) > 2:
            raise ValueError(arity_message(cls.name, "BOUND or LOW,HIGH", len(values)))
        if len(values) == 1:
            bound = check_number("Uniform", "BOUND", values[0], positive=True)
            return cls(low=-bound, high=bound)
        return cls(**dict(zip(("low", "high"), values)))


class Constant(Initializer):
    """Every entry equal to ``value``. Text form: ``constant:VALUE``."""

    name = "constant"
    _spec_params = ("value",)

    def __init__(self, value):
        self._value = check_number(type(self).__name__, "value", value)
        self._config = {"value": self._value}

    def _sample(self, shape, rng):
        return np.full(shape, self._value)

    @property
    def mean(self):
        return self._value

    def variance(self, shape=None):
        return 0.0

    def kurtosis(self, shape=None):
        return math.nan  # 0 / 0: a constant has no spread to shape


class Zeros(Constant):
    """Every entry 0. Text form: ``zeros``."""

    name = "zeros"
    _spec_params = ()

    def __init__(self):
        super().__init__(0.0)
        self._config = {}


class Ones(Constant):
    """Every entry 1. Text form: ``ones``."""

    name = "ones"
    _spec_params = ()

    def __init__(self):
        super().__init__(1.0)
        self._config = {}
