"""What the theory predicts for a network of repeated blocks: one result type for every remedy.

A remedy (a residual connection, a normalization, dropout) changes what one
block does to the gradient. Each remedy's module computes, per block, the
gain of the expected squared gradient norm (mean-field) and, where it can,
the expected log of that gain and its variance at finite width. This module
turns those per-block numbers into the per-block log10 norms the probe
measures, backward order, from the identity's ``0.5 * log10(width)``.
Derivations: see docs/remedies.md.
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["BlockPrediction"]

_LN10 = math.log(10.0)


@dataclass(frozen=True, eq=False)
class BlockPrediction:
    """Predicted gradient norms of ``depth`` identical blocks of ``width`` units at initialization.

    ``block`` names the block (e.g. ``"Residual(Linear, relu, alpha=1)"``);
    ``sigma_w`` is None where the weights' scale cancels (normalization).
    ``per_block_grad_norm_log10[i]``: log10 of the Frobenius norm of the
    gradient after it has passed back through the last i + 1 blocks, the
    probe starting from the identity (norm ``sqrt(start_size)``), mean-field;
    ``typical_per_block_grad_norm_log10``: the same for a typical network at
    this width, or None where no finite-width theory is given; ``sd_log10``:
    the predicted standard deviation of the last entry between networks, or
    None. ``gains``: the mean-field gain of the squared norm of each block,
    forward order. ``start_size``: how many cotangents the backward pass
    starts from (``width``, or ``batch_size * width`` for a batch).
    ``note``: what to keep in mind when reading the prediction, or None.
    """

    block: str
    activation: str
    sigma_w: float
    depth: int
    width: int
    gains: np.ndarray
    per_block_grad_norm_log10: np.ndarray
    typical_per_block_grad_norm_log10: np.ndarray = None
    sd_log10: float = None
    start_size: int = None
    batch_size: int = None
    note: str = None

    @property
    def change_log10(self):
        """Decades by which the gradient norm changes from output to input (mean-field)."""
        return float(self.per_block_grad_norm_log10[-1] - 0.5 * math.log10(self.start_size))

    @property
    def typical_change_log10(self):
        """The same for a typical network at this width; None without a finite-width theory."""
        if self.typical_per_block_grad_norm_log10 is None:
            return None
        return float(self.typical_per_block_grad_norm_log10[-1] - 0.5 * math.log10(self.start_size))

    def __repr__(self):
        typical = self.typical_change_log10
        typical = "n/a" if typical is None else f"{typical:+.2f}"
        sd = "n/a" if self.sd_log10 is None else f"{self.sd_log10:.2f}"
        scale = "" if self.sigma_w is None else f", sigma_w={self.sigma_w:.6g}"
        return (f"BlockPrediction({self.block}{scale}, depth={self.depth}, "
                f"width={self.width}: change {self.change_log10:+.2f} decades (mean-field), "
                f"{typical} (typical), sd {sd})" + ("" if self.note is None else "; see .note"))


def assemble(block, activation, sigma_w, width, gains, *, log_gains=None, variances=None,
             backward=None, typical_backward=None, sd_log10=None, start_size=None, batch_size=None, note=None):
    """A ``BlockPrediction`` from per-block gains of the squared norm (forward order).

    ``log_gains``: E[log G] per block (natural log), forward order, for the
    typical value; ``variances``: Var[log G] per block, summed as if the
    blocks were independent, for ``sd_log10``. Where the cumulative squared
    norms are not a plain product of per-block gains, ``backward`` and
    ``typical_backward`` give them directly (backward order, relative to
    the start), and ``sd_log10`` the spread.
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
    if variances is not None:
        sd_log10 = math.sqrt(float(np.sum(variances))) / (2.0 * _LN10)
    return BlockPrediction(block=block, activation=activation,
                           sigma_w=None if sigma_w is None else float(sigma_w), depth=len(gains),
                           width=width, gains=gains, per_block_grad_norm_log10=mean_field,
                           typical_per_block_grad_norm_log10=typical, sd_log10=sd_log10,
                           start_size=start_size, batch_size=batch_size, note=note)
