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
Derivations: see docs/remedies.md.
"""

import functools
import math

import numpy as np

from ._checks import as_activation, check_count
from .blocks import assemble

__all__ = ["batch_norm_gain", "predict_batch_norm", "HEAVY_TAIL_BATCH"]

#: Below this batch size the mean-field BatchNorm prediction is dominated by rare networks (docs/remedies.md)
HEAVY_TAIL_BATCH = 16

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


def predict_batch_norm(activation, batch_size, depth, width):
    """Predict the gradient norms of ``depth`` blocks ``Linear -> BatchNorm1d -> activation`` on a batch.

    What is predicted is the Frobenius norm of the Jacobian of the whole
    output batch with respect to the whole input batch, as the probe
    measures it for a batch-coupled network (see docs/remedies.md): the
    backward pass starts from the identity on ``batch_size * width``
    outputs. Mean-field only: no typical value and no spread are derived.
    Below ``HEAVY_TAIL_BATCH`` the prediction's ``note`` says why the mean
    over networks is far from a typical one.
    """
    owner = "predict_batch_norm"
    act = as_activation(activation, owner)
    batch_size = check_count(owner, "batch_size", batch_size, minimum=4)
    depth = check_count(owner, "depth", depth)
    width = check_count(owner, "width", width, minimum=3)
    gain = batch_norm_gain(act, batch_size, width)
    note = None
    if batch_size < HEAVY_TAIL_BATCH:
        note = (f"mean-field only: at batch {batch_size} the per-block gain 1/s^2 is heavy-tailed, so a "
                "typical network measures well below this mean (0.85 to 0.92 decades at batch 4)")
    return assemble(f"Linear -> BatchNorm1d -> {act.name}, batch {batch_size}", act.name, None, width,
                    np.full(depth, gain), start_size=batch_size * width, batch_size=batch_size, note=note)
