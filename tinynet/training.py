"""Training: the minibatch loop `fit`, its History, and evaluate.

Each step is ``optimizer.zero_grad()``, ``pred = net.forward(xb)``,
``loss.forward(pred, yb)``, ``net.backward(loss.backward())``, optionally
``clip_grad_norm_``, then ``optimizer.step()``; an optional scheduler steps
once after each epoch, as in the usual PyTorch loop. Epochs and steps are numbered from 1 everywhere: in
messages, in callbacks and on :class:`NonFiniteLossError`.
"""

import math
import sys
import warnings

import numpy as np

from .checks import as_float_array, check_bool, check_number, check_rng, check_size
from .clip import clip_grad_norm_
from .data import DataLoader, TensorDataset
from ._html import html_table
from .grad_mode import evaluating, no_grad
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss
from .optim.lr_scheduler import ReduceLROnPlateau
from .progress import progress_bar

CALLBACK_METHODS = ("on_train_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class NonFiniteLossError(FloatingPointError):
    """The loss became nan or inf in :func:`fit`; ``epoch``, ``step`` and ``history`` say where.

    ``epoch`` and ``step`` (within the epoch) are numbered from 1;
    ``global_step`` counts every optimizer step before the failing batch
    plus one. ``history`` holds the completed epochs.
    """

    def __init__(self, message, epoch, step, global_step, loss, history):
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.global_step = global_step
        self.loss = loss
        self.history = history


class History:
    """Per-epoch metrics of a :func:`fit` run, Keras style.

    ``history.history`` maps each metric to a list with one float per
    completed epoch (``history["loss"]`` is a shorthand): ``"loss"``, and
    ``"accuracy"`` when the targets are integer class labels; with
    validation data also ``"val_loss"`` and ``"val_accuracy"``. Training
    metrics are averaged over the epoch's batches as they were trained;
    validation metrics are measured after the epoch. ``interrupted`` is True
    when Ctrl-C ended training early.
    """

    def __init__(self, keys):
        self.history = {k: [] for k in keys}
        self.interrupted = False

    @property
    def epochs(self):
        """The number of completed epochs."""
        return len(self.history["loss"])

    def __getitem__(self, key):
        return self.history[key]

    def __len__(self):
        return self.epochs

    def _append(self, logs):
        for k, v in logs.items():
            self.history[k].append(v)

    def _head(self):
        state = ", interrupted" if self.interrupted else ""
        return f"History({self.epochs} epoch{'' if self.epochs == 1 else 's'}{state})"

    def _shown(self):
        """The epochs a display shows (None: the ones left out): all of up to 10, else the first and last 5."""
        shown = list(range(self.epochs))
        if self.epochs > 10:  # the start and the end are what a reader compares
            shown = shown[:5] + [None] + shown[-5:]
        return shown

    def __repr__(self):
        if not self.epochs:
            return self._head()
        keys = list(self.history)
        lines = [self._head(), f"{'epoch':>6}" + "".join(f"{k:>14}" for k in keys)]
        for i in self._shown():
            if i is None:
                lines.append(f"{'...':>6}")
            else:
                lines.append(f"{i + 1:>6}" + "".join(f"{self.history[k][i]:>14.6g}" for k in keys))
        return "\n".join(lines)

    def _repr_html_(self):
        """The table ``repr`` prints, in HTML (Jupyter shows it): one row per epoch shown."""
        keys = list(self.history)
        rows = [["..."] + [""] * len(keys) if i is None else
                [str(i + 1)] + [format(self.history[k][i], ".6g") for k in keys] for i in self._shown()]
        return html_table(["epoch", *keys], rows, caption=self._head())


def fit(net, loss, optimizer, x, y=None, epochs=None, batch_size=None, rng=None, validation=None, callbacks=None,
        progress=True, scheduler=None, clip_grad_norm=None):
    """Train ``net`` on ``x: (n, in_features)``, ``y: (n,)`` int labels or ``(n, out_features)`` floats.

    Shuffles with ``rng`` (a ``numpy.random.Generator``; a fresh unseeded one
    when None) every epoch, so a seeded rng and a seeded net repeat a run
    exactly. ``validation=(x_val, y_val)`` is evaluated after each epoch.
    ``callbacks`` (a list; None for none) are objects with any of
    ``on_train_begin(net)``, ``on_batch_end(step, loss)`` (step counted over
    the whole run), ``on_epoch_end(epoch, logs)`` and
    ``on_train_end(history)``; the last runs however training ends.
    ``progress`` (a bool) shows a ``tqdm.auto`` bar with the running loss on
    a terminal and in Jupyter (``tinynet.progress_bar``).

    ``scheduler`` (a ``tinynet.optim.lr_scheduler`` scheduler of this
    optimizer) steps once at the end of every epoch; the history then has
    ``"lr"``, the first group's rate during each epoch. A
    ``ReduceLROnPlateau`` steps with the epoch's validation loss, or with its
    training loss when there is no ``validation``. ``clip_grad_norm``
    is a max norm: after each backward, ``clip_grad_norm_`` scales the
    gradients down to it before the step, and the history gets
    ``"grad_norm"``, the mean over the epoch of the norm before clipping.
    A classification loss on logits (``CrossEntropyLoss``,
    ``BCEWithLogitsLoss``, ``NLLLoss``) behind a saturating last layer
    (sigmoid, tanh: ``Activation.saturating``) gets a warning: the loss
    already squashes, so the network should end in a linear layer.

    ``x`` may instead be a ``tinynet.data.DataLoader`` whose batches are
    pairs ``(xb, yb)``: ``y``, ``batch_size`` and ``rng`` are then None
    (the loader batches and shuffles), and each epoch is one pass over it.
    ``validation`` may be a DataLoader too.

    Returns a :class:`History`. Ctrl-C stops training cleanly and returns
    the history so far with ``interrupted`` set. A nan or inf loss raises
    :class:`NonFiniteLossError` naming the epoch and step, before that
    batch updates anything; the text of each callback's
    ``describe_nonfinite()`` (if it has one) is appended to the message.
    """
    loader = x if isinstance(x, DataLoader) else None
    if loader is not None:
        given = [k for k, v in (("y", y), ("batch_size", batch_size), ("rng", rng)) if v is not None]
        if given:
            raise TypeError(f"fit: with a DataLoader, leave {', '.join(given)} out: the loader "
                            "holds the targets, the batch size and the shuffling")
        y = np.asarray(_first_pair(loader, "fit")[1])[None]  # one sample's target decides the metrics
        batch_size, n_batches = loader.batch_size, len(loader)  # batch_size: validation's, as for arrays
        if n_batches == 0:
            raise ValueError(f"fit: the DataLoader gives no batch ({len(loader.dataset)} samples, "
                             f"batch_size {batch_size}, drop_last=True)")
    else:
        if y is None:
            raise TypeError("fit: give the targets y, or a DataLoader of (x, y) pairs as x")
        x, y = _check_data(x, y, "x", "y")
        batch_size = check_size("fit", "batch_size", batch_size)
        n_batches = math.ceil(len(x) / batch_size)
    rng = check_rng("fit", "rng", rng)
    epochs = check_size("fit", "epochs", epochs)
    for obj, methods, what in ((net, ("forward", "backward"), "net"),
                               (loss, ("forward", "backward"), "loss"),
                               (optimizer, ("zero_grad", "step"), "optimizer")):
        missing = [m for m in methods if not callable(getattr(obj, m, None))]
        if missing:
            raise TypeError(f"fit: {what} must have {' and '.join(methods)} methods, "
                            f"{type(obj).__name__} lacks {', '.join(missing)}")
    if validation is not None:
        if isinstance(validation, DataLoader):
            validation = _loader_arrays(validation, "fit: validation")
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("fit: validation must be a pair (x_val, y_val) or a DataLoader")
        validation = _check_data(*validation, "validation x", "validation y")
    if scheduler is not None and getattr(scheduler, "optimizer", None) is not optimizer:
        raise ValueError("fit: scheduler must be a learning-rate scheduler of this optimizer, "
                         f"got {scheduler!r}")
    if clip_grad_norm is not None:
        clip_grad_norm = check_number("fit", "clip_grad_norm", clip_grad_norm, positive=True)
    if getattr(loss, "reduction", "mean") == "none":
        raise ValueError("fit: the loss must reduce to a number; got reduction='none'")
    _warn_if_squashed(net, loss)
    progress = check_bool("fit", "progress", progress)
    if callbacks is None:
        callbacks = []  # as in Keras: no callbacks
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"fit: callbacks must be a list of callback objects (or None), "
                        f"got {type(callbacks).__name__}")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not any(callable(getattr(cb, m, None)) for m in CALLBACK_METHODS + ("describe_nonfinite",)):
            raise TypeError(f"fit: callback {cb!r} has none of the methods "
                            f"{', '.join(CALLBACK_METHODS)}")

    labels = _is_labels(y)
    keys = ["loss"] + (["accuracy"] if labels else [])
    if validation is not None:
        keys += ["val_" + k for k in keys]
    keys += (["lr"] if scheduler is not None else []) + (["grad_norm"] if clip_grad_norm else [])
    history = History(keys)
    bar = _Progress(epochs * n_batches, progress)
    mean_reduced = getattr(loss, "reduction", "mean") != "sum"

    epoch = step = global_step = 0
    buffers = list(net.buffers())  # updated in place by forward (running statistics)
    try:
        _call(callbacks, "on_train_begin", net)
        for epoch in range(1, epochs + 1):
            batches = _loader_batches(loader) if loader is not None else _batches(x, y, batch_size, rng)
            total, correct, norms, seen = 0.0, 0, 0.0, 0
            if scheduler is not None:
                lr = scheduler.get_last_lr()[0]
            for step, (xb, yb) in enumerate(batches, 1):
                before = [b.copy() for b in buffers]
                # first, as in PyTorch's loop: the forward then reuses the freed gradients' memory,
                # where after it the process would grow and shrink by their size every step
                optimizer.zero_grad()
                pred = net.forward(xb)
                value = float(loss.forward(pred, yb))
                if not math.isfinite(value):
                    _undo_forward(net, buffers, before)  # the batch changes nothing, as the error says
                    raise _nonfinite_error(value, epoch, epochs, step, n_batches, global_step + 1,
                                           callbacks, history)
                net.backward(loss.backward())
                if clip_grad_norm is not None:
                    norms += clip_grad_norm_(_parameters(net), clip_grad_norm)
                optimizer.step()
                global_step += 1
                seen += len(xb)
                total += value * len(xb) if mean_reduced else value
                if labels:
                    correct += int(np.count_nonzero(np.argmax(pred, axis=1) == yb))
                bar.step(epoch, epochs, total / seen if mean_reduced else total,
                         correct / seen if labels else None)
                _call(callbacks, "on_batch_end", global_step, value)
            logs = {"loss": total / seen if mean_reduced else total}
            if labels:
                logs["accuracy"] = correct / seen
            if validation is not None:
                val = evaluate(net, loss, *validation, batch_size=batch_size)
                logs.update({"val_" + k: v for k, v in val.items()})
            if scheduler is not None:
                logs["lr"] = lr
                if isinstance(scheduler, ReduceLROnPlateau):
                    scheduler.step(logs.get("val_loss", logs["loss"]))
                else:
                    scheduler.step()
            if clip_grad_norm is not None:
                logs["grad_norm"] = norms / n_batches
            history._append(logs)
            _call(callbacks, "on_epoch_end", epoch, dict(logs))
    except KeyboardInterrupt:
        # no rollback: the model keeps what the steps so far made of it, and drops what an
        # interrupted step's forward kept for its backward
        net.free_saved()
        history.interrupted = True
        bar.close()
        print(f"fit: interrupted at epoch {epoch}, step {step}; returning the history of "
              f"{history.epochs} completed epoch{'' if history.epochs == 1 else 's'}",
              file=sys.stderr)
    finally:
        bar.close()
        # in a finally so a callback can always release what it attached to the net
        _call(callbacks, "on_train_end", history)
    return history


