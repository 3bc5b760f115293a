"""BatchNorm blocks ``Linear -> BatchNorm1d -> activation``: the gradient explosion at initialization.

In training mode BatchNorm normalizes each feature over the batch, so a
unit's backward pass couples the B samples: per feature its Jacobian is
``(1/s) (I - 11^T/B - u u^T/B)``, u the feature's normalized column. Deep in
the network the batch's centred Gram matrix is the same in every direction
orthogonal to 1 (Yang et al. 2019), so each column u is sqrt(B) times a
uniform point of the unit sphere in that (B - 1)-dimensional space, s^2 is
sigma_w^2 E[V_h] times chi-square(B - 1) / (B - 1), V_h the batch variance of
a feature of h = phi(u), and the expected squared gradient norm grows per
block by

    N / ((B - 3) (1 - 1/B) (E phi(u1)^2 - E phi(u1) phi(u2))) * (1 - 2/k)

with N = (B - 1) E phi'(u1)^2 - (1 - 1/B) (E phi'(u1)^2 - E phi'(u1) phi'(u2)
+ E phi'(u1)^2 u1^2 - E phi'(u1) u1 phi'(u2) u2): two coordinates of the
sphere, integrated here exactly. sigma_w cancels. For ReLU it tends to
pi / (pi - 1) = 1.467 as B grows, and is larger at small B.
The typical network (the median, from E[log gain] rather than log E[gain])
and the spread between networks come from simulating up to CHAIN blocks of
the stack (seeded Monte Carlo), the blocks past them repeating its middle;
see docs/theory.md.
Derivations: see docs/remedies.md.
"""

import functools
import math
import numbers

import numpy as np

from ._checks import as_activation, check_count, check_real
from .blocks import assemble

__all__ = ["batch_norm_gain", "batch_norm_log_gains", "predict_batch_norm", "HEAVY_TAIL_BATCH", "MIN_BATCH"]

#: Below this batch size the mean-field BatchNorm prediction is dominated by rare networks (docs/theory.md, 4d)
HEAVY_TAIL_BATCH = 16
#: The smallest batch predicted: at 3 the mean gain is infinite, at 2 only eps carries a gradient
MIN_BATCH = 4
#: Blocks simulated at most: enough for the ends of the stack, whose gains differ, to settle
CHAIN = 16
#: Activations whose stacks were checked to settle within CHAIN blocks (docs/theory.md)
SETTLED = ("tanh", "sigmoid")
#: Elements (weights and activations) simulated per estimate: its cost, and its precision
SIMULATED_ELEMENTS = 2 ** 23
#: At most this many elements held at once (float32; 256 MB), for wide networks
MAX_ELEMENTS = 2 ** 26
_NETWORKS = (256, 4096)  # the fewest and the most networks one estimate simulates, memory permitting

_RADIAL_POINTS = 64
_ANGULAR_POINTS = 48  # per piece between the kinks of ReLU-like activations


