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

from ._special import digamma

__all__ = ["expected_log_mean", "expected_log_chi2_mean", "typical_log_gains"]

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
    orthogonal = weights == "orthogonal"
    k = width
    log_weight_variance = 2.0 * math.log(sigma_w)
    # u = tr(S^2) / tr(S)^2 and delta = sum_i S_ii^2 / tr(S)^2 for S = M^T M:
    # both 1/k for the identity the backward pass starts from
    u = delta = 1.0 / k
    gains = []
    rank = float(k)
    for layer in stats:
        excess = k * delta - 1.0  # the squared column norms of M are chi2_dof / dof, dof = 2 / excess
        dof = 2.0 / excess if excess > 1e-12 else math.inf
        log_r = expected_log_mean(layer.values, layer.weights, k, dof) - expected_log_chi2_mean(k * dof)
        # D reweights the columns: the participation of M D
        spread = layer.kappa * delta
        u_masked = (u + spread) / (1.0 + spread)
        rank = 1.0 / u_masked
        if orthogonal:
            # W = sigma_w Q, Q Haar: S = sigma_w^2 exactly; Q^T B Q keeps the eigenvalues of
            # B = (M D)^T (M D), and its diagonal entries are q^T B q for uniform unit vectors q
            gains.append(log_r + log_weight_variance)
            u = u_masked
            delta = (1.0 + 2.0 * u_masked) / (k + 2.0)
        else:
            gains.append(log_r + log_weight_variance + expected_log_chi2_mean(k * rank))
            # multiplying by a fresh Gaussian W: the two moments of (M D W)^T (M D W)
            u = (1.0 + (k + 1.0) * u_masked) / (k + 2.0 * u_masked)
            delta = (1.0 + 2.0 * u_masked) / (k + 2.0 * u_masked)
    return np.array(gains), rank
