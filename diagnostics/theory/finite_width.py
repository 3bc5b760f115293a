"""The typical (median) gradient norm at finite width, not just its mean.

Mean-field theory predicts log E||M||^2, the log of a mean. At width k a
single network sees each layer's gain G_l = ||M_l||^2 / ||M_{l-1}||^2 as a
random variable, and its log-norm is the sum of the log G_l, so the typical
value is the sum of E[log G_l] (exact by linearity, and the median is close
to the mean of a sum of many terms). E[log G_l] < log E[G_l], by a margin
that grows with how unevenly the units carry the gradient: it is small for
tanh near 0 and large for saturated sigmoids, where a few units carry it all.

Each backward step ``M <- M D W`` (D = diag(phi'(z)), W Gaussian) splits into
``R = ||M D||^2 / ||M||^2`` and ``S = ||M D W||^2 / ||M D||^2``:

- R is a weighted mean of the k values phi'(z_j)^2, weighted by the squared
  column norms of M, which are i.i.d. scaled chi-squares (the columns are
  fresh Gaussian vectors pushed through the product so far);
- S is ``sigma_w**2`` times a chi-square mean over the k columns of W,
  with as many degrees of freedom per column as M D has effective rank.
  For orthogonal weights (``sigma_w`` times an orthogonal matrix) S is
  exactly ``sigma_w**2``: multiplying by an orthogonal matrix keeps every
  row's norm, so the Frobenius norm too.

E[log] of both is computed exactly (for R by a Laplace-transform integral,
for S with the digamma function). The effective rank of the running product
(its participation ratio, which collapses towards 1 with depth) is carried
by a two-moment recursion. Derivations: see docs/theory.md.
"""

import math

import numpy as np

from ._special import digamma, trigamma

__all__ = ["expected_log_mean", "expected_log_chi2_mean", "typical_log_gains", "BackwardStep",
           "log_gain_moments"]

# Laplace variable t = exp(u) on a uniform u grid: the trapezoid rule converges
# geometrically in the step for these analytic, doubly decaying integrands.
_U_STEP = 0.5
_U_START = -9.0
_U_BLOCK = 44
_U_STOP = 700.0  # exp(700) is near the largest double
_TAIL = 1e-15
_TINY = 1e-14  # nodes below this fraction of the mean are merged into one


def expected_log_chi2_mean(dof):
    """``E[log(X / dof)]`` for X ~ chi-square with ``dof`` degrees of freedom (0 at dof = inf)."""
    if math.isinf(dof):
        return 0.0
    if dof > 1e8:  # digamma's asymptotic series; avoids cancelling log(dof) against it
        return -1.0 / dof - 1.0 / (3.0 * dof * dof)
    return math.log(2.0) + digamma(dof / 2.0) - math.log(dof)


