"""Residual blocks ``y = x + alpha * phi(W x)``: the gradient gain, and the forward signal's direction.

The block predicted is ``Residual(Sequential(Linear(k, k, bias=False),
activation), alpha)``, weights N(0, sigma_w**2 / k): the "reduced" residual
network of Yang and Schoenholz (2017), with the branch scaled by alpha. Its
Jacobian is ``I + alpha D W`` (D = diag(phi'(W x))), and in mean field the
squared gradient norm grows by ``1 + alpha**2 chi`` per block, chi the plain
layer's gain: never below 1, so the gradient cannot vanish, and over L
blocks ``(1 + alpha**2 chi)**L``, which stays of order ``exp(chi)`` for
alpha = 1 / sqrt(L). One direction gains more: the forward signal's own
(for ReLU, J x = h_L exactly), whose growth is followed here by a tangent
recursion. Derivations: see docs/remedies.md.
"""

import math

import numpy as np

from ._checks import as_activation, check_count, check_real
from .blocks import assemble
from .meanfield import _clamped_nodes

__all__ = ["residual_gain", "predict_residual"]


def residual_gain(activation, q, sigma_w, alpha):
    """``1 + alpha**2 chi(q)``: the mean-field squared-gradient gain of one residual block."""
    act = as_activation(activation, "residual_gain")
    alpha = check_real("residual_gain", "alpha", alpha, nonnegative=True)
    sigma_w = check_real("residual_gain", "sigma_w", sigma_w, nonnegative=True)
    q = check_real("residual_gain", "q", q, nonnegative=True)
    x, w = _clamped_nodes(q)
    return 1.0 + alpha * alpha * sigma_w * sigma_w * float(act.derivative(x) ** 2 @ w)


def _moments(act, q):
    """E over z ~ N(0, q) of phi to phi^4, phi'^2, z phi', z^2 phi'^2, z phi phi', and kappa."""
    x, w = _clamped_nodes(q)
    f, d = np.asarray(act.fn(x), dtype=np.float64), np.asarray(act.derivative(x), dtype=np.float64)
    d2 = d * d
    second = float(d2 @ w)
    kappa = float(d2 * d2 @ w) / (second * second) - 1.0 if second > 0 else 0.0
    f2 = f * f
    return dict(e1=float(f @ w), e2=float(f2 @ w), e3=float(f2 * f @ w), e4=float(f2 * f2 @ w), d2=second, zd=float(x * d @ w),
                z2d2=float(x * x * d2 @ w), zfd=float(x * f * d @ w), kappa=kappa)


def _forward(act, sigma_w, alpha, depth, width, input_mean, input_sq):
    """Per block: the moments at its pre-activation variance, (mean, mean square) of its input,
    and the variance of the log of the mean square's growth over the block at this width."""
    m, p = input_mean, input_sq
    moments, states, variances = [], [], []
    a = alpha
    for _ in range(depth):
        states.append((m, p))
        mo = _moments(act, sigma_w * sigma_w * p)
        moments.append(mo)
        # the branch phi(W h) is independent of h given |h|, so the cross term is mean(h) E[phi]
        m, p_next = m + a * mo["e1"], p + 2.0 * a * m * mo["e1"] + a * a * mo["e2"]
        # given h, mean((h + a phi(z))^2) averages k independent units z_i ~ N(0, q)
        spread = (4.0 * a * a * p * (mo["e2"] - mo["e1"] ** 2) + 4.0 * a ** 3 * states[-1][0]
                  * (mo["e3"] - mo["e1"] * mo["e2"]) + a ** 4 * (mo["e4"] - mo["e2"] ** 2))
        variances.append(spread / (width * p_next * p_next))
        p = p_next
    return moments, states, np.array(variances)


def _radial_gain(moments, states, start, sigma_w, alpha):
    """||J v||^2 / ||v||^2 for v = h_start, the forward signal at block ``start``, through the rest.

    The tangent v_l = d h_l / dt of the network run on t * h_start obeys
    v' = v + alpha phi'(z) * (W v); (W h, W v) are jointly Gaussian, so
    its mean and second moments follow from those of (h, v).
    """
    s2 = sigma_w * sigma_w
    m, p = states[start]
    mv, phv, pvv = m, p, p
    for mo, (m, p) in zip(moments[start:], states[start:]):
        q, c = s2 * p, s2 * phv
        beta = c / q if q > 0 else 0.0
        resid = max(s2 * pvv - c * beta, 0.0)
        slope = beta * mo["zd"]  # E[phi'(z) W v]
        mv, phv, pvv = (mv + alpha * slope,
                        phv + alpha * (m * slope + mv * mo["e1"]) + alpha * alpha * beta * mo["zfd"],
                        pvv + 2.0 * alpha * mv * slope
                        + alpha * alpha * (beta * beta * mo["z2d2"] + resid * mo["d2"]))
    return pvv / states[start][1]


