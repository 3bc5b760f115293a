"""The digamma function, so the theory needs no scipy.special import (it is slow to load)."""

import math

# Bernoulli-number coefficients of the asymptotic series
# psi(x) ~ log x - 1/(2x) - sum_n B_2n / (2n x^2n)
_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def digamma(x):
    """psi(x) = d/dx log Gamma(x) for x > 0, to about 1e-15 relative."""
    if not x > 0.0:
        raise ValueError(f"digamma: x must be > 0, got {x}")
    shift = 0.0
    # psi(x) = psi(x + 1) - 1/x moves x to where the series is accurate
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    inverse_square = 1.0 / (x * x)
    series, power = 0.0, inverse_square
    for coefficient in _SERIES:
        series += coefficient * power
        power *= inverse_square
    return shift + math.log(x) - 0.5 / x - series


# psi'(x) ~ 1/x + 1/(2x^2) + sum_n B_2n / x^(2n+1)
_TRIGAMMA_SERIES = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def trigamma(x):
    """psi'(x), the derivative of the digamma function, for x > 0, to about 1e-15 relative."""
    if not x > 0.0:
        raise ValueError(f"trigamma: x must be > 0, got {x}")
    shift = 0.0
    # psi'(x) = psi'(x + 1) + 1/x**2 moves x to where the series is accurate
    while x < 10.0:
        shift += 1.0 / (x * x)
        x += 1.0
    inverse_square = 1.0 / (x * x)
    series, power = 0.0, inverse_square / x
    for coefficient in _TRIGAMMA_SERIES:
        series += coefficient * power
        power *= inverse_square
    return shift + 1.0 / x + 0.5 * inverse_square + series