def _undo_forward(net, buffers, before):
    """Drop what a forward kept for its backward and put its buffers back as they were before it."""
    net.free_saved()
    for buffer, old in zip(buffers, before):
        buffer[...] = old


def predict(net, x, batch_size=None):
    """``net``'s output for ``x``, in eval mode and under ``no_grad``, in batches of ``batch_size``.

    ``x: (n, ...) -> (n, ...)``; all at once when ``batch_size`` is None.
    """
    x = _check_inputs(x, "predict")
    batch_size = len(x) if batch_size is None else check_size("predict", "batch_size", batch_size)
    # eval mode for this thread only (grad_mode.evaluating): another thread training the
    # same network meanwhile keeps its mode, and nothing is kept for a backward
    with evaluating():
        return np.concatenate([net.forward(x[start:start + batch_size])
                               for start in range(0, len(x), batch_size)])


def evaluate(net, loss, x, y, batch_size=None):
    """``{"loss": ..., "accuracy": ...}`` of ``net`` on ``x``, ``y`` (accuracy only for integer labels).

    Runs forward only, in batches of ``batch_size`` (all at once when None),
    then the loss once on all the outputs: a weighted or ``ignore_index``
    mean is the one the criterion gives for the whole set. The loss must
    reduce to a number ("mean" or "sum").
    """
    x, y = _check_data(x, y, "x", "y", "evaluate")
    if batch_size is not None:
        batch_size = check_size("evaluate", "batch_size", batch_size)
    if getattr(loss, "reduction", "mean") == "none":
        raise ValueError("evaluate: the loss must reduce to a number (reduction 'mean' or 'sum'), "
                         "got reduction 'none'")
    pred = predict(net, x, batch_size)
    with no_grad():  # nothing will call backward for this loss
        value = float(loss.forward(pred, y))
    result = {"loss": value}
    if _is_labels(y):
        result["accuracy"] = int(np.count_nonzero(np.argmax(pred, axis=1) == y)) / len(x)
    return result