def expected_log_mean(values, weights, width, dof=math.inf):
    """``E[log((1/k) sum_j a_j n_j)]`` over k = ``width`` i.i.d. pairs (a_j, n_j).

    a_j >= 0 takes ``values[i]`` with probability ``weights[i]``; n_j is an
    independent chi-square with ``dof`` degrees of freedom divided by
    ``dof`` (mean 1; ``dof = inf`` means n_j = 1). An atom of a at 0 is
    conditioned away: if all k values can be 0 at once, the result is the
    expectation given that they are not (and -inf if a is always 0).
    Uses ``E log X = int_0^inf (exp(-t) - E exp(-t X)) dt / t``.
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    k = width
    mean = float(values @ weights)
    if not mean > 0.0:
        return -math.inf
    x = values / mean
    zero = x == 0.0
    p_zero = float(weights[zero].sum())
    # every unit silent at once has probability p_zero**k: condition on the rest
    p_all_zero = p_zero ** k
    if p_all_zero >= 1.0 - 1e-12:
        return -math.inf
    keep = ~zero & (weights > 0.0)
    # piecewise-constant derivatives (ReLU-like) repeat a few values over
    # hundreds of nodes: integrate over the distinct values only
    x, inverse = np.unique(x[keep], return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=weights[keep], minlength=x.size)
    tiny = x < _TINY
    if tiny.any():  # merge negligible values into one node of the same mass and mean
        mass = float(w[tiny].sum())
        x = np.append(x[~tiny], float(x[tiny] @ w[tiny]) / mass)
        w = np.append(w[~tiny], mass)
    scale = 1.0 / (1.0 - p_all_zero)  # the conditional mean of (1/k) sum a_j n_j / mean

    @np.errstate(over="ignore")  # far out in t, r may overflow; exp(-inf) = 0 is the right limit
    def integrand(u):
        t = np.exp(u)
        r = (t / (scale * k))[:, None] * x[None, :]
        if math.isinf(dof):
            kernel = np.exp(-r)
        else:
            kernel = np.exp(-0.5 * dof * np.log1p((2.0 / dof) * r))
        one = p_zero + kernel @ w
        conditional = (one ** k - p_all_zero) / (1.0 - p_all_zero)
        return np.exp(-t) - conditional

    total = 0.0
    start = _U_START
    while True:
        u = start + _U_STEP * np.arange(_U_BLOCK)
        values_u = integrand(u)
        total += float(values_u.sum())
        start = float(u[-1]) + _U_STEP
        if abs(values_u[-1]) < _TAIL or start > _U_STOP:
            break
    return math.log(mean) + math.log(scale) + _U_STEP * total


def typical_log_gains(stats, sigma_w, width, weights="gaussian"):
    """E[log G] of each backward step (natural log of the squared-Frobenius gain), and the final rank.

    ``stats`` lists ``LayerStatistics`` in backward order (the last forward
    layer first), for width x width layers with weights N(0, sigma_w**2 /
    width) (``weights="gaussian"``) or ``sigma_w`` times a random orthogonal
    matrix (``"orthogonal"``). Returns ``(gains, rank)``: ``gains[i]`` for
    the i-th step back from the output, and ``rank`` the effective rank
    (participation ratio) of the product just before its last weight matrix.
    """
    if weights not in ("gaussian", "orthogonal"):
        raise ValueError(f"typical_log_gains: weights must be 'gaussian' or 'orthogonal', got {weights!r}")
    steps = [BackwardStep(layer, 2.0 * math.log(sigma_w), width, width, weights) for layer in stats]
    gains, _, rank = log_gain_moments(steps, width)
    return gains, rank


class BackwardStep:
    """One Linear and the elementwise slopes after it, as the backward pass meets them.

    ``stats``: the ``LayerStatistics`` of the slopes (of the identity when
    no activation follows); ``log_weight_variance``: ln sigma_w**2 with
    sigma_w**2 = in_features * Var(w); ``units`` and ``fan_in``: the
    Linear's out_features and in_features; ``weights``: "gaussian" (any
    i.i.d. entries) or "orthogonal"; ``excess_kurtosis``: E w^4 / (E w^2)^2
    - 3 of the entries (0 for Gaussian, -1.2 for uniform ones).
    """

    __slots__ = ("stats", "log_weight_variance", "units", "fan_in", "weights", "excess_kurtosis")

    def __init__(self, stats, log_weight_variance, units, fan_in, weights="gaussian", excess_kurtosis=0.0):
        self.stats = stats
        self.log_weight_variance = log_weight_variance
        self.units = units
        self.fan_in = fan_in
        self.weights = weights
        self.excess_kurtosis = excess_kurtosis


def log_gain_moments(steps, out_features):
    """E[log G] and Var[log G] of every backward step, and the final effective rank.

    ``steps`` lists ``BackwardStep`` in backward order, starting from the
    identity of ``out_features`` rows. The variances come from the second
    moments of the two factors of G (see docs/theory.md): ``kappa * delta``
    for the slopes, ``psi'(fan_in * rank / 2)`` plus ``excess_kurtosis *
    delta_C / fan_in`` for i.i.d. weights, and nothing for an orthogonal
    matrix that keeps every row's norm.
    """
    # u = tr(S^2) / tr(S)^2 and delta = sum_i S_ii^2 / tr(S)^2 for S = M^T M:
    # both 1/k for the identity the backward pass starts from
    u = delta = 1.0 / out_features
    gains, variances = [], []
    rank = float(out_features)
    for step in steps:
        layer, k, fan_in = step.stats, step.units, step.fan_in
        excess = k * delta - 1.0  # the squared column norms of M are chi2_dof / dof, dof = 2 / excess
        dof = 2.0 / excess if excess > 1e-12 else math.inf
        log_r = expected_log_mean(layer.values, layer.weights, k, dof) - expected_log_chi2_mean(k * dof)
        var_r = layer.kappa * delta  # the weighted mean of k slopes, by the delta method
        # D reweights the columns: the participation of M D
        spread = layer.kappa * delta
        u_masked = (u + spread) / (1.0 + spread)
        delta_masked = (1.0 + layer.kappa) * delta / (1.0 + spread)
        rank = 1.0 / u_masked
        if step.weights == "orthogonal" and k <= fan_in:
            # W W^T = sigma_w^2 I: the squared norm is kept exactly; Q^T B Q keeps the
            # eigenvalues of B = (M D)^T (M D), and its diagonal entries are q^T B q for
            # uniform unit vectors q
            gains.append(log_r + step.log_weight_variance)
            variances.append(var_r)
            u = u_masked
            delta = (1.0 + 2.0 * u_masked) / (fan_in + 2.0)
            continue
        if step.weights == "orthogonal":
            # W^T W = I: a random projection onto fan_in of the k dimensions
            var_s = 2.0 * u_masked * (1.0 / fan_in - 1.0 / k)
            gains.append(log_r + step.log_weight_variance - 0.5 * var_s)
        else:
            kurtosis = step.excess_kurtosis * delta_masked / fan_in
            var_s = trigamma(0.5 * fan_in * rank) + kurtosis
            gains.append(log_r + step.log_weight_variance + expected_log_chi2_mean(fan_in * rank)
                         - 0.5 * kurtosis)
        variances.append(var_r + var_s)
        # multiplying by a fresh random W: the two moments of (M D W)^T (M D W)
        u = (1.0 + (fan_in + 1.0) * u_masked) / (fan_in + 2.0 * u_masked)
        delta = (1.0 + 2.0 * u_masked) / (fan_in + 2.0 * u_masked)
    return np.array(gains), np.array(variances), rank
