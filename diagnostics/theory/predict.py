"""Predicted per-layer gradient norms of a deep MLP at initialization, mean-field and typical.

The network: ``depth`` blocks Linear(width -> width) then the activation
(the last block included), weights N(0, sigma_w**2 / width) or ``sigma_w``
times a random orthogonal matrix, biases
N(0, sigma_b**2), input x with mean(x**2) = ``input_sq``. Backpropagating the
identity gives, after the i-th last block, ``M_i = D_L W_L ... D_{L-i+1}
W_{L-i+1}`` and finally the input-output Jacobian J = M_L. Predicted: the
log10 Frobenius norm of every M_i and log10 mean|J| over J's entries, both
as the mean-field value (the log of a mean) and the typical value a single
network at this width shows (see ``finite_width``). Derivations: see
docs/theory.md.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._checks import as_activation, check_count, check_real, first_variance
from .criticality import regime
from .finite_width import typical_log_gains
from .meanfield import _variance_map, layer_statistics
from .parametrization import sigma_w_from_init, sigma_w_from_std, weights_kind

__all__ = ["Prediction", "predict", "predict_lecture"]

_LN10 = math.log(10.0)


@dataclass(frozen=True, eq=False)
class Prediction:
    """What mean-field theory and its finite-width correction predict for one network.

    Per forward layer l = 1..depth (index 0 = the first layer): ``q``, the
    pre-activation variance; ``chi``, the gradient gain; ``kappa``, the
    squared coefficient of variation of phi'(z)**2 over the layer's units.
    Per backward step, index i = log10 of the Frobenius norm after the
    gradient has passed back through the last i + 1 blocks (index 0 = after
    the last block, index depth - 1 = the full Jacobian; before any block
    the identity has 0.5 * log10(width)):
    ``per_layer_grad_norm_log10`` (mean-field) and
    ``typical_per_layer_grad_norm_log10`` (median over networks at this
    width). ``log10_mean_abs_grad`` and ``typical_log10_mean_abs_grad``:
    log10 of the mean of |J| over its width**2 entries (converted from the
    Frobenius norm, which assumes width >> 1). The fixed-point fields
    describe the deep-network limit (see ``regime``). ``weights``:
    ``"gaussian"`` or ``"orthogonal"``.
    """

    activation: str
    sigma_w: float
    sigma_b: float
    depth: int
    width: int
    input_sq: float
    q: np.ndarray
    chi: np.ndarray
    kappa: np.ndarray
    per_layer_grad_norm_log10: np.ndarray
    typical_per_layer_grad_norm_log10: np.ndarray
    log10_mean_abs_grad: float
    typical_log10_mean_abs_grad: float
    q_fixed_point: float
    chi_fixed_point: float
    regime: str
    depth_scale: float
    weights: str = "gaussian"

    def __repr__(self):
        return (f"Prediction({self.activation}, sigma_w={self.sigma_w:.6g}, sigma_b={self.sigma_b:.6g}, "
                f"depth={self.depth}, width={self.width}: log10 mean|J| = "
                f"{self.log10_mean_abs_grad:.3f} (mean-field), "
                f"{self.typical_log10_mean_abs_grad:.3f} (typical); {self.regime}, "
                f"chi_1 = {self.chi_fixed_point:.4g})")


def _log10(x):
    with np.errstate(divide="ignore"):  # a gain of exactly 0 is a log of -inf, not an error
        return np.log10(x)


def _mean_abs_over_rms_chi(dof):
    """``E sqrt(X) / sqrt(E X)`` for X ~ chi-square with ``dof`` degrees of freedom."""
    return math.exp(0.5 * math.log(2.0 / dof) + math.lgamma((dof + 1.0) / 2.0) - math.lgamma(dof / 2.0))


def predict(activation, sigma_w, depth, width, sigma_b=0.0, input_sq=1.0, weights="gaussian"):
    """Predict per-layer gradient norms and log10 mean|J| for weights N(0, sigma_w**2 / width).

    ``activation``: a tinynet Activation (custom ones too) or its name.
    ``input_sq``: mean(x**2) of the input (1 for the lecture's ones(width)).
    ``weights="orthogonal"``: ``sigma_w`` times random orthogonal matrices
    instead (``tinynet.init.Orthogonal(gain=sigma_w)``); the mean-field
    values are the same, the typical ones lose no norm to the weights.
    Raises OverflowError when the first layer's variance
    ``sigma_w**2 * input_sq + sigma_b**2`` is beyond float64's range.
    """
    owner = "predict"
    act = as_activation(activation, owner)
    sigma_w = check_real(owner, "sigma_w", sigma_w, positive=True)
    sigma_b = check_real(owner, "sigma_b", sigma_b, nonnegative=True)
    depth = check_count(owner, "depth", depth)
    width = check_count(owner, "width", width)
    input_sq = check_real(owner, "input_sq", input_sq, positive=True)
    if weights not in ("gaussian", "orthogonal"):
        raise ValueError(f"{owner}: weights must be 'gaussian' or 'orthogonal', got {weights!r}")

    q = first_variance(owner, sigma_w, sigma_b, input_sq)
    qs, stats = [], []
    for _ in range(depth):
        qs.append(q)
        stats.append(layer_statistics(act, q))
        q = _variance_map(act, q, sigma_w, sigma_b)
    chi = np.array([sigma_w * sigma_w * s.second for s in stats])
    backward = stats[::-1]  # the backward pass meets the last layer first

    start = 0.5 * math.log10(width)
    # log chi = 2 log sigma_w + log E[phi'^2]: sigma_w**2 itself underflows to 0 below 1e-162
    second = np.array([s.second for s in stats])
    mean_field = start + 0.5 * np.cumsum(2.0 * math.log10(sigma_w) + _log10(second[::-1]))
    gains, rank = typical_log_gains(backward, sigma_w, width, weights)
    typical = start + np.cumsum(gains) / (2.0 * _LN10)

    # J's rows are scaled by phi' of the last layer and, given the rest of the
    # network, its entries are Gaussian: mean|J| = sqrt(2/pi) ||J||_F / width
    # times E|phi'| / rms(phi') (the rows) ...
    last = backward[0]
    if last.second > 0.0:
        to_mean_abs = math.log10(math.sqrt(2.0 / math.pi) / width * last.mean_abs / math.sqrt(last.second))
    else:
        to_mean_abs = -math.inf
    # ... times, typically, mean/rms of the column norms, chi-distributed with
    # as many degrees of freedom as the product has effective rank
    typical_columns = math.log10(_mean_abs_over_rms_chi(rank))

    fixed = regime(act, sigma_w, sigma_b, input_sq=input_sq)
    return Prediction(
        activation=act.name, sigma_w=sigma_w, sigma_b=sigma_b, depth=depth, width=width,
        input_sq=input_sq, q=np.array(qs), chi=chi, kappa=np.array([s.kappa for s in stats]),
        per_layer_grad_norm_log10=mean_field, typical_per_layer_grad_norm_log10=typical,
        log10_mean_abs_grad=float(mean_field[-1] + to_mean_abs),
        typical_log10_mean_abs_grad=float(typical[-1] + to_mean_abs + typical_columns),
        q_fixed_point=fixed.q_fixed_point, chi_fixed_point=fixed.chi, regime=fixed.name,
        depth_scale=fixed.depth_scale, weights=weights)


def predict_lecture(activation, init_or_std, depth=50, width=100, input_sq=1.0):
    """``predict`` in the lecture's parametrization: weights N(0, std**2) or any zero-mean initializer.

    ``init_or_std``: a number (the weight std, no fan scaling), a
    ``tinynet.init`` initializer or its text form (e.g. ``"xavier_uniform"``);
    an ``Orthogonal`` one is predicted as orthogonal.
    """
    width = check_count("predict_lecture", "width", width)
    weights = "gaussian"
    if isinstance(init_or_std, numbers.Real) and not isinstance(init_or_std, bool):
        std = check_real("predict_lecture", "std", init_or_std, positive=True)
        sigma_w = sigma_w_from_std(std, width)
    else:
        sigma_w = sigma_w_from_init(init_or_std, width, width)
        weights = weights_kind(init_or_std)
    return predict(activation, sigma_w, depth, width, input_sq=input_sq, weights=weights)
