"""Gaussian expectations ``E[f(sqrt(q) Z)]``, Z ~ N(0, 1), accurate for any q.

A fixed low-order Gauss-Hermite rule cannot see ``phi'`` of a saturated
activation: at large q, ``sigmoid'(sqrt(q) z)`` is a spike of width
``1 / sqrt(q)`` around z = 0 that falls between its nodes. Here the z axis is
cut at 0 (where ReLU-like activations have their kink) and each half is split
into panels whose edges halve towards 0 (``Z_MAX / 2**j``) until the smallest
panel is narrower than the activation's own unit scale, ``0.1 / sqrt(q)``.
Each panel gets a Gauss-Legendre rule, so both the spike near 0 and the
Gaussian tail are resolved at a few hundred nodes. The nodes depend only on
the number of panels, so they are built once and cached. Many variances are
integrated together, one array per rule size (``grouped_nodes``), which is
how the theory's solvers take whole grids of points at once. Derivations:
see docs/theory.md.
"""

import functools
import math

import numpy as np

__all__ = ["gaussian_expectation", "gaussian_nodes"]

#: The integration range in z; P(|Z| > 10) is about 1.5e-23.
Z_MAX = 10.0
#: Gauss-Legendre points per panel.
POINTS_PER_PANEL = 16
_MIN_PANELS = 6  # halvings of [0, Z_MAX] even at small q, for the Gaussian itself
_FEATURE_SCALE = 0.1  # the innermost panel spans |x| <= 0.1 in activation units
# z panels narrower than Z_MAX / 2**60 ~ 1e-17 would hold less than 1e-17 of
# the probability: at q above ~1e30 a saturating derivative's spike is no
# longer resolved, and below that every rule is exact to far beyond 1e-6
_MAX_HALVINGS = 60


@functools.lru_cache(maxsize=None)
def _standard_rule(halvings, points=POINTS_PER_PANEL):
    """Nodes z and weights (density included) on [-Z_MAX, Z_MAX] with ``halvings`` graded panels."""
    x, w = np.polynomial.legendre.leggauss(points)
    edges = np.concatenate([[0.0], Z_MAX * 2.0 ** -np.arange(halvings, -1, -1.0)])
    left, right = edges[:-1, None], edges[1:, None]
    z = (0.5 * (right - left) * x + 0.5 * (right + left)).ravel()
    weight = (0.5 * (right - left) * w).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    z = np.concatenate([-z[::-1], z])
    weight = np.concatenate([weight[::-1], weight])
    z.flags.writeable = False
    weight.flags.writeable = False
    return z, weight


def _halvings(q):
    """The number of graded panels the rule needs at each variance in the array ``q``."""
    wanted = np.ceil(np.log2(np.maximum(Z_MAX * np.sqrt(q) / _FEATURE_SCALE, 1.0)))
    return np.clip(wanted, _MIN_PANELS, _MAX_HALVINGS).astype(int)


def gaussian_nodes(q):
    """Nodes ``x`` and weights ``w`` with ``sum(w * f(x)) ~= E[f(sqrt(q) Z)]``; q > 0.

    ``x = sqrt(q) * z`` for the graded rule described in the module
    docstring; ``w`` sums to 1 (to about 1e-15).
    """
    (_, x, w), = grouped_nodes(np.array([float(q)]))
    return x[0], w


def grouped_nodes(q, points=POINTS_PER_PANEL):
    """The rules for an array of variances ``q`` (n,), one per rule size: yields ``(index, x, w)``.

    ``x[k] = sqrt(q[index[k]]) * z``, shape (len(index), nodes), and ``w``
    (nodes,) are the nodes and weights of ``gaussian_nodes(q[index[k]])``;
    variances that need the same number of panels are integrated together.
    ``points`` per panel: fewer give a cheaper, rougher rule.
    """
    q = np.asarray(q, dtype=np.float64)
    halvings = _halvings(q)
    for rule in np.unique(halvings):
        index = np.flatnonzero(halvings == rule)
        z, weight = _standard_rule(int(rule), points)
        yield index, np.sqrt(q[index])[:, None] * z, weight


def expectations(f, q):
    """``E[f(sqrt(q) Z)]`` for each variance in the array ``q`` >= 0 (finite), as an array of q's shape.

    ``f`` maps an array elementwise; q = 0 gives f(0).
    """
    q = np.asarray(q, dtype=np.float64)
    flat = q.ravel()
    out = np.empty(flat.shape)
    zero = flat == 0.0
    if zero.any():
        out[zero] = np.asarray(f(np.zeros((int(zero.sum()), 1))), dtype=np.float64)[:, 0]
    for index, x, w in grouped_nodes(flat[~zero]):
        values = np.asarray(f(x), dtype=np.float64)
        if values.shape != x.shape:
            raise ValueError(
                f"gaussian_expectation: f must map an array of shape {x.shape} elementwise, "
                f"got shape {values.shape}")
        out[np.flatnonzero(~zero)[index]] = values @ w
    return as_shaped(out, q.shape)


def as_shaped(values, shape):
    """``values`` in ``shape``; a Python float for shape (), so a scalar call gets what scalar arithmetic gives."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.reshape(())) if shape == () else values.reshape(shape)


def gaussian_expectation(f, q):
    """``E[f(sqrt(q) Z)]`` for Z ~ N(0, 1); ``f`` maps an array elementwise, q >= 0 (or an array of them).

    Exact to about 1e-10 relative for the tinynet activations and their
    derivatives (and their squares) for q from 1e-4 to 1e4 and far beyond
    (up to ~1e30, see ``_MAX_HALVINGS``). Assumes ``f(sqrt(q) z)`` is smooth
    away from z = 0 on the scale of the panels: a custom activation that
    oscillates all along the axis (sin at q >> 1) is integrated less accurately.
    An array of q is integrated together, grouped by the size of the rule.
    """
    values = np.asarray(q, dtype=np.float64) if not isinstance(q, bool) else np.nan
    if not np.all(values >= 0.0) or not np.all(np.isfinite(values)):
        raise ValueError(f"gaussian_expectation: q must be a finite variance >= 0, got {q}")
    result = expectations(f, values)
    return float(result) if np.ndim(result) == 0 else result
