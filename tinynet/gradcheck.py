"""gradcheck: compare a layer's analytic gradients with finite differences."""

import numpy as np

from .checks import as_float_array, check_number, check_rng
from .grad_mode import no_grad
from .layer import Layer


class GradcheckReport:
    """Per-tensor errors of a gradient check; ``passed`` is True when all agree.

    ``rows`` is a list of dicts with keys ``name``, ``shape``, ``max_abs_err``,
    ``max_rel_err`` and ``passed``. ``max_rel_err`` is the largest
    ``|analytic - numeric| / max(|analytic|, |numeric|)``, symmetric so that
    an entry that should be 0 reads as 1 rather than infinity; ``passed``
    uses the test in :func:`gradcheck`'s docstring.
    """

    def __init__(self, rows):
        self.rows = rows

    @property
    def passed(self):
        return all(r["passed"] for r in self.rows)

    def __bool__(self):
        return self.passed

    def __str__(self):
        head = f"{'tensor':<16} {'shape':<14} {'max abs err':>12} {'max rel err':>12}  ok"
        lines = [head]
        for r in self.rows:
            lines.append(
                f"{r['name']:<16} {str(r['shape']):<14} {r['max_abs_err']:>12.3e} "
                f"{r['max_rel_err']:>12.3e}  {'yes' if r['passed'] else 'NO'}"
            )
        return "\n".join(lines)

    __repr__ = __str__


def gradcheck(module, x, dy=None, eps=1e-6, rtol=1e-5, atol=1e-8, rng=None):
    """Check ``module``'s backward against float64 central differences.

    The scalar checked is ``sum(forward(x) * dy)``; its gradient with respect
    to ``x`` is what ``backward(dy)`` returns, and with respect to each
    parameter what backward adds into ``.grad``. ``dy`` defaults to a standard
    normal draw from ``rng`` (seeded with 0 if not given). An entry passes
    when ``|analytic - numeric| <= atol + rtol * |numeric|``.

    The module and ``x`` must be float64: in float32 the differences would
    measure rounding, not the derivative. Its forward must give the same
    output each time (a ValueError says so otherwise): Dropout in training
    mode draws a new mask per forward. Parameter gradients are zeroed
    first and hold the analytic gradient afterwards. Returns a
    :class:`GradcheckReport`.
    """
    if not isinstance(module, Layer):
        raise TypeError(f"gradcheck: module must be a tinynet Layer, got {type(module).__name__}")
    eps = check_number("gradcheck", "eps", eps, positive=True)
    rtol = check_number("gradcheck", "rtol", rtol, nonnegative=True)
    atol = check_number("gradcheck", "atol", atol, nonnegative=True)
    rng = np.random.default_rng(0) if rng is None else check_rng("gradcheck", "rng", rng)
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError(f"gradcheck: x must be float64, got {x.dtype}")
    params = list(module.named_parameters())
    for name, p in params:
        if p.data.dtype != np.float64:
            raise TypeError(
                f"gradcheck: parameter {name!r} is {p.data.dtype}; build the module with "
                "dtype=np.float64 or call module.to(np.float64)"
            )
    x = x.copy()
    with no_grad():  # differences between forwards that draw anew (Dropout in training) mean nothing
        if not np.array_equal(module.forward(x), module.forward(x), equal_nan=True):
            raise ValueError("gradcheck: two forwards of the same x differ, so finite differences would "
                             "mix them; call module.eval(), or fix its random draws (docs/backprop.md, Dropout)")
    y = module.forward(x)
    if dy is None:
        dy = rng.standard_normal(y.shape)
    dy = as_float_array("gradcheck", "dy", dy).astype(np.float64)
    if dy.shape != y.shape:
        raise ValueError(f"gradcheck: dy must have the output's shape {y.shape}, got {dy.shape}")

    module.zero_grad()
    saved = [p.requires_grad for _, p in params]
    module.requires_grad_(True)
    try:
        dx = module.backward(dy)
    finally:
        for (_, p), r in zip(params, saved):
            p.requires_grad = r

    @no_grad()  # forward only: nothing kept for a backward
    def objective():
        return float(np.sum(module.forward(x) * dy))

    rows = [_compare("input", dx, _numeric_grad(objective, x, eps), rtol, atol)]
    for name, p in params:
        grad = np.zeros_like(p.data) if p.grad is None else p.grad  # None: backward never reached it
        rows.append(_compare(name, grad, _numeric_grad(objective, p.data, eps), rtol, atol))
    return GradcheckReport(rows)


def _numeric_grad(objective, array, eps):
    """Central differences of ``objective()`` over every entry of ``array``, perturbed in place."""
    grad = np.empty_like(array)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + eps
        plus = objective()
        array[i] = old - eps
        minus = objective()
        array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def _compare(name, analytic, numeric, rtol, atol):
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        return {"name": name, "shape": numeric.shape, "max_abs_err": float("inf"),
                "max_rel_err": float("inf"), "passed": False}
    err = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel = np.divide(err, scale, out=np.zeros_like(err), where=scale > 0)
    return {
        "name": name,
        "shape": numeric.shape,
        "max_abs_err": float(err.max(initial=0.0)),
        "max_rel_err": float(rel.max(initial=0.0)),
        "passed": bool(np.all(err <= atol + rtol * np.abs(numeric))),
    }
