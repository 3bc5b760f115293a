"""Losses: a scalar from predictions and targets, and its gradient with respect to the predictions.

A loss follows the layer contract in miniature: ``forward(pred, target)``
returns the loss and keeps what backward needs in ``self._ctx``;
``backward()`` consumes it and returns ``dpred``, the array to pass to the
network's ``backward``.
"""

import numpy as np

from .layer import as_float_array

REDUCTIONS = ("mean", "sum")


class Loss:
    """Base class of losses: ``forward(pred, target) -> loss``, ``backward() -> dpred``."""

    def __init__(self, reduction="mean"):
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            options = ", ".join(repr(r) for r in REDUCTIONS)
            raise ValueError(f"{type(self).__name__}: reduction must be one of {options}, "
                             f"got {reduction!r}")
        self.reduction = reduction
        self._ctx = None  # what forward keeps for backward; backward consumes it

    def forward(self, pred, target):
        """The loss of ``pred`` against ``target``, a scalar of ``pred``'s dtype."""
        raise NotImplementedError

    __call__ = forward

    def backward(self):
        """``dpred``: the gradient of the last forward's loss, shaped like ``pred``."""
        if self._ctx is None:
            raise RuntimeError(
                f"{type(self).__name__}: backward called before forward (or twice after one "
                "forward); each backward consumes what its forward kept"
            )
        ctx, self._ctx = self._ctx, None
        return self._backward(ctx)

    def _backward(self, ctx):
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments."""
        return {"reduction": self.reduction}

    def __repr__(self):
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class MSELoss(Loss):
    """Squared error ``(pred - target)**2``, averaged (or summed) over every element.

    ``pred: (batch, ...)`` and ``target`` of the same shape, as in
    ``torch.nn.MSELoss``: "mean" divides by the number of elements, not by
    the batch size.
    """

    def forward(self, pred, target):
        name = type(self).__name__
        pred = as_float_array(pred, name, "pred")
        target = as_float_array(target, name, "target")
        if target.shape != pred.shape:
            # broadcasting (batch,) against (batch, 1) would silently give a (batch, batch) loss
            raise ValueError(f"{name}: expected target of shape {pred.shape} (the shape of pred), "
                             f"got {target.shape}")
        if pred.size == 0:
            raise ValueError(f"{name}: pred is empty (shape {pred.shape})")
        diff = pred - target.astype(pred.dtype, copy=False)
        loss = np.sum(diff * diff)
        scale = 2.0 / pred.size if self.reduction == "mean" else 2.0
        self._ctx = (diff, scale)
        if self.reduction == "mean":
            loss = loss / pred.size
        return pred.dtype.type(loss)

    def _backward(self, ctx):
        diff, scale = ctx
        return diff * diff.dtype.type(scale)


class CrossEntropyLoss(Loss):
    """Softmax followed by the negative log-likelihood of the true class, fused.

    ``pred: (batch, n_classes)`` logits (unnormalized log-probabilities) and
    ``target: (batch,)`` integer class labels in ``[0, n_classes)``, as in
    ``torch.nn.CrossEntropyLoss``. "mean" divides by the batch size. The
    log-sum-exp is shifted by each row's maximum, so logits of any finite
    size give a finite loss and gradient; the gradient is
    ``softmax(pred) - onehot(target)``, divided by the batch size for "mean".
    """

    def forward(self, pred, target):
        name = type(self).__name__
        pred = as_float_array(pred, name, "pred")
        if pred.ndim != 2 or pred.shape[1] == 0:
            raise ValueError(f"{name}: expected logits of shape (batch, n_classes), got {pred.shape}")
        batch, n_classes = pred.shape
        if batch == 0:
            raise ValueError(f"{name}: pred is empty (shape {pred.shape})")
        target = check_labels(target, batch, n_classes, name)

        with np.errstate(invalid="ignore"):
            # inf - inf in the shift is nan; a nan loss is the honest answer for
            # non-finite logits, and the caller (fit) reports it with context
            shifted = pred - pred.max(axis=1, keepdims=True)
            log_sum = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        log_probs = shifted - log_sum
        rows = np.arange(batch)
        loss = -np.sum(log_probs[rows, target])
        if self.reduction == "mean":
            loss = loss / batch
        self._ctx = (log_probs, target)
        return pred.dtype.type(loss)

    def _backward(self, ctx):
        log_probs, target = ctx
        dpred = np.exp(log_probs)
        dpred[np.arange(len(target)), target] -= 1
        if self.reduction == "mean":
            dpred /= len(target)
        return dpred


def check_labels(target, batch, n_classes, who):
    """``target`` as an int64 array of ``batch`` labels in ``[0, n_classes)``, or a clear error."""
    target = np.asarray(target)
    if target.shape != (batch,):
        raise ValueError(f"{who}: expected integer class labels of shape ({batch},), "
                         f"got {target.shape}")
    if target.dtype.kind not in "iu":
        # float targets are refused rather than rounded: a float here is usually
        # a one-hot or a regression target passed to the wrong loss
        raise TypeError(f"{who}: expected integer class labels of shape ({batch},), "
                        f"got dtype {target.dtype}")
    bad = np.flatnonzero((target < 0) | (target >= n_classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{who}: class labels must be in [0, {n_classes}) for {n_classes} "
                         f"classes, got {target[i]} at index {i}")
    return target.astype(np.int64, copy=False)
