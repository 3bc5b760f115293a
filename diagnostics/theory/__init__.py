"""Mean-field theory of signal and gradient propagation at initialization.

Predicts what the probes measure: per-layer gradient norms of a deep MLP
(mean-field, typical and spread at finite width, for any MLP a user builds),
the regime (ordered, critical, chaotic or slowly vanishing), the correlation
map and the critical initialization, Lyapunov exponents of products of
random matrices, and the Jacobian spectrum behind dynamical isometry; and
for the remedies (residual blocks, LayerNorm, BatchNorm, dropout) the same
per-block gradient norms. The mathematics is written up in docs/theory.md
and docs/remedies.md.
"""

from .batchnorm import HEAVY_TAIL_BATCH, batch_norm_gain, predict_batch_norm
from .correlation import correlation_fixed_point, correlation_map
from .criticality import (
    CRITICAL_TOLERANCE, REGIMES, NoCriticalPoint, Regime, critical_init, critical_sigma_w, depth_scale, regime,
)
from .dropout import dropout_statistics, predict_dropout
from .batchnorm import MIN_BATCH, batch_norm_log_gains
from .finite_width import expected_log_chi2_mean, expected_log_mean, typical_log_gains
from .gaussian import gaussian_expectation, gaussian_nodes
from .isometry import JacobianSpectrum, jacobian_spectrum
from .lyapunov import (
    RandomProductPrediction, lyapunov_exponent, lyapunov_exponent_log10, lyapunov_spectrum,
    predict_random_product,
)
from .meanfield import LayerStatistics, fixed_point, gradient_gain, layer_statistics, variance_map
from ..profile import GradientProfile
from .network import predict_network
from .normalization import layer_norm_gain, predict_layer_norm
from .parametrization import sigma_w_from_init, sigma_w_from_std, weight_kurtosis, weight_std, weights_kind
from .phase import PhaseDiagram, phase_diagram, plot_phase_diagram
from .predict import Prediction, predict, predict_lecture
from .residual import predict_residual, residual_gain
from .stable import stable_sigma_w, typical_change

__all__ = [
    "gaussian_expectation", "gaussian_nodes",
    "variance_map", "gradient_gain", "fixed_point", "LayerStatistics", "layer_statistics",
    "expected_log_mean", "expected_log_chi2_mean", "typical_log_gains",
    "Prediction", "predict", "predict_lecture", "predict_network", "GradientProfile",
    "sigma_w_from_init", "sigma_w_from_std", "weight_std", "weights_kind", "weight_kurtosis",
    "CRITICAL_TOLERANCE", "REGIMES", "NoCriticalPoint", "Regime", "regime", "depth_scale",
    "correlation_map", "correlation_fixed_point", "PhaseDiagram", "phase_diagram", "plot_phase_diagram",
    "critical_sigma_w", "critical_init", "stable_sigma_w", "typical_change",
    "lyapunov_exponent", "lyapunov_exponent_log10", "lyapunov_spectrum",
    "RandomProductPrediction", "predict_random_product",
    "JacobianSpectrum", "jacobian_spectrum",
    "residual_gain", "predict_residual", "layer_norm_gain", "predict_layer_norm",
    "batch_norm_gain", "predict_batch_norm", "HEAVY_TAIL_BATCH", "dropout_statistics", "predict_dropout",
    "batch_norm_log_gains", "MIN_BATCH",
]
