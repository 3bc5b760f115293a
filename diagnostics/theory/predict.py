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

import numbers
from dataclasses import dataclass

import numpy as np

from ..profile import HELD_PROFILE_RENAMED, GradientProfile, renamed_attribute
from ._checks import as_activation, check_count, check_real
from .criticality import regime
from .network import Block, propagate
from .parametrization import sigma_w_from_init, sigma_w_from_std, weights_kind

__all__ = ["Prediction", "predict", "predict_lecture"]


@dataclass(frozen=True, eq=False)
class Prediction:
    """What mean-field theory and its finite-width correction predict for one network: its regime and profile.

    Per forward layer l = 1..depth (index 0 = the first layer): ``q``, the
    pre-activation variance; ``chi``, the gradient gain; ``kappa``, the
    squared coefficient of variation of phi'(z)**2 over the layer's units.
    ``profile``: the predicted ``GradientProfile``, the per-layer log10
    norms backward order (typical, mean-field and the spread between
    networks, log10 mean |J|; before any block the identity has
    0.5 * log10(width)). The fixed-point fields describe the deep-network
    limit (see ``regime``). ``weights``: ``"gaussian"`` or ``"orthogonal"``.
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
    profile: GradientProfile
    q_fixed_point: float
    chi_fixed_point: float
    regime: str
    depth_scale: float
    weights: str = "gaussian"

    def __getattr__(self, name):
        # the curve's fields before ``profile`` held them, for one release
        return renamed_attribute(self, name, HELD_PROFILE_RENAMED)

    def __repr__(self):
        return (f"Prediction({self.activation}, sigma_w={self.sigma_w:.6g}, sigma_b={self.sigma_b:.6g}, "
                f"depth={self.depth}, width={self.width}: log10 mean|J| = "
                f"{self.profile.mean_field_log10_mean_abs_grad:.3f} (mean-field), "
                f"{self.profile.log10_mean_abs_grad:.3f} (typical); {self.regime}, "
                f"chi_1 = {self.chi_fixed_point:.4g})")


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

    # the lecture's network as the special case of a walk over blocks
    block = Block(f"Linear({width} -> {width})", width, width, sigma_w, sigma_b, weights, 3.0, [act])
    blocks = [block] * depth
    profile, r = propagate(blocks, input_sq, owner)
    fixed = regime(act, sigma_w, sigma_b, input_sq=input_sq)
    return Prediction(
        activation=act.name, sigma_w=sigma_w, sigma_b=sigma_b, depth=depth, width=width,
        input_sq=input_sq, q=r["q"], chi=r["chi"], kappa=r["kappa"], profile=profile,
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
