"""LayerNorm blocks ``Linear -> LayerNorm -> activation``: every layer starts from unit variance.

LayerNorm divides each pre-activation vector z = W h by its own standard
deviation s across the k units, so the activation always sees variance 1
and the weight scale drops out. Backward, its Jacobian ``(1/s) (I - 11^T/k
- u u^T/k)`` (u the normalized z) removes the mean and the radial
direction and divides by s = sigma_w sqrt(E phi(U)^2): per block the squared
gradient norm is multiplied by

    E[phi'(U)^2] / E[phi(U)^2] * (1 - (1 + c) / k),    U ~ N(0, 1),

c = E[phi'(U)^2 U^2] / E[phi'(U)^2], whatever sigma_w is. For ReLU the
ratio is exactly 1; for the sigmoid, whose output has mean 1/2, it is 0.15.
Derivations: see docs/remedies.md.
"""

import math

import numpy as np

from ._checks import as_activation, check_count
from .blocks import assemble
from .finite_width import expected_log_chi2_mean, typical_log_gains
from .meanfield import _clamped_nodes, layer_statistics

__all__ = ["layer_norm_gain", "predict_layer_norm"]


def _ratios(act):
    """E[phi'(U)^2], E[phi(U)^2] and c = E[phi'^2 U^2] / E[phi'^2] for U ~ N(0, 1)."""
    x, w = _clamped_nodes(1.0)
    d2 = np.asarray(act.derivative(x), dtype=np.float64) ** 2
    second = float(d2 @ w)
    c = float(d2 * x * x @ w) / second if second > 0 else 0.0
    return second, float(np.asarray(act.fn(x), dtype=np.float64) ** 2 @ w), c


def layer_norm_gain(activation, width):
    """The mean-field squared-gradient gain of one ``Linear -> LayerNorm -> activation`` block.

    ``E[phi'^2] / E[phi^2] * (1 - (1 + c) / width)`` at unit variance; the
    weights' scale does not enter. LayerNorm's eps (1e-5) is neglected
    beside the pre-activations' variance.
    """
    act = as_activation(activation, "layer_norm_gain")
    width = check_count("layer_norm_gain", "width", width, minimum=3)
    second, square, c = _ratios(act)
    return second / square * (1.0 - (1.0 + c) / width)


def predict_layer_norm(activation, depth, width):
    """Predict the gradient norms of ``depth`` blocks ``Linear -> LayerNorm -> activation``.

    Weights of any scale (it cancels), LayerNorm's affine parameters at
    their initial 1 and 0. Typical value: ``typical_log_gains`` for the
    slopes and weights, plus the spread of 1/s^2, k / chi-square with k - 1
    degrees of freedom.
    """
    owner = "predict_layer_norm"
    act = as_activation(activation, owner)
    depth = check_count(owner, "depth", depth)
    width = check_count(owner, "width", width, minimum=3)
    k = width
    second, square, c = _ratios(act)
    gain = layer_norm_gain(act, k)
    stats = layer_statistics(act, 1.0)
    steps, _ = typical_log_gains([stats] * depth, 1.0 / math.sqrt(square), k)
    # W^T loses the direction of h (the gradient at z is orthogonal to z = W h),
    # E[s^2] = sigma_w^2 E[phi^2] (k - 1) / k: the two 1/k factors cancel
    correction = math.log(1.0 - (1.0 + c) / k) - expected_log_chi2_mean(k - 1)
    logs = steps + correction
    variances = 2.0 * (math.log(second / square) - steps) + 2.0 / (k - 1)
    return assemble(f"Linear -> LayerNorm -> {act.name}", act.name, None, k, np.full(depth, gain),
                    log_gains=logs, variances=variances)
