"""The truncated normal distribution: moments and rejection sampling."""

import math

import numpy as np

from .base import Initializer, arity_message, check_number, format_spec, keyword_only

__all__ = ["TruncatedNormal"]

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)
# below this acceptance rate rejection sampling would take unreasonably long
_MIN_ACCEPTANCE = 1e-4
_MAX_CHUNK = 1 << 20


def _pdf(x):
    return math.exp(-0.5 * x * x) / _SQRT2PI


def _mass(alpha, beta):
    """P(alpha <= Z <= beta) for Z ~ N(0, 1), accurate far out in either tail."""
    if alpha >= 0:
        return 0.5 * (math.erfc(alpha / _SQRT2) - math.erfc(beta / _SQRT2))
    if beta <= 0:
        return _mass(-beta, -alpha)
    return 0.5 * (math.erf(beta / _SQRT2) - math.erf(alpha / _SQRT2))


def _x_pdf(x):
    """``x * pdf(x)``, 0 at +-inf (where the product would be inf * 0)."""
    return 0.0 if math.isinf(x) else x * _pdf(x)


def standard_moments(alpha, beta):
    """Mean and variance of N(0, 1) truncated to [alpha, beta] (either may be infinite)."""
    mass = _mass(alpha, beta)
    pa, pb = _pdf(alpha), _pdf(beta)
    mean = (pa - pb) / mass
    return mean, 1.0 + (_x_pdf(alpha) - _x_pdf(beta)) / mass - mean * mean


def standard_kurtosis(alpha, beta):
    """Kurtosis, about its own mean, of N(0, 1) truncated to [alpha, beta] (either may be infinite)."""
    mass = _mass(alpha, beta)
    ends = [(t, _pdf(t)) for t in (alpha, beta)]
    # raw moments by m_k = (k - 1) m_(k-2) + (alpha^(k-1) pdf(alpha) - beta^(k-1) pdf(beta)) / mass
    raw = [1.0, (ends[0][1] - ends[1][1]) / mass]
    for k in range(2, 5):
        edge = [0.0 if math.isinf(t) else t ** (k - 1) * d for t, d in ends]
        raw.append((k - 1) * raw[k - 2] + (edge[0] - edge[1]) / mass)
    m = raw[1]
    second = raw[2] - m * m
    fourth = raw[4] - 4 * m * raw[3] + 6 * m * m * raw[2] - 3 * m ** 4
    return fourth / (second * second)


def _proposal(alpha, beta):
    """The better of two rejection schemes for N(0, 1) on [alpha, beta], and its acceptance rate.

    Plain normal proposals suit intervals holding much of the mass; uniform
    proposals on [alpha, beta] accepted with probability pdf(z) / max pdf
    suit narrow intervals out in a tail.
    """
    mass = _mass(alpha, beta)
    nearest = 0.0 if alpha <= 0.0 <= beta else min(abs(alpha), abs(beta))
    peak = _pdf(nearest)
    uniform_rate = mass / ((beta - alpha) * peak) if peak > 0 else 0.0
    if mass >= uniform_rate:
        return "normal", mass, nearest
    return "uniform", uniform_rate, nearest


def sample_standard(alpha, beta, size, rng):
    """``size`` draws of N(0, 1) truncated to [alpha, beta], by rejection from ``rng``."""
    kind, rate, nearest = _proposal(alpha, beta)
    out = np.empty(size)
    filled = 0
    while filled < size:
        # ask for a little more than the expected need so one round usually suffices
        n = min(int((size - filled) / rate * 1.1) + 16, _MAX_CHUNK)
        if kind == "normal":
            z = rng.standard_normal(n)
            z = z[(z >= alpha) & (z <= beta)]
        else:
            z = rng.uniform(alpha, beta, n)
            z = z[rng.random(n) <= np.exp(0.5 * (nearest * nearest - z * z))]
        take = min(z.size, size - filled)
        out[filled:filled + take] = z[:take]
        filled += take
    return out


class TruncatedNormal(Initializer):
    """N(mean, std**2) conditioned on [a, b], like ``torch.nn.init.trunc_normal_``.

    ``a`` and ``b`` are absolute cutoffs, not multiples of ``std``. ``std``
    is that of the normal before truncation, so the drawn values have a
    smaller spread: ``variance()`` and ``mean`` give the truncated moments.
    Sampling is by rejection using only ``rng``.

    All arguments are keyword-only: ``TruncatedNormal(std=0.1, a=-0.2,
    b=0.2)``. Text form: ``truncated_normal`` (the defaults),
    ``truncated_normal:STD`` and ``truncated_normal:MEAN,STD`` (cut at
    MEAN -/+ 2 STD) or ``truncated_normal:MEAN,STD,A,B``.
    """

    name = "truncated_normal"

    @keyword_only("give mean, std, a and b by name, e.g. TruncatedNormal(std=0.1, a=-0.2, b=0.2); "
                  "the text form 'truncated_normal:0.1' is std 0.1")
    def __init__(self, *, mean=0.0, std=1.0, a=-2.0, b=2.0):
        owner = "TruncatedNormal"
        mean = check_number(owner, "mean", mean)
        std = check_number(owner, "std", std, positive=True)
        a, b = check_number(owner, "a", a), check_number(owner, "b", b)
        if a >= b:
            raise ValueError(f"{owner}: a must be < b, got a={a}, b={b}")
        self._config = {"mean": mean, "std": std, "a": a, "b": b}
        self._alpha, self._beta = (a - mean) / std, (b - mean) / std
        if _proposal(self._alpha, self._beta)[1] < _MIN_ACCEPTANCE:
            raise ValueError(
                f"{owner}: [a, b] = [{a}, {b}] lies too far in the tail of N({mean}, {std}**2) "
                "to sample from")
        standard_mean, standard_variance = standard_moments(self._alpha, self._beta)
        self._mean = mean + std * standard_mean
        self._variance = std * std * standard_variance

    def _sample(self, shape, rng):
        z = sample_standard(self._alpha, self._beta, math.prod(shape), rng)
        # rounding can push mean + std * z a hair past a cutoff
        values = self._config["mean"] + self._config["std"] * z
        return np.clip(values, self._config["a"], self._config["b"]).reshape(shape)

    @property
    def mean(self):
        return self._mean

    def variance(self, shape=None):
        return self._variance

    def kurtosis(self, shape=None):
        return standard_kurtosis(self._alpha, self._beta)

    def to_spec(self):
        mean, std, a, b = self._config.values()
        if (a, b) != (mean - 2 * std, mean + 2 * std):
            return format_spec(self.name, [mean, std, a, b])
        if mean != 0.0:
            return format_spec(self.name, [mean, std])
        return format_spec(self.name, [] if std == 1.0 else [std])

    @classmethod
    def _from_spec_values(cls, values):
        if len(values) not in (0, 1, 2, 4):
            raise ValueError(arity_message(cls.name, "STD, MEAN,STD or MEAN,STD,A,B", len(values)))
        if len(values) == 4:
            return cls(**dict(zip(("mean", "std", "a", "b"), values)))
        if len(values) == 2:
            mean, std = values
        else:
            mean, std = 0.0, (values[0] if values else 1.0)
        std = check_number("TruncatedNormal", "std", std, positive=True)
        mean = check_number("TruncatedNormal", "mean", mean)
        return cls(mean=mean, std=std, a=mean - 2 * std, b=mean + 2 * std)