def _nonfinite_error(value, epoch, epochs, step, n_batches, global_step, callbacks, history):
    message = (
        f"fit: the loss became {value} at epoch {epoch} of {epochs}, step {step} of {n_batches} "
        f"(global step {global_step}); that batch updated nothing. {history.epochs} "
        f"epoch{'' if history.epochs == 1 else 's'} completed before it, and their history is on "
        "this error's .history. A smaller learning rate, a better-scaled initialization or "
        "gradient clipping (fit(..., clip_grad_norm=1.0)) usually helps."
    )
    for cb in callbacks:
        describe = getattr(cb, "describe_nonfinite", None)
        if not callable(describe):
            continue
        try:
            text = describe()
        except Exception as e:  # a broken diagnostic must not hide the real error
            text = f"({type(cb).__name__}.describe_nonfinite failed: {type(e).__name__}: {e})"
        if text:
            message += "\n" + str(text)
    return NonFiniteLossError(message, epoch, step, global_step, value, history)


def _batches(x, y, batch_size, rng):
    """One epoch of ``(xb, yb)`` batches of ``x``, ``y`` in a new random order."""
    perm = rng.permutation(len(x))
    for start in range(0, len(x), batch_size):
        idx = perm[start:start + batch_size]
        yield x[idx], y[idx]