def _typical_steps(moments, sigma_w, alpha, width):
    """E[log G] and Var[log G] of the transverse gain G of each block, backward order.

    Second order in G's spread; the spread comes from the cross term
    ``2 alpha tr(A D W)`` and from the branch ``alpha**2 ||M D W||**2``, and
    depends on two moments of A = M^T M (u = tr A^2 / (tr A)^2 and
    delta = sum A_ii^2 / (tr A)^2), carried from the identity (both 1/k).
    """
    k = width
    u = delta = 1.0 / k
    a2 = alpha * alpha
    logs, variances = [], []
    for mo in reversed(moments):
        chi = sigma_w * sigma_w * mo["d2"]
        kappa = mo["kappa"]
        mean = 1.0 + a2 * chi
        var = 4.0 * a2 * chi * u / k + a2 * a2 * chi * chi * (2.0 * (u + kappa * delta) / k + kappa * delta)
        logs.append(math.log(mean) - var / (2.0 * mean * mean))
        variances.append(var / (mean * mean))
        norm = mean * mean + var
        u, delta = ((u + 2.0 * a2 * chi * u * (1.0 + 1.0 / k) + 2.0 * a2 * chi / k
                     + a2 * a2 * chi * chi * ((1.0 + 1.0 / k) * (u + kappa * delta) + (1.0 + kappa * delta) / k))
                    / norm,
                    (delta + 4.0 * a2 * chi * u / k + 2.0 * a2 * chi / k
                     + a2 * a2 * chi * chi * (1.0 + 3.0 * kappa * delta + 2.0 * u) / k) / norm)
    return np.array(logs), np.array(variances)


def predict_residual(activation, sigma_w, alpha, depth, width, input_sq=1.0, input_mean=1.0):
    """Predict the gradient norms of ``depth`` blocks ``x + alpha * phi(W x)`` of ``width`` units.

    ``input_mean`` and ``input_sq``: mean(x) and mean(x**2) of the input (the
    lecture's ones: 1 and 1); the forward signal's mean matters, since the
    skip connection carries it from block to block. Returns a predicted
    ``GradientProfile``: after the last i blocks the squared norm is
    ``(k - 1) * prod(1 + alpha**2 chi) + R``, the k - 1 directions across the
    forward signal and R the gain along it. The typical value replaces the
    first term by its finite-width expected log; the spread mixes the
    spreads of the two terms by their shares of the norm (R's from the
    fluctuation of the forward signal's mean square at this width).
    """
    owner = "predict_residual"
    act = as_activation(activation, owner)
    sigma_w = check_real(owner, "sigma_w", sigma_w, positive=True)
    alpha = check_real(owner, "alpha", alpha, nonnegative=True)
    depth = check_count(owner, "depth", depth)
    width = check_count(owner, "width", width)
    input_sq = check_real(owner, "input_sq", input_sq, positive=True)
    input_mean = check_real(owner, "input_mean", input_mean)
    if input_mean * input_mean > input_sq:
        raise ValueError(f"{owner}: input_mean**2 must be <= input_sq, got {input_mean}**2 > {input_sq}")

    moments, states, radial_variances = _forward(act, sigma_w, alpha, depth, width, input_mean, input_sq)
    gains = np.array([1.0 + alpha * alpha * sigma_w * sigma_w * mo["d2"] for mo in moments])
    transverse = np.cumprod(gains[::-1])  # backward order: the last i + 1 blocks
    radial = np.array([_radial_gain(moments, states, start, sigma_w, alpha)
                       for start in range(depth - 1, -1, -1)])
    k = width
    total = ((k - 1) * transverse + radial) / k
    logs, variances = _typical_steps(moments, sigma_w, alpha, width)
    # along the forward signal the mean-field value is kept: the O(1/k) terms
    # left out here (the Stein term of D's dependence on W, the transverse
    # directions leaking into the forward one) push it up about as much as
    # the spread of its log pulls it down
    radial_var = np.cumsum(radial_variances[::-1])
    typical_total = ((k - 1) * np.exp(np.cumsum(logs)) + radial) / k
    share = (k - 1) * transverse / (k * total)  # after each block back
    sd = (share * np.sqrt(np.cumsum(variances)) + (1.0 - share) * np.sqrt(radial_var)) / (2.0 * math.log(10.0))
    return assemble(f"Residual(Linear, {act.name}, alpha={alpha:.6g})", act.name, sigma_w, width, gains,
                    backward=total, typical_backward=typical_total, sd_log10=sd)
