"""What the theory predicts for a network of repeated blocks, as a ``GradientProfile``.

A remedy (a residual connection, a normalization, dropout) changes what one
block does to the gradient. Each remedy's module computes, per block, the
gain of the expected squared gradient norm (mean-field) and, where it can,
the expected log of that gain and its variance at finite width. This module
turns those per-block numbers into the per-block log10 norms the probe
measures, backward order, from the identity's ``0.5 * log10(width)``.
Derivations: see docs/remedies.md.
"""

import math

import numpy as np

from ..profile import GradientProfile

__all__ = ["assemble"]

_LN10 = math.log(10.0)


def assemble(block, activation, sigma_w, width, gains, *, log_gains=None, variances=None,
             backward=None, typical_backward=None, sd_log10=None, start_size=None, batch_size=None, note=None):
    """A predicted ``GradientProfile`` of ``len(gains)`` blocks from their gains of the squared norm (forward order).

    ``block`` labels every block (e.g. ``"Residual(Linear, relu, alpha=1)"``);
    ``activation`` and ``sigma_w`` are the caller's own arguments, which the
    profile does not repeat (the parameters stay while BatchNorm's module
    is being reworked, so its call need not change). ``log_gains``: E[log G]
    per block (natural log), forward order, for the typical value;
    ``variances``: Var[log G] per block, forward order, summed as if the
    blocks were independent, for the spread. Where the cumulative squared
    norms are not a plain product of per-block gains, ``backward`` and
    ``typical_backward`` give them directly (backward order, relative to the
    start), and ``sd_log10`` the spread after each block, backward order.
    Without a typical value the curve is the mean-field one
    (``statistic="mean-field"``). ``start_size``: how many cotangents the
    backward pass starts from (``width``, or ``batch_size * width`` for a
    batch).
    """
    gains = np.asarray(gains, dtype=np.float64)
    start_size = width if start_size is None else start_size
    start = 0.5 * math.log10(start_size)
    with np.errstate(divide="ignore"):  # a gain of exactly 0 is a log of -inf
        if backward is None:
            backward = np.cumprod(gains[::-1])
        mean_field = start + 0.5 * np.log10(np.asarray(backward, dtype=np.float64))
        typical = None
        if log_gains is not None:
            typical = start + np.cumsum(np.asarray(log_gains, dtype=np.float64)[::-1]) / (2.0 * _LN10)
        elif typical_backward is not None:
            typical = start + 0.5 * np.log10(np.asarray(typical_backward, dtype=np.float64))
    sd = None
    if variances is not None:
        sd = np.sqrt(np.cumsum(np.asarray(variances, dtype=np.float64)[::-1])) / (2.0 * _LN10)
    elif sd_log10 is not None:
        sd = np.asarray(sd_log10, dtype=np.float64)
    return GradientProfile((block,) * len(gains), mean_field if typical is None else typical, start,
                           "predicted", per_layer_grad_norm_log10_sd=sd,
                           mean_field_per_layer_grad_norm_log10=mean_field,
                           statistic="mean-field" if typical is None else "typical", batch_size=batch_size,
                           note=note)
