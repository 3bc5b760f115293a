"""The loss contract and the reductions every loss shares.

A loss follows the layer contract in miniature: ``forward(pred, target)``
(also ``loss(pred, target)``) returns the loss and keeps what backward
needs in ``self._ctx`` (nothing inside ``no_grad()``); ``backward()`` consumes it and returns ``dpred``,
the array to pass to the network's ``backward``.

``reduction`` is PyTorch's: ``"mean"`` and ``"sum"`` give a scalar,
``"none"`` one loss per sample (or per element); a loss may add its own
means to ``reductions`` (KLDivLoss's ``"batchmean"``), each dividing the sum
by the denominator its ``_losses`` returns. A subclass writes
``_losses`` (the unreduced losses, the mean's denominator and what backward
needs) and ``_backward`` (``dpred`` from the gradient with respect to each
unreduced loss); this class reduces, and routes the upstream gradient.
Everything is computed in float32 or wider: a float16 sum over 40,000
squared errors neither overflows nor loses the small terms, and only the
result is rounded back to the input's dtype.
"""

import numpy as np

from ..checks import as_float_array, check_choice
from ..grad_mode import is_grad_enabled

REDUCTIONS = ("mean", "sum", "none")


class Loss:
    """Base class of losses: ``forward(pred, target) -> loss``, ``backward(dloss=None) -> dpred``."""

    reductions = REDUCTIONS  #: the reductions this loss accepts

    def __init__(self, *, reduction="mean"):
        self.reduction = check_choice(type(self).__name__, "reduction", reduction, self.reductions)
        self._ctx = None  # what forward keeps for backward; backward consumes it

    def forward(self, pred, target):
        """The loss of ``pred`` against ``target``: a scalar of ``pred``'s dtype, or an array for "none"."""
        name = type(self).__name__
        pred = as_float_array(name, "pred", pred)
        if pred.size == 0:
            raise ValueError(f"{name}: pred is empty (shape {pred.shape})")
        work = np.promote_types(pred.dtype, np.float32)
        losses, denominator, ctx = self._losses(pred.astype(work, copy=False), target)
        # as a layer's: inside no_grad() nothing is kept, and a backward after it is an error
        self._ctx = (ctx, pred.dtype, losses.shape, denominator) if is_grad_enabled() else None
        # a float16 loss past 65504 becomes inf, honestly: fit reports it as non-finite
        with np.errstate(over="ignore"):
            if self.reduction == "none":
                return losses.astype(pred.dtype, copy=False)
            total = losses.sum()
            if self.reduction != "sum":  # "mean", or a loss's own mean such as "batchmean"
                with np.errstate(invalid="ignore"):  # every target ignored: 0 / 0 is nan, as in PyTorch
                    total = total / denominator
            return pred.dtype.type(total)

    def __call__(self, pred, target):
        """The same as ``forward(pred, target)``."""
        return self.forward(pred, target)

    def backward(self, dloss=None):
        """``dpred``: the gradient of the last forward's loss, shaped like ``pred``.

        ``dloss`` is the gradient arriving at the loss, 1 when omitted for
        "mean" and "sum". With ``reduction="none"`` the loss is an array and,
        as in PyTorch, there is no implicit gradient: pass ``dloss`` of the
        loss's shape (``np.ones(shape)`` is the gradient of the sum).
        """
        name = type(self).__name__
        if self._ctx is None:
            raise RuntimeError(
                f"{name}: backward called before forward (or twice after one "
                "forward, or after a forward inside tinynet.no_grad()); each backward "
                "consumes what its forward kept"
            )
        ctx, dtype, shape, denominator = self._ctx
        work = np.promote_types(dtype, np.float32)
        if self.reduction == "none":
            if dloss is None:
                raise ValueError(f"{name}: with reduction='none' the loss has shape {shape}; pass "
                                 f"backward(dloss) with dloss of that shape (ones for the sum)")
            dlosses = as_float_array(name, "dloss", dloss).astype(work, copy=False)
            if dlosses.shape != shape:
                raise ValueError(f"{name}: expected dloss of shape {shape} (the loss's), "
                                 f"got {dlosses.shape}")
        else:
            upstream = 1.0 if dloss is None else as_float_array(name, "dloss", dloss)
            if np.ndim(upstream) != 0:
                raise ValueError(f"{name}: expected a scalar dloss for reduction="
                                 f"{self.reduction!r}, got shape {np.shape(upstream)}")
            if self.reduction != "sum":
                # every target ignored (denominator 0): no loss depends on pred, so the
                # gradient is zero, as PyTorch's, though the mean itself is 0 / 0 = nan
                with np.errstate(divide="ignore", invalid="ignore"):
                    upstream = upstream / np.asarray(denominator, dtype=np.float64) if denominator else 0.0
            dlosses = np.full(shape, upstream, dtype=work)
        self._ctx = None
        with np.errstate(over="ignore"):
            return self._backward(ctx, dlosses).astype(dtype, copy=False)

    def _losses(self, pred, target):
        """``(losses, denominator of the mean, ctx)`` for ``pred`` in float32 or wider."""
        raise NotImplementedError

    def _backward(self, ctx, dlosses):
        """``dpred`` given ``dlosses``, the gradient with respect to each unreduced loss."""
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments."""
        return {"reduction": self.reduction}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def float_target(owner, target, pred):
    """``target`` as a float array of ``pred``'s shape and dtype, or a clear error."""
    target = as_float_array(owner, "target", target)
    if target.shape != pred.shape:
        # broadcasting (batch,) against (batch, 1) would silently give a (batch, batch) loss
        raise ValueError(f"{owner}: expected target of shape {pred.shape} (the shape of pred), "
                         f"got {target.shape}")
    return target.astype(pred.dtype, copy=False)


def first_offender(mask):
    """``(index, " at index ...")`` of the first True in ``mask``, or None if there is none."""
    if not mask.any():
        return None
    if mask.ndim == 0:
        return (), ""
    at = tuple(int(i) for i in np.argwhere(mask)[0])
    return at, f" at index {at[0] if len(at) == 1 else at}"