@functools.lru_cache(maxsize=None)
def _sphere_pairs(batch_size):
    """Nodes (u1, u2) and weights for two coordinates of sqrt(B) times a uniform unit vector orthogonal to 1.

    (t1, t2), two orthogonal coordinates of a uniform point on the unit
    sphere in n = B - 1 dimensions, have density proportional to
    (1 - r^2)^beta on the unit disc, beta = (n - 4) / 2, so s = r^2 has
    density (beta + 1) (1 - s)^beta and y = -(beta + 1) log(1 - s) is
    exponential: Gauss-Laguerre in y is exact in the weight for every n >= 3.
    u1 = sqrt(B - 1) t1 and u2 = sqrt(B - 1) (rho t1 + sqrt(1 - rho^2) t2),
    rho = -1 / (B - 1), the coordinates' correlation.
    """
    n = batch_size - 1
    rho = -1.0 / n
    y, wy = np.polynomial.laguerre.laggauss(_RADIAL_POINTS)
    r = np.sqrt(-np.expm1(-y / (0.5 * (n - 2))))
    # u1 = 0 at theta = pi/2 (mod pi), u2 = 0 where rho cos + sqrt(1 - rho^2) sin = 0:
    # integrate theta piecewise between those angles, where ReLU's slope jumps
    kink = math.atan2(-rho, math.sqrt(1.0 - rho * rho)) % math.pi
    edges = np.unique(np.array([0.0, math.pi / 2, kink, math.pi, math.pi + math.pi / 2, math.pi + kink,
                                2 * math.pi]) % (2 * math.pi + 1e-12))
    xa, wa = np.polynomial.legendre.leggauss(_ANGULAR_POINTS)
    thetas, wthetas = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        thetas.append(0.5 * (b - a) * xa + 0.5 * (a + b))
        wthetas.append(0.5 * (b - a) * wa / (2 * math.pi))
    theta, wtheta = np.concatenate(thetas), np.concatenate(wthetas)
    t1 = (r[:, None] * np.cos(theta)[None, :]).ravel()
    t2 = (r[:, None] * np.sin(theta)[None, :]).ravel()
    weight = (wy[:, None] * wtheta[None, :]).ravel()
    scale = math.sqrt(n)
    return scale * t1, scale * (rho * t1 + math.sqrt(1.0 - rho * rho) * t2), weight


def batch_norm_gain(activation, batch_size, width):
    """The mean-field squared-gradient gain of one ``Linear -> BatchNorm1d -> activation`` block.

    ``batch_size`` B >= 4 (at B = 3 the mean of 1/s^2 is infinite), derived
    for B - 1 <= ``width``. BatchNorm's eps is neglected.
    """
    act = as_activation(activation, "batch_norm_gain")
    batch_size = check_count("batch_norm_gain", "batch_size", batch_size, minimum=4)
    width = check_count("batch_norm_gain", "width", width, minimum=3)
    u1, u2, w = _sphere_pairs(batch_size)
    f1, f2 = np.asarray(act.fn(u1), dtype=np.float64), np.asarray(act.fn(u2), dtype=np.float64)
    d1, d2 = np.asarray(act.derivative(u1), dtype=np.float64), np.asarray(act.derivative(u2), dtype=np.float64)
    b = batch_size
    centred = 1.0 - 1.0 / b
    slope2, slope_pair = float(d1 * d1 @ w), float(d1 * d2 @ w)
    radial2, radial_pair = float((d1 * u1) ** 2 @ w), float(d1 * u1 * d2 * u2 @ w)
    numerator = (b - 1) * slope2 - centred * (slope2 - slope_pair + radial2 - radial_pair)
    variance = centred * (float(f1 * f1 @ w) - float(f1 * f2 @ w))  # E[V_h]
    return numerator / ((b - 3) * variance) * (1.0 - 2.0 / width)