def _loader_batches(loader):
    """One pass of ``loader``, each batch checked as ``fit``'s arrays are."""
    for i, batch in enumerate(loader, 1):
        if not isinstance(batch, tuple) or len(batch) != 2:
            raise TypeError(f"fit: batch {i} of the DataLoader is not a pair (xb, yb); its dataset "
                            "must give (x, y) samples, e.g. TensorDataset(x, y)")
        yield _check_data(*batch, "a batch's x", "a batch's y")


def _first_pair(loader, who):
    """The first sample of ``loader``'s dataset, or an error if it is not an ``(x, y)`` pair."""
    if len(loader.dataset) == 0:
        raise ValueError(f"{who}: the DataLoader's dataset is empty")
    sample = loader.dataset[0]
    if not isinstance(sample, tuple) or len(sample) != 2:
        got = f"a tuple of {len(sample)}" if isinstance(sample, tuple) else f"a {type(sample).__name__}"
        raise TypeError(f"{who}: the DataLoader's samples must be pairs (x, y), e.g. from "
                        f"TensorDataset(x, y); got {got}")
    return sample


def _loader_arrays(loader, who):
    """All of ``loader``'s samples as ``(x, y)``, in the dataset's order: validation's data."""
    _first_pair(loader, who)
    dataset = loader.dataset
    if isinstance(dataset, TensorDataset):
        return dataset.tensors
    return tuple(np.stack(field) for field in zip(*(dataset[i] for i in range(len(dataset)))))


