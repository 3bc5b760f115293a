"""The weight scale that keeps a finite network's typical gradient norm unchanged.

Mean-field criticality (chi_1 = 1) preserves the *mean* squared gradient
norm of an infinitely wide network. A network of width k typically loses a
little each layer: the expected log of a layer's gain is below the log of
its expectation, by about (2 + 3 kappa) / (2k) for a gain whose spread is
kappa (see finite_width). Over hundreds of layers that adds up to decades.
``stable_sigma_w`` finds the sigma_w at which the *typical* gradient norm
of a ``depth``-layer network of ``width`` comes out where it went in.
"""

import math

from ._checks import as_activation, check_count, check_real
from .criticality import NoCriticalPoint
from .predict import predict

__all__ = ["stable_sigma_w", "typical_change"]


def typical_change(activation, sigma_w, depth, width, sigma_b=0.0, input_sq=1.0):
    """Predicted decades by which the typical gradient norm changes from output to input."""
    p = predict(activation, sigma_w, depth, width, sigma_b=sigma_b, input_sq=input_sq)
    return p.profile.change_log10


def stable_sigma_w(activation, depth, width, sigma_b=0.0, *, input_sq=1.0, bounds=(1e-2, 1e2)):
    """The sigma_w in ``bounds`` at which ``typical_change`` is 0 for this depth and width.

    Raises ``NoCriticalPoint`` when the typical change keeps one sign over
    ``bounds``, or only leaps over 0 where the variance's fixed point jumps
    (GELU and SiLU at depth 500).
    """
    owner = "stable_sigma_w"
    act = as_activation(activation, owner)
    depth = check_count(owner, "depth", depth)
    width = check_count(owner, "width", width)
    sigma_b = check_real(owner, "sigma_b", sigma_b, nonnegative=True)
    low, high = (check_real(owner, "bounds", b, positive=True) for b in bounds)

    def change(sigma_w):
        return typical_change(act, sigma_w, depth, width, sigma_b, input_sq)

    # the typical change need not be monotone in sigma_w: walk up a log grid
    # and take the first sign change, as critical_sigma_w does
    steps = max(2, math.ceil(4 * math.log10(high / low)) + 1)
    grid = [low * (high / low) ** (i / (steps - 1)) for i in range(steps)]
    previous = change(grid[0])
    for a, b in zip(grid, grid[1:]):
        current = change(b)
        if previous == 0.0:
            return a
        if (previous < 0.0) != (current < 0.0) and math.isfinite(previous) and math.isfinite(current):
            from scipy.optimize import brentq

            root = float(brentq(change, a, b, xtol=1e-12))
            if abs(change(root)) < 1e-6:
                return root
            # the fixed point the variance reaches jumps here (GELU, SiLU):
            # the change leaps over 0 rather than passing through it
        previous = current
    raise NoCriticalPoint(
        f"{owner}: no sigma_w in [{low:g}, {high:g}] keeps the typical gradient norm of a "
        f"{depth}-layer {act.name} network of width {width} unchanged (sigma_b = {sigma_b:g})")