def batch_norm_log_gains(activation, batch_size, width, in_features=None, blocks=CHAIN, out_features=None,
                         rng=None):
    """Each of ``blocks`` simulated blocks' share of the typical log ||dY/dX||_F**2 and of its variance.

    Simulates ``blocks`` blocks ``Linear(-> width, Gaussian weights) ->
    BatchNorm1d -> activation`` on an N(0, I) batch ``(batch_size,
    in_features)`` (``in_features`` defaults to ``width``), backpropagates a
    Gaussian cotangent on the output batch, and returns two arrays, forward
    order: per block, E[log ||dX||^2 / ||dY||^2] over the simulated
    networks (natural log, with its share of the step from a cotangent's
    norm to the Frobenius norm), and its variance plus twice its covariance
    with the blocks after it, so that the last i entries of the two arrays
    add up to the median and the variance between networks of log
    ||dY/dX||_F**2 through the last i blocks (docs/theory.md). ``out_features``: a
    final ``Linear(width -> out_features)`` after the blocks (its share comes
    last, for weights of variance 1 / width), or None. ``rng``: a
    ``numpy.random.Generator`` (seed 0 by default). The weights' scale and
    BatchNorm's eps are left out: the normalization cancels the one, and
    the other matters only for a batch of (nearly) equal rows.
    """
    owner = "batch_norm_log_gains"
    act = as_activation(activation, owner)
    batch_size = check_count(owner, "batch_size", batch_size, minimum=MIN_BATCH)
    width = check_count(owner, "width", width, minimum=3)
    in_features = width if in_features is None else check_count(owner, "in_features", in_features)
    blocks = check_count(owner, "blocks", blocks)
    out_features = None if out_features is None else check_count(owner, "out_features", out_features)
    rng = np.random.default_rng(0) if rng is None else rng
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{owner}: rng must be a numpy.random.Generator, got {rng!r}")
    per_network = blocks * width * (batch_size + max(width, in_features))
    n = int(np.clip(SIMULATED_ELEMENTS // per_network, *_NETWORKS))
    # a wide network simulates fewer networks (its sd is the rougher), so the memory stays within bounds
    n = max(min(n, MAX_ELEMENTS // per_network), 16)
    # features by batch, so that BatchNorm's sums over the batch run along the last, contiguous axis
    h, kept = rng.standard_normal((n, in_features, batch_size), dtype=np.float32), []
    with np.errstate(all="ignore"):
        for _ in range(blocks):
            w = rng.standard_normal((n, width, h.shape[1]), dtype=np.float32)
            z = w @ h
            z -= z.mean(axis=2, keepdims=True)
            s = np.sqrt(np.mean(z * z, axis=2, keepdims=True))
            u = z / s
            kept.append((w, u, s, np.asarray(act.derivative(u), dtype=np.float32)))
            h = np.asarray(act.fn(u), dtype=np.float32)
        # two cotangents per network: what they share is the network's, the rest the cotangent's
        g, logs = rng.standard_normal((n, out_features or width, 2, batch_size), dtype=np.float32), []
        before = np.einsum("nkcb,nkcb->nc", g, g)
        if out_features is not None:  # the final Linear's gradient reaches the last block
            w = rng.standard_normal((n, out_features, width), dtype=np.float32) / np.float32(math.sqrt(width))
            g = (w.transpose(0, 2, 1) @ g.reshape(n, out_features, -1)).reshape(n, width, 2, batch_size)
            after = np.einsum("nkcb,nkcb->nc", g, g)
            logs.append(np.log(after.astype(np.float64) / before))
            before = after
        for w, u, s, slope in reversed(kept):
            g = g * slope[:, :, None]
            # BatchNorm's backward per feature: (1/s) (I - 11^T/B - u u^T/B), over the batch
            along = np.einsum("nkcb,nkb->nkc", g, u)[..., None] / batch_size
            g = (g - g.mean(axis=3, keepdims=True) - u[:, :, None] * along) / s[:, :, None]
            g = (w.transpose(0, 2, 1) @ g.reshape(n, width, -1)).reshape(n, -1, 2, batch_size)
            after = np.einsum("nkcb,nkcb->nc", g, g)
            logs.append(np.log(after.astype(np.float64) / before))
            before = after
    logs = np.array(logs[::-1])  # (blocks, networks, cotangents)
    if not np.all(np.isfinite(logs)):
        raise ValueError(f"{owner}: {act.name} gives a gradient that is not finite in a simulated block "
                         f"(batch {batch_size}, width {width}); there is no typical value to predict")
    first, second = (c - c.mean(axis=1, keepdims=True) for c in (logs[..., 0], logs[..., 1]))
    between = (first @ second.T + second @ first.T) / (2.0 * (n - 1))  # Cov over networks, blocks x blocks
    within = (first @ first.T + second @ second.T) / (2.0 * (n - 1)) - between  # over cotangents
    # the probe's norm is a mean over cotangents, E log of which is lower by half the variance
    return logs.mean(axis=(1, 2)) + 0.5 * _upper_shares(within), _upper_shares(between)


def _upper_shares(cov):
    """Each block's covariance with itself and, twice, with the blocks after it: the last i add up to theirs."""
    return np.diag(cov) + 2.0 * np.triu(cov, 1).sum(axis=1)


def _refuse_small_batch(owner, batch_size):
    """A batch of 2 or 3 is a ValueError that says why there is no prediction."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or not 2 <= batch_size < 4:
        return
    why = ("BatchNorm maps each feature of a batch of 2 to -1 and +1 whatever it is given, so only eps lets a "
           "gradient through" if batch_size == 2 else
           "one feature's gain 1/s^2 has an infinite mean, so a handful of features decide each network")
    raise ValueError(f"{owner}: no prediction at batch_size {batch_size}: {why}; "
                     f"predictions start at batch {MIN_BATCH} (docs/theory.md)")


def predict_batch_norm(activation, batch_size, depth, width, in_features=None, out_features=None, out_sigma_w=1.0,
                       rng=None):
    """Predict the gradient norms of ``depth`` blocks ``Linear -> BatchNorm1d -> activation`` on a batch.

    What is predicted is the Frobenius norm of the Jacobian of the whole
    output batch with respect to the whole input batch, as the probe
    measures it for a batch-coupled network (see docs/remedies.md): the
    backward pass starts from the identity on ``batch_size * width``
    outputs. The mean-field value is derived at the batch's symmetric fixed
    point; the typical value and the spread between networks come from
    ``batch_norm_log_gains`` (``rng``, seed 0 by default). ``in_features``:
    the first Linear's (``width`` by default). ``out_features``: a final
    ``Linear(width -> out_features)`` after the blocks, its weights of
    variance ``out_sigma_w**2 / width`` (a classifier), or None. ``batch_size`` must be at
    least ``MIN_BATCH``; below ``HEAVY_TAIL_BATCH`` the ``note`` says that
    the mean over networks is far from a typical one.
    """
    owner = "predict_batch_norm"
    act = as_activation(activation, owner)
    _refuse_small_batch(owner, batch_size)
    batch_size = check_count(owner, "batch_size", batch_size, minimum=MIN_BATCH)
    depth = check_count(owner, "depth", depth)
    width = check_count(owner, "width", width, minimum=3)
    gains = np.full(depth, batch_norm_gain(act, batch_size, width))
    means, variances = batch_norm_log_gains(act, batch_size, width, in_features, min(depth, CHAIN), out_features,
                                            rng)
    label = f"Linear -> BatchNorm1d -> {act.name}, batch {batch_size}"
    if out_features is not None:  # E ||W^T g||^2 = sigma_w^2 ||g||^2, simulated at sigma_w = 1
        scale = check_real(owner, "out_sigma_w", out_sigma_w, nonnegative=True) ** 2
        gains, means[-1] = np.append(gains, scale), means[-1] + (math.log(scale) if scale > 0 else -math.inf)
        label += f", then Linear({width} -> {out_features})"
    if depth > CHAIN:  # the blocks between the ends repeat the middle of the simulated stack
        half, middle = CHAIN // 2, slice(CHAIN // 3, CHAIN - CHAIN // 3)
        means, variances = (np.concatenate([v[:half], np.full(depth - CHAIN, np.mean(v[middle])), v[half:]])
                            for v in (means, variances))
    notes = []
    if batch_size < HEAVY_TAIL_BATCH:
        notes.append(f"at batch {batch_size} the per-block gain 1/s^2 is heavy-tailed: the mean-field value is "
                     "a mean over networks dominated by rare ones; read the typical value and its spread")
    if depth > CHAIN and not (act.positively_homogeneous or act.name in SETTLED):
        notes.append(f"checked for ReLU, tanh and the sigmoid; with {act.name} the batch may settle over more "
                     f"than the {CHAIN} blocks simulated (SiLU, Softplus: 0.3 decades low at batch 64, depth 40)")
    note = "; ".join(notes) or None
    # through the last i blocks, the variance is the sum of their shares: kept >= 0 against sampling noise
    after = np.maximum(np.cumsum(variances[::-1]), 0.0)
    variances = np.diff(after, prepend=0.0)[::-1]
    return assemble(label, act.name, None, width, gains, log_gains=means, variances=variances,
                    start_size=batch_size * (out_features or width), batch_size=batch_size, note=note)
