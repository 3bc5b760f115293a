"""Numbers kept as base-10 logarithms: norms that cannot overflow, means of logs, conversion back.

The probes keep every magnitude as a log10, since at depth 50 a gradient
may be 1e-33 or 1e+36 and at depth 1,000 far beyond float range. This
module holds the few operations on such numbers that the rest share.
"""

import math

import numpy as np

#: (smallest normal, largest finite) number of each float dtype; integers
#: are summed in float64. Looked up once: probes take a norm per layer.
_RANGE = {t: (float(np.finfo(t).tiny), float(np.finfo(t).max))
          for t in (np.float16, np.float32, np.float64, np.longdouble)}

#: log10 of float64's smallest normal number, about -307.7: a magnitude
#: below 1e-300 is reported as "0 (below 1e-300)".
SMALLEST_LOG10 = -300.0


def frobenius_norm(a):
    """The Frobenius norm, finite for any finite entries.

    One BLAS dot product when the squares stay in range (nearly always);
    otherwise the entries are divided by the largest first, since squaring
    them would overflow above 1e154 or underflow below 1e-154 (in float32:
    1e19 and 1e-19).
    """
    flat = a.reshape(-1)
    with np.errstate(over="ignore", under="ignore"):  # out of range is handled below
        sq = float(np.dot(flat, flat))
    tiny, largest = _RANGE.get(flat.dtype.type, _RANGE[np.float64])  # by type: any byte order
    # a square below the smallest normal number (tiny) is off by up to tiny * eps / 2;
    # n of them stay within the sum's own rounding, sum * eps, while the sum is above n * tiny
    if tiny * flat.size < sq < largest / 4:
        return math.sqrt(sq)
    top = float(np.max(np.abs(flat))) if flat.size else 0.0
    if top == 0 or not math.isfinite(top):
        return top
    scaled = flat / flat.dtype.type(top) if flat.dtype.itemsize >= 8 else flat.astype(np.float64) / top
    return top * math.sqrt(float(np.dot(scaled, scaled)))


def log10_mean(log10_values):
    """log10 of the mean of ``10 ** v`` (over axis 0), computed without leaving float range."""
    v = np.asarray(log10_values, dtype=np.float64)
    top = np.max(v, axis=0)
    if np.all(np.isneginf(top)):
        return top
    safe_top = np.where(np.isfinite(top), top, 0.0)
    return safe_top + np.log10(np.mean(10.0 ** (v - safe_top), axis=0))


def float_from_log10(log10_value):
    """``10 ** log10_value`` as a float; 0.0 for -inf, None where it lies beyond float64's range."""
    if log10_value is None or not -300 < log10_value < 300:
        return 0.0 if log10_value == -math.inf else None
    return 10.0 ** log10_value


def to_float64(mantissa, log10_scale, what):
    """``mantissa * 10 ** log10_scale`` as float64, or OverflowError if it over- or underflows."""
    m = mantissa.astype(np.float64)
    top = float(np.max(np.abs(m)))
    if top == 0:
        return m
    exponent = math.log10(top) + log10_scale
    if not -290 < exponent < 300:  # leave room for the spread of the entries below the largest
        raise OverflowError(f"{what}'s largest entry is near 1e{exponent:+.0f}, beyond float64's range")
    # two steps, so that neither factor overflows on its own
    half = log10_scale / 2
    return m * 10.0 ** half * 10.0 ** (log10_scale - half)


def finite_or_none(value):
    """``value`` as a float if it is a finite number, else None (nan, an infinity, None)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
