"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

Call between ``backward`` and ``optimizer.step()``. Parameters whose
``grad`` is None have no gradient to clip and are left out, also from the
norm.
"""

import math
import numbers

import numpy as np

from .checks import check_bool, check_number
from .parameter import Parameter


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their total norm is at most ``max_norm``; returns the norm before.

    The total norm is the ``norm_type``-norm of all gradients taken as one
    vector (``float("inf")`` or ``"inf"``: the largest absolute entry). Each
    gradient is multiplied by ``min(max_norm / (total + 1e-6), 1)``, so a
    norm below ``max_norm`` leaves the gradients unchanged, and one above
    ends just under ``max_norm``. A nan or inf total raises a
    FloatingPointError with ``error_if_nonfinite``; without it the
    gradients are scaled by it anyway (to nan or zero), as PyTorch does.
    The returned norm (a float, computed in float64) is the gradient size
    before clipping: what a training monitor records.
    """
    owner = "clip_grad_norm_"
    grads = _grads(owner, parameters)
    max_norm = check_number(owner, "max_norm", max_norm, nonnegative=True)
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        norm_type = math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real) or math.isnan(norm_type):
        raise TypeError(f"{owner}: norm_type must be a number or 'inf', got {norm_type!r}")
    norm_type = float(norm_type)
    error_if_nonfinite = check_bool(owner, "error_if_nonfinite", error_if_nonfinite)
    if not grads:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # an inf gradient has an inf norm, honestly
        norms = [np.linalg.norm(g.ravel().astype(np.float64), norm_type) for g in grads]
        total = float(np.linalg.norm(np.array(norms), norm_type))
    if not math.isfinite(total) and error_if_nonfinite:
        raise FloatingPointError(
            f"{owner}: the total norm of order {norm_type} of the gradients is {total}, so it "
            "cannot be clipped; pass error_if_nonfinite=False to scale the gradients by it anyway")
    coef = math.nan if math.isnan(total) else min(max_norm / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # inf * 0 is nan, as in PyTorch
        for g in grads:
            g *= g.dtype.type(coef)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient entry into ``[-clip_value, clip_value]``, in place."""
    owner = "clip_grad_value_"
    grads = _grads(owner, parameters)
    clip_value = check_number(owner, "clip_value", clip_value, nonnegative=True)
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)


def _grads(owner, parameters):
    """The gradient arrays of ``parameters`` (one Parameter or an iterable), skipping None."""
    if isinstance(parameters, Parameter):
        parameters = [parameters]
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(f"{owner}: expected Parameters (e.g. net.parameters()), "
                        f"got {type(parameters).__name__}") from None
    for i, p in enumerate(parameters):
        if not isinstance(p, Parameter):
            raise TypeError(f"{owner}: parameters[{i}] is not a tinynet Parameter, "
                            f"got {type(p).__name__}")
    return [g for g in (p.grad for p in parameters) if g is not None]
