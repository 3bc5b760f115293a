"""Losses on class scores: CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss, BCELoss, as in ``torch.nn``.

Those on logits (or log-probabilities) never exponentiate a large number:
the log-softmax is shifted by each row's maximum and the log-sigmoid is
written with ``log1p(exp(-|x|))``, so any finite scores give a finite loss
and gradient. BCELoss takes probabilities and clamps its logs, as PyTorch.
"""

import numbers

import numpy as np

from ..activations import sigmoid
from ..checks import as_float_array, check_number
from .base import Loss, first_offender, float_target


class CrossEntropyLoss(Loss):
    """Softmax and negative log-likelihood, fused, as ``torch.nn.CrossEntropyLoss``.

    ``pred: (batch, n_classes)`` logits, or ``(batch, n_classes, d1, ...)``
    (one distribution per position), or ``(n_classes,)`` unbatched.
    ``target`` is either integer class labels of ``pred``'s shape without
    the class axis (``(batch, d1, ...)``; a scalar when unbatched), or class
    probabilities (floats) of ``pred``'s shape. ``weight: (n_classes,)``
    rescales each class's loss; ``label_smoothing`` in [0, 1] mixes the
    target with the uniform distribution; a label equal to ``ignore_index``
    contributes nothing (with probabilities ``ignore_index`` must stay
    negative, as PyTorch requires). With labels, "mean" divides by the
    summed weights of the labels that count (their number, without
    ``weight``); with probabilities, by the number of distributions. The
    gradient is ``sum(a) softmax(pred) - a`` per distribution, where ``a`` is
    its weighted target (docs/training.md).
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
        rows, loss_shape = class_rows(name, pred)
        n_rows, n_classes = rows.shape
        weight = None if self.weight is None else check_weight_size(name, self.weight, n_classes, pred.dtype)
        with np.errstate(invalid="ignore", over="ignore"):
            # inf - inf in the shift is nan; a nan loss is the honest answer for
            # non-finite logits, and the caller (fit) reports it with context. A
            # log-probability below float's range (logits 1e308 apart) is -inf, as IEEE rounds
            shifted = rows - rows.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        eps = self.label_smoothing
        target_array = np.asarray(target)
        if target_array.shape == pred.shape and target_array.dtype.kind == "f":
            # class probabilities (PyTorch's rule: a target of pred's shape), smoothed towards uniform
            if self.ignore_index >= 0:
                raise ValueError(f"{name}: ignore_index is not supported with class probabilities "
                                 f"(a float target of pred's shape {pred.shape}); PyTorch refuses "
                                 f"it too: leave ignore_index negative, got {self.ignore_index}")
            probs = class_rows(name, target_array.astype(pred.dtype))[0]
            a = probs * (1 - eps) + eps / n_classes if eps else probs
            if weight is not None:
                a = a * weight
            denominator = n_rows
        else:
            labels, keep = check_labels(name, target_array, loss_shape, n_classes, self.ignore_index,
                                        probabilities=pred.shape)
            label_weight = np.ones(n_rows, pred.dtype) if weight is None else weight[labels]
            label_weight = np.where(keep, label_weight, 0)
            a = np.zeros_like(rows)
            a[np.arange(n_rows), labels] = (1 - eps) * label_weight
            if eps:
                a += (eps / n_classes) * keep[:, None] * (1 if weight is None else weight)
            denominator = label_weight.sum()
        # a class with no target weight adds nothing, even where its log-probability is -inf
        # (a -inf mask): 0 * -inf would be nan
        losses = -np.multiply(a, log_probs, where=a != 0, out=np.zeros_like(a)).sum(axis=1)
        return losses.reshape(loss_shape), denominator, (log_probs, a, pred.shape)

    def _backward(self, ctx, dlosses):
        log_probs, a, shape = ctx
        drows = (a.sum(axis=1, keepdims=True) * np.exp(log_probs) - a) * dlosses.reshape(-1, 1)
        return unrow(drows, shape)

    def get_config(self):
        return {"weight": None if self.weight is None else self.weight.tolist(),
                "ignore_index": self.ignore_index, "reduction": self.reduction,
                "label_smoothing": self.label_smoothing}


class NLLLoss(Loss):
    """Negative log-likelihood of the true class, as ``torch.nn.NLLLoss``.

    ``pred`` log-probabilities (a log-softmax's output) of the shapes
    ``CrossEntropyLoss`` takes, ``(batch, n_classes, d1, ...)`` included,
    and ``target`` integer labels of ``pred``'s shape without the class
    axis; ``weight`` and ``ignore_index`` as in ``CrossEntropyLoss``, which
    is this after a log-softmax.
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        name = type(self).__name__
        super().__init__(reduction=reduction)
        self.weight = class_weight(name, weight)
        self.ignore_index = check_ignore_index(name, ignore_index)

    def _losses(self, pred, target):
        name = type(self).__name__
        rows, loss_shape = class_rows(name, pred)
        n_rows, n_classes = rows.shape
        labels, keep = check_labels(name, np.asarray(target), loss_shape, n_classes, self.ignore_index)
        label_weight = (np.ones(n_rows, pred.dtype) if self.weight is None
                        else check_weight_size(name, self.weight, n_classes, pred.dtype)[labels])
        label_weight = np.where(keep, label_weight, 0)
        losses = -label_weight * rows[np.arange(n_rows), labels]
        return losses.reshape(loss_shape), label_weight.sum(), (pred.shape, labels, label_weight)

    def _backward(self, ctx, dlosses):
        shape, labels, label_weight = ctx
        drows = np.zeros((len(labels), shape[0] if len(shape) == 1 else shape[1]), dlosses.dtype)
        drows[np.arange(len(labels)), labels] = -label_weight * dlosses.reshape(-1)
        return unrow(drows, shape)

    def get_config(self):
        return {"weight": None if self.weight is None else self.weight.tolist(),
                "ignore_index": self.ignore_index, "reduction": self.reduction}


# PyTorch's floor on p (1 - p) in BCELoss's gradient: 1e-12 as a C float, 9.9999996e-13
_BCE_EPSILON = float(np.float32(1e-12))


class BCELoss(Loss):
    """Binary cross-entropy of probabilities, as ``torch.nn.BCELoss``.

    ``pred`` probabilities in [0, 1] (a sigmoid's output) and ``target`` in
    [0, 1], of one shape. Per element ``-w (t log p + (1 - t) log(1 - p))``
    with each log clamped at -100, as PyTorch does, so that p = 0 or 1 gives
    a finite loss; ``w = weight`` broadcast to ``pred``. ``dpred = w (p - t)
    / max(p (1 - p), 1e-12)``, PyTorch's formula (so up to 1e12 at p = 0 or
    1, inf in float16). On logits, ``BCEWithLogitsLoss`` is the stable choice.
    """

    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(reduction=reduction)
        self.weight = None if weight is None else finite_array(type(self).__name__, "weight", weight)

    def _losses(self, pred, target):
        name = type(self).__name__
        target = float_target(name, target, pred)
        for what, value in (("pred", pred), ("target", target)):
            outside = first_offender((value < 0) | (value > 1))
            if outside:
                at, where = outside
                raise ValueError(f"{name}: {what} must be probabilities in [0, 1]"
                                 + (" (for logits use BCEWithLogitsLoss)" if what == "pred" else "")
                                 + f", got {value[at]}{where}")
        weight = broadcast_weight(name, "weight", self.weight, pred)
        with np.errstate(divide="ignore"):  # log 0 = -inf, clamped to -100 as PyTorch does
            log_p = np.maximum(np.log(pred), -100)
            log_q = np.maximum(np.log1p(-pred), -100)
        losses = (target - 1) * log_q - target * log_p
        if weight is not None:
            losses = losses * weight
        return losses, pred.size, (pred, target, weight)

    def _backward(self, ctx, dlosses):
        pred, target, weight = ctx
        dpred = (pred - target) / np.maximum(pred * (1 - pred), _BCE_EPSILON)
        if weight is not None:
            dpred = dpred * weight
        return dpred * dlosses

    def get_config(self):
        return {"weight": None if self.weight is None else self.weight.tolist(),
                "reduction": self.reduction}


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
        weight = broadcast_weight(name, "weight", self.weight, pred)
        pos_weight = broadcast_weight(name, "pos_weight", self.pos_weight, pred)
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


def broadcast_weight(owner, what, value, pred):
    """``value`` in ``pred``'s dtype if it broadcasts to ``pred`` without enlarging it, or None."""
    if value is None:
        return None
    try:
        shape = np.broadcast_shapes(value.shape, pred.shape)
    except ValueError:
        raise ValueError(f"{owner}: {what} of shape {value.shape} does not "
                         f"broadcast to pred of shape {pred.shape}") from None
    if shape != pred.shape:
        raise ValueError(f"{owner}: {what} of shape {value.shape} would "
                         f"enlarge pred of shape {pred.shape}")
    return value.astype(pred.dtype)


def class_rows(owner, pred):
    """``(rows, loss_shape)``: ``pred`` as ``(n, n_classes)``, one row per loss, and the loss's shape.

    ``(C,)`` is one row and a scalar loss, ``(N, C)`` N rows, and
    ``(N, C, d1, ...)`` N d1 ... rows with the class axis moved last.
    """
    if pred.ndim == 0:
        raise ValueError(f"{owner}: expected pred of shape (n_classes,), (batch, n_classes) or "
                         f"(batch, n_classes, d1, ...), got a scalar")
    if pred.ndim == 1:
        return pred.reshape(1, -1), ()
    return np.moveaxis(pred, 1, -1).reshape(-1, pred.shape[1]), pred.shape[:1] + pred.shape[2:]


def unrow(drows, shape):
    """The rows of ``class_rows`` back in the layout of ``pred: shape``."""
    if len(shape) == 1:
        return drows.reshape(shape)
    return np.moveaxis(drows.reshape(shape[:1] + shape[2:] + shape[1:2]), -1, 1)


def check_labels(owner, target, shape, n_classes, ignore_index=None, probabilities=None):
    """``(labels, keep)``: int64 labels, flat (ignored ones set to 0), and which count, or a clear error.

    ``shape`` is the labels' expected shape; ``probabilities``, if given, the
    shape of the alternative probability target, named in the messages.
    """
    target = np.asarray(target)
    expected = f"integer class labels of shape {shape}" + (
        "" if probabilities is None else f" or float class probabilities of shape {probabilities}")
    if target.shape != shape:
        if probabilities is not None and target.shape == probabilities:
            raise TypeError(f"{owner}: a target of pred's shape {probabilities} is read as class "
                            f"probabilities and must be floats, got dtype {target.dtype}")
        raise ValueError(f"{owner}: expected {expected}, got shape {target.shape}")
    if target.dtype.kind not in "iu":
        # float targets are refused rather than rounded: a float here is usually
        # a one-hot or a regression target passed to the wrong loss
        raise TypeError(f"{owner}: expected {expected}, got dtype {target.dtype}")
    keep = target != ignore_index
    bad = first_offender(keep & ((target < 0) | (target >= n_classes)))
    if bad:
        at, where = bad
        raise ValueError(f"{owner}: class labels must be in [0, {n_classes}) for {n_classes} "
                         f"classes, got {target[at]}{where}")
    return np.where(keep, target, 0).astype(np.int64).reshape(-1), keep.reshape(-1)
