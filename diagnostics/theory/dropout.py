"""Dropout blocks ``Linear -> activation -> Dropout(p)`` in training mode, the mask held fixed.

Inverted dropout keeps each unit with probability rho = 1 - p and divides
it by rho, so the mean is kept and the second moment is divided by rho
(Schoenholz et al. 2017):

    q_{l+1} = sigma_w^2 E[phi(sqrt(q_l) Z)^2] / rho + sigma_b^2
    chi_l   = sigma_w^2 E[phi'(sqrt(q_l) Z)^2] / rho

Two inputs' covariance is not divided by rho, so their correlation can never
reach 1 and the correlation map has no critical point: the depth over which
a network tells inputs apart stays finite. The gradient's mean-field gain
can still be 1 (for ReLU at sigma_w^2 = 2 rho), but a unit dropped passes
no gradient, which spreads the gain: kappa becomes (1 + kappa) / rho - 1,
and the typical network loses more per layer. Derivations: see docs/remedies.md.
"""

import numpy as np

from ._checks import as_activation, check_count, check_real, first_variance
from .blocks import assemble
from .finite_width import typical_log_gains
from .meanfield import LayerStatistics, _clamped_nodes, _variance_map

__all__ = ["dropout_statistics", "predict_dropout"]


def dropout_statistics(activation, q, p):
    """``LayerStatistics`` of the slope times the mask, ``phi'(z) m / (1 - p)``, z ~ N(0, q).

    m is 1 with probability 1 - p and 0 otherwise; ``second`` is then
    E[phi'^2] / (1 - p), the gradient gain over sigma_w^2.
    """
    act = as_activation(activation, "dropout_statistics")
    p = check_real("dropout_statistics", "p", p, nonnegative=True)
    if not p < 1.0:
        raise ValueError(f"dropout_statistics: p must be in [0, 1), got {p}")
    keep = 1.0 - p
    x, w = _clamped_nodes(check_real("dropout_statistics", "q", q, nonnegative=True))
    d = np.asarray(act.derivative(x), dtype=np.float64)
    return LayerStatistics(q, np.concatenate([d / keep, np.zeros_like(d)]), np.concatenate([keep * w, p * w]))


def predict_dropout(activation, sigma_w, p, depth, width, sigma_b=0.0, input_sq=1.0):
    """Predict the gradient norms of ``depth`` blocks ``Linear -> activation -> Dropout(p)``.

    Training mode, one fixed mask per block (the probe's backward pass uses
    the mask of its forward pass); weights N(0, sigma_w**2 / width), biases
    N(0, sigma_b**2); input with mean(x**2) = ``input_sq``.
    """
    owner = "predict_dropout"
    act = as_activation(activation, owner)
    sigma_w = check_real(owner, "sigma_w", sigma_w, positive=True)
    sigma_b = check_real(owner, "sigma_b", sigma_b, nonnegative=True)
    p = check_real(owner, "p", p, nonnegative=True)
    if not p < 1.0:
        raise ValueError(f"{owner}: p must be in [0, 1), got {p}")
    depth = check_count(owner, "depth", depth)
    width = check_count(owner, "width", width)
    input_sq = check_real(owner, "input_sq", input_sq, positive=True)
    keep = 1.0 - p
    q = first_variance(owner, sigma_w, sigma_b, input_sq)
    stats = []
    for _ in range(depth):
        stats.append(dropout_statistics(act, q, p))
        # the next Linear sees the dropped, rescaled units: their second moment over rho
        q = (_variance_map(act, q, sigma_w, 0.0) / keep) + sigma_b * sigma_b
    gains = np.array([sigma_w * sigma_w * s.second for s in stats])
    steps, _ = typical_log_gains(stats[::-1], sigma_w, width)
    with np.errstate(divide="ignore"):
        variances = 2.0 * (np.log(gains) - steps[::-1])  # forward order, as the gains
    return assemble(f"Linear -> {act.name} -> Dropout(p={p:.6g})", act.name, sigma_w, width, gains,
                    log_gains=steps[::-1], variances=variances)