def _parameters(net):
    params = getattr(net, "parameters", None)
    if not callable(params):
        raise TypeError(f"fit: clip_grad_norm needs net.parameters(), {type(net).__name__} has none")
    return params()


def _warn_if_squashed(net, loss):
    """Warn when a loss that takes logits follows a saturating layer (a sigmoid before the loss's own)."""
    if not isinstance(loss, (CrossEntropyLoss, BCEWithLogitsLoss, NLLLoss)):
        return
    last = net
    while callable(getattr(last, "named_children", None)):
        children = list(last.named_children())
        if not children:
            break
        last = children[-1][1]
    if getattr(last, "saturating", False):
        expects = "log-probabilities" if isinstance(loss, NLLLoss) else "unbounded scores (logits)"
        warnings.warn(
            f"fit: {type(loss).__name__} expects {expects}, but the network ends "
            f"in a saturating {type(last).__name__}, which squashes them into a narrow range and "
            "flattens the gradient; end the network in a Linear layer "
            "(MLP(..., final_activation=False))", UserWarning, stacklevel=3)


def _check_inputs(x, who, x_name="x"):
    x = as_float_array(who, x_name, x)
    if x.ndim != 2:
        raise ValueError(f"{who}: expected {x_name} of shape (n_samples, n_features), got {x.shape}")
    if len(x) == 0:
        raise ValueError(f"{who}: {x_name} has no samples")
    return x


def _check_data(x, y, x_name, y_name, who="fit"):
    x = _check_inputs(x, who, x_name)
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"{who}: expected {y_name} of shape (n_samples,) (class labels) or "
                         f"(n_samples, n_outputs), got {y.shape}")
    if y.dtype.kind not in "iu":
        y = as_float_array(who, y_name, y)
    if len(x) != len(y):
        raise ValueError(f"{who}: {x_name} has {len(x)} samples but {y_name} has {len(y)}")
    return x, y


def _is_labels(y):
    return y.ndim == 1 and y.dtype.kind in "iu"


def _call(callbacks, method, *args):
    for cb in callbacks:
        fn = getattr(cb, method, None)
        if callable(fn):
            fn(*args)


class _Progress:
    """A bar over all steps, with the epoch and running loss, or nothing (``progress_bar``)."""

    def __init__(self, total, enabled):
        bar = progress_bar(total=total, enabled=enabled, unit="step", leave=True)
        # no bar shown: None, so a step pays nothing for formatting its loss
        self.bar = None if getattr(bar, "disable", True) else bar

    def step(self, epoch, epochs, loss, accuracy):
        if self.bar is None:
            return
        self.bar.set_description(f"epoch {epoch}/{epochs}", refresh=False)
        if accuracy is None:
            self.bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        else:
            self.bar.set_postfix(loss=f"{loss:.4g}", acc=f"{accuracy:.3f}", refresh=False)
        self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
