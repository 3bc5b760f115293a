"""Losses on class scores: CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss, as in ``torch.nn``.

Each works on logits (or log-probabilities) and never exponentiates a
large number: the log-softmax is shifted by each row's maximum and the
log-sigmoid is written with ``log1p(exp(-|x|))``, so any finite scores give
a finite loss and gradient.
"""

import numbers

import numpy as np

from ..activations import sigmoid
from ..checks import as_float_array, check_number
from .base import Loss, float_target


class CrossEntropyLoss(Loss):
    """Softmax and negative log-likelihood, fused, as ``torch.nn.CrossEntropyLoss``.

    ``pred: (batch, n_classes)`` logits; ``target`` either ``(batch,)``
    integer class labels or ``(batch, n_classes)`` class probabilities
    (floats). ``weight: (n_classes,)`` rescales each class's loss;
    ``label_smoothing`` in [0, 1] mixes the target with the uniform
    distribution; a label equal to ``ignore_index`` contributes nothing.
    With labels, "mean" divides by the summed weights of the labels that
    count (their number, without ``weight``); with probabilities, by the
    batch size. The gradient is ``sum(a) softmax(pred) - a`` per row, where
    ``a`` is the row's weighted target (docs/training.md).
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        name = type(self).__name__
        super().__init__(reduction=reduction)
        self.weight = class_weight(name, weight)
        self.ignore_index = check_ignore_index(name, ignore_index)
        self.label_smoothing = check_number(name, "label_smoothing", label_smoothing, nonnegative=True)
        if self.label_smoothing > 1:
            raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")

    def _losses(self, pred, target):
        name = type(self).__name__
        batch, n_classes = logits_shape(name, pred)
        weight = None if self.weight is None else check_weight_size(name, self.weight, n_classes, pred.dtype)
        with np.errstate(invalid="ignore"):
            # inf - inf in the shift is nan; a nan loss is the honest answer for
            # non-finite logits, and the caller (fit) reports it with context
            shifted = pred - pred.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        eps = self.label_smoothing
        target_array = np.asarray(target)
        if target_array.dtype.kind == "f" and target_array.ndim == 2:
            # class probabilities: the target distribution itself, smoothed towards uniform
            probs = float_target(name, target_array, pred)
            a = probs * (1 - eps) + eps / n_classes if eps else probs
            if weight is not None:
                a = a * weight
            denominator = batch
        else:
            labels, keep = check_labels(name, target_array, batch, n_classes, self.ignore_index)
            label_weight = np.ones(batch, pred.dtype) if weight is None else weight[labels]
            label_weight = np.where(keep, label_weight, 0)
            a = np.zeros_like(pred)
            a[np.arange(batch), labels] = (1 - eps) * label_weight
            if eps:
                a += (eps / n_classes) * keep[:, None] * (1 if weight is None else weight)
            denominator = label_weight.sum()
        losses = -(a * log_probs).sum(axis=1)
        return losses, denominator, (log_probs, a)

    def _backward(self, ctx, dlosses):
        log_probs, a = ctx
        return (a.sum(axis=1, keepdims=True) * np.exp(log_probs) - a) * dlosses[:, None]

    def get_config(self):
        return {"weight": None if self.weight is None else self.weight.tolist(),
                "ignore_index": self.ignore_index, "reduction": self.reduction,
                "label_smoothing": self.label_smoothing}


class NLLLoss(Loss):
    """Negative log-likelihood of the true class, as ``torch.nn.NLLLoss``.

    ``pred: (batch, n_classes)`` log-probabilities (a log-softmax's output)
    and ``target: (batch,)`` integer labels; ``weight`` and ``ignore_index``
    as in ``CrossEntropyLoss``, which is this after a log-softmax.
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        name = type(self).__name__
        super().__init__(reduction=reduction)
        self.weight = class_weight(name, weight)
        self.ignore_index = check_ignore_index(name, ignore_index)

    def _losses(self, pred, target):
        name = type(self).__name__
        batch, n_classes = logits_shape(name, pred)
        labels, keep = check_labels(name, np.asarray(target), batch, n_classes, self.ignore_index)
        label_weight = (np.ones(batch, pred.dtype) if self.weight is None
                        else check_weight_size(name, self.weight, n_classes, pred.dtype)[labels])
        label_weight = np.where(keep, label_weight, 0)
        losses = -label_weight * pred[np.arange(batch), labels]
        return losses, label_weight.sum(), (pred.shape, labels, label_weight)

    def _backward(self, ctx, dlosses):
        shape, labels, label_weight = ctx
        dpred = np.zeros(shape, dlosses.dtype)
        dpred[np.arange(len(labels)), labels] = -label_weight * dlosses
        return dpred

    def get_config(self):
        return {"weight": None if self.weight is None else self.weight.tolist(),
                "ignore_index": self.ignore_index, "reduction": self.reduction}


class BCEWithLogitsLoss(Loss):
    """Sigmoid and binary cross-entropy, fused, as ``torch.nn.BCEWithLogitsLoss``.

    ``pred`` logits and ``target`` probabilities in [0, 1], of one shape
    (one column per independent label). Per element ``-w (p t log s(x) +
    (1 - t) log(1 - s(x)))`` with ``p = pos_weight`` (broadcast along the
    last axis: one per label) and ``w = weight`` (broadcast to ``pred``).
    ``dpred = w ((1 - t) - (1 + (p - 1) t) s(-x))``; "mean" divides by the
    number of elements.
    """

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        name = type(self).__name__
        super().__init__(reduction=reduction)
        self.weight = None if weight is None else finite_array(name, "weight", weight)
        self.pos_weight = None if pos_weight is None else finite_array(name, "pos_weight", pos_weight)

    def _losses(self, pred, target):
        name = type(self).__name__
        target = float_target(name, target, pred)
        weight = self._broadcast("weight", self.weight, pred)
        pos_weight = self._broadcast("pos_weight", self.pos_weight, pred)
        # log sigmoid(x) = min(x, 0) - log(1 + exp(-|x|)), finite for every finite x
        log_sigmoid = np.minimum(pred, 0) - np.log1p(np.exp(-np.abs(pred)))
        log_weight = 1 if pos_weight is None else (pos_weight - 1) * target + 1
        losses = (1 - target) * pred - log_weight * log_sigmoid
        if weight is not None:
            losses = losses * weight
        return losses, pred.size, (pred, target, weight, log_weight)

    def _backward(self, ctx, dlosses):
        pred, target, weight, log_weight = ctx
        dpred = (1 - target) - log_weight * sigmoid(-pred)
        if weight is not None:
            dpred = dpred * weight
        return dpred * dlosses

    def _broadcast(self, what, value, pred):
        if value is None:
            return None
        try:
            np.broadcast_shapes(value.shape, pred.shape)
        except ValueError:
            raise ValueError(f"{type(self).__name__}: {what} of shape {value.shape} does not "
                             f"broadcast to pred of shape {pred.shape}") from None
        if np.broadcast_shapes(value.shape, pred.shape) != pred.shape:
            raise ValueError(f"{type(self).__name__}: {what} of shape {value.shape} would "
                             f"enlarge pred of shape {pred.shape}")
        return value.astype(pred.dtype)

    def get_config(self):
        return {"weight": None if self.weight is None else self.weight.tolist(),
                "reduction": self.reduction,
                "pos_weight": None if self.pos_weight is None else self.pos_weight.tolist()}


def finite_array(owner, what, value):
    """``value`` as a float64 array of finite numbers (a copy), or a clear error."""
    if isinstance(value, str):
        raise TypeError(f"{owner}: {what} must be an array of numbers, got {value!r}"
                        + ("; pass reduction by name" if value in ("mean", "sum", "none") else ""))
    array = np.array(as_float_array(owner, what, value), dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{owner}: {what} must be finite, got {array}")
    return array


def check_ignore_index(owner, value):
    """``value`` as an int: the label whose rows count for nothing (any integer, -100 by default)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: ignore_index must be an integer, got {value!r}")
    return int(value)


def class_weight(owner, weight):
    """``weight`` as a 1-D float64 array of one weight per class, or None."""
    if weight is None:
        return None
    weight = finite_array(owner, "weight", weight)
    if weight.ndim != 1:
        raise ValueError(f"{owner}: weight must be 1-D, one weight per class, got shape {weight.shape}")
    return weight


def check_weight_size(owner, weight, n_classes, dtype):
    """The class weights in ``dtype``, after checking there is one per class."""
    if len(weight) != n_classes:
        raise ValueError(f"{owner}: weight has {len(weight)} entries for {n_classes} classes")
    return weight.astype(dtype)


def logits_shape(owner, pred):
    """``(batch, n_classes)`` of ``pred``, or a clear error."""
    if pred.ndim != 2 or pred.shape[1] == 0:
        raise ValueError(f"{owner}: expected logits of shape (batch, n_classes), got {pred.shape}")
    return pred.shape


def check_labels(owner, target, batch, n_classes, ignore_index=None):
    """``(labels, keep)``: int64 labels (ignored ones set to 0) and which count, or a clear error."""
    target = np.asarray(target)
    if target.shape != (batch,):
        raise ValueError(f"{owner}: expected integer class labels of shape ({batch},), "
                         f"got {target.shape}")
    if target.dtype.kind not in "iu":
        # float targets are refused rather than rounded: a float here is usually
        # a one-hot or a regression target passed to the wrong loss
        raise TypeError(f"{owner}: expected integer class labels of shape ({batch},), "
                        f"got dtype {target.dtype}")
    keep = target != ignore_index
    bad = np.flatnonzero(keep & ((target < 0) | (target >= n_classes)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{owner}: class labels must be in [0, {n_classes}) for {n_classes} "
                         f"classes, got {target[i]} at index {i}")
    return np.where(keep, target, 0).astype(np.int64), keep
