"""LayerNorm and BatchNorm1d: normalize, then scale and shift, as in PyTorch.

Both compute ``xhat = (x - mean) / sqrt(var + eps)`` with the biased
variance, then ``y = xhat * weight + bias``. LayerNorm takes the statistics
of each sample over its trailing dimensions; BatchNorm1d takes them of each
feature over the batch, so in training mode every row's output depends on
every other row. docs/backprop.md derives both backward passes.

As in PyTorch, float16 is computed in float32 and only the result rounded
back: a float16 square overflows past 256, which would zero the output.
"""

import math

import numpy as np

from .architecture import register_layer
from .checks import as_float_array, check_bool, check_float_dtype, check_number, check_size
from .layer import Layer
from .parameter import Parameter


def _work(dtype):
    """The dtype the statistics are computed in: float32 or wider."""
    return np.promote_types(dtype, np.float32)


def normalized_backward(dxhat, xhat, rstd, axes):
    """``dx`` through ``xhat = (x - mean(x)) * rstd``, the statistics taken over ``axes``.

    The mean and the variance each depend on every entry they average, which
    gives the two subtracted terms (docs/backprop.md derives them).
    """
    mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axes, keepdims=True)
    return rstd * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat)


def _normalized_shape(value):
    """``normalized_shape`` (an int or a sequence of ints) as a tuple of positive ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = (value,)
    try:
        dims = tuple(value)
    except TypeError:
        raise TypeError(f"LayerNorm: normalized_shape must be an int or a tuple of ints, "
                        f"got {value!r}") from None
    if not dims:
        raise ValueError("LayerNorm: normalized_shape must name at least one dimension, got ()")
    return tuple(check_size("LayerNorm", f"normalized_shape[{i}]", d) for i, d in enumerate(dims))


@register_layer
class LayerNorm(Layer):
    """Normalize each sample over its trailing dims: ``x: (*, *normalized_shape) -> same shape``.

    As ``torch.nn.LayerNorm``: the mean and biased variance are taken over
    the last ``len(normalized_shape)`` dimensions; with
    ``elementwise_affine``, ``weight`` (ones) and ``bias`` (zeros, unless
    ``bias=False``) of shape ``normalized_shape`` scale and shift the result.
    The same in training and eval mode. Input is cast to ``dtype``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=np.float64):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        who = self.label()
        self.eps = check_number(who, "eps", eps, nonnegative=True)  # 0 as PyTorch allows: its own tests use it
        self.elementwise_affine = check_bool(who, "elementwise_affine", elementwise_affine)
        bias = check_bool(who, "bias", bias)
        self.dtype = check_float_dtype(who, "dtype", dtype)
        self.weight = self.bias = None
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, self.dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, self.dtype))

    def reset_parameters(self, rng=None):
        """Set ``weight`` to ones and ``bias`` to zeros again, as a new layer has them."""
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def _check_input(self, x):
        x = as_float_array(self, "input", x)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape or x.ndim < k:
            trailing = ", ".join(map(str, self.normalized_shape))
            raise ValueError(f"{self.label()}: expected input of shape (..., {trailing}), "
                             f"got {x.shape}")
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def _axes(self, x):
        return tuple(range(x.ndim - len(self.normalized_shape), x.ndim))

    def _forward(self, x):
        axes = self._axes(x)
        dtype, x = x.dtype, x.astype(_work(x.dtype), copy=False)
        centered = x - x.mean(axis=axes, keepdims=True)
        # the variance of centered / t, t = max(max|centered|, sqrt(eps)) per sample: squares
        # that would overflow (1e160 in float64) or an eps below the dtype's range (1e-50 in
        # float32) give the normalized values all the same, as exact arithmetic would
        root_eps = math.sqrt(self.eps)
        t = np.maximum(np.abs(centered).max(axis=axes, keepdims=True), root_eps)
        t[t == 0] = 1  # eps 0 and a constant sample: 0 / 0 would be nan before the variance's
        u = centered / t
        with np.errstate(divide="ignore", invalid="ignore"):  # eps 0, constant sample: nan, as PyTorch
            rstd_u = 1 / np.sqrt((u * u).mean(axis=axes, keepdims=True) + (root_eps / t) ** 2)
            xhat = u * rstd_u
        rstd = rstd_u / t
        y = xhat
        if self.weight is not None:
            y = xhat * self.weight.data
        if self.bias is not None:
            y += self.bias.data
        return y.astype(dtype, copy=False), (xhat, rstd)

    def _backward(self, ctx, dy):
        xhat, rstd = ctx
        dtype, dy = dy.dtype, dy.astype(xhat.dtype, copy=False)
        axes = self._axes(dy)
        batch_axes = tuple(range(dy.ndim - len(axes)))  # every sample adds to weight and bias
        weight, bias = self.weight, self.bias
        if weight is not None and weight.requires_grad:
            weight.accumulate((dy * xhat).sum(axis=batch_axes))
        if bias is not None and bias.requires_grad:
            bias.accumulate(dy.sum(axis=batch_axes))
        dxhat = dy if weight is None else dy * weight.data
        return normalized_backward(dxhat, xhat, rstd, axes).astype(dtype, copy=False)

    def get_config(self):
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None,
                "dtype": self.dtype.name}

    @classmethod
    def state_spec(cls, config):
        """``weight`` and ``bias`` of shape ``normalized_shape`` and ``dtype``, as the config has them."""
        shape = _normalized_shape(config["normalized_shape"])
        dtype = check_float_dtype("LayerNorm", "dtype", config["dtype"])
        affine = check_bool("LayerNorm", "elementwise_affine", config["elementwise_affine"])
        bias = check_bool("LayerNorm", "bias", config["bias"])
        return {**({"weight": (shape, dtype)} if affine else {}),
                **({"bias": (shape, dtype)} if affine and bias else {})}

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}"
                + ("" if self.bias is not None or self.weight is None else ", bias=False"))

    def label(self):
        shape = self.normalized_shape
        return f"LayerNorm({shape[0] if len(shape) == 1 else shape})"


@register_layer
class BatchNorm1d(Layer):
    """Normalize each feature over the batch: ``x: (batch, C)`` or ``(batch, C, length) -> same``.

    As ``torch.nn.BatchNorm1d``. In training mode the statistics are the
    batch's (the mean and biased variance of each feature over the batch,
    and over ``length`` for 3-D input), and with ``track_running_stats`` the
    buffers ``running_mean`` and ``running_var`` (the unbiased batch
    variance) move towards them by ``momentum``, or average all batches so
    far when ``momentum`` is None; ``num_batches_tracked`` counts the
    batches. In eval mode the running statistics are used instead (the
    batch's own when none are tracked). With ``affine``, ``weight`` (ones)
    and ``bias`` (zeros) of shape ``(C,)`` scale and shift the result.
    Input is cast to ``dtype``.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float64):
        super().__init__()
        self.num_features = check_size("BatchNorm1d", "num_features", num_features)
        who = self.label()
        self.eps = check_number(who, "eps", eps, positive=True)
        if momentum is not None:
            momentum = check_number(who, "momentum", momentum, nonnegative=True)
            if momentum > 1:
                raise ValueError(f"{who}: momentum must be in [0, 1] or None, got {momentum}")
        self.momentum = momentum
        self.affine = check_bool(who, "affine", affine)
        self.track_running_stats = check_bool(who, "track_running_stats", track_running_stats)
        self.dtype = check_float_dtype(who, "dtype", dtype)
        self.weight = self.bias = None
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, self.dtype))
            self.bias = Parameter(np.zeros(self.num_features, self.dtype))
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, self.dtype))
            self.register_buffer("running_var", np.ones(self.num_features, self.dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches tracked: as a new layer."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self, rng=None):
        """Reset the running statistics, ``weight`` to ones and ``bias`` to zeros, as PyTorch does."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            self.bias.data[...] = 0

    def _check_input(self, x):
        x = as_float_array(self, "input", x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            c = self.num_features
            raise ValueError(f"{self.label()}: expected input of shape (batch, {c}) or "
                             f"(batch, {c}, length), got {x.shape}")
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def _forward(self, x):
        axes = (0,) if x.ndim == 2 else (0, 2)
        per_feature = (1, -1) + (1,) * (x.ndim - 2)  # weight, bias, statistics against x
        use_batch = self.training or not self.track_running_stats
        dtype, x = x.dtype, x.astype(_work(x.dtype), copy=False)
        if x.size == 0:  # as PyTorch: an empty output, and in training a batch counted, stats unchanged
            if self.training and self.track_running_stats:
                self.num_batches_tracked[...] += 1
            use_batch, rstd, xhat = False, np.ones((), x.dtype), x  # backward: the affine map, empty
        elif use_batch:
            count = x.size // self.num_features
            if count < 2:  # PyTorch's words: the variance of one value is no statistic
                raise ValueError(f"{self.label()}: Expected more than 1 value per channel when "
                                 f"training, got input of shape {x.shape}")
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            sum_sq = (centered * centered).sum(axis=axes, keepdims=True)
            rstd = 1 / np.sqrt(sum_sq / count + self.eps)
            xhat = centered * rstd
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.reshape(-1), sum_sq.reshape(-1) / (count - 1))
        else:
            var = self.running_var.astype(x.dtype, copy=False)
            rstd = (1 / np.sqrt(var + self.eps)).reshape(per_feature)
            xhat = (x - self.running_mean.reshape(per_feature)) * rstd
        y = xhat
        if self.affine:
            y = xhat * self.weight.data.reshape(per_feature) + self.bias.data.reshape(per_feature)
        return y.astype(dtype, copy=False), (xhat, rstd, use_batch)

    def _update_running_stats(self, mean, unbiased_var):
        self.num_batches_tracked[...] += 1
        # momentum None: the cumulative average, 1/n for the n-th batch
        f = 1 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean[...] = f * mean + (1 - f) * self.running_mean
        self.running_var[...] = f * unbiased_var + (1 - f) * self.running_var

    def _backward(self, ctx, dy):
        xhat, rstd, use_batch = ctx
        dtype, dy = dy.dtype, dy.astype(xhat.dtype, copy=False)
        axes = (0,) if dy.ndim == 2 else (0, 2)
        per_feature = (1, -1) + (1,) * (dy.ndim - 2)
        if self.affine:
            if self.weight.requires_grad:
                self.weight.accumulate((dy * xhat).sum(axis=axes))
            if self.bias.requires_grad:
                self.bias.accumulate(dy.sum(axis=axes))
            dxhat = dy * self.weight.data.reshape(per_feature)
        else:
            dxhat = dy
        if not use_batch:  # fixed statistics: an affine map per feature
            return (dxhat * rstd).astype(dtype, copy=False)
        # With a forward batch of one (3-D input), rows of dy are separate
        # cotangents for that one sample: each is reduced over its own length.
        dx = normalized_backward(dxhat, xhat, rstd, axes if len(xhat) > 1 else axes[1:])
        return dx.astype(dtype, copy=False)

    def get_config(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats,
                "dtype": self.dtype.name}

    @classmethod
    def state_spec(cls, config):
        """``weight`` and ``bias`` with ``affine``, the running statistics with ``track_running_stats``."""
        shape = (check_size("BatchNorm1d", "num_features", config["num_features"]),)
        dtype = check_float_dtype("BatchNorm1d", "dtype", config["dtype"])
        spec = {}
        if check_bool("BatchNorm1d", "affine", config["affine"]):
            spec.update(weight=(shape, dtype), bias=(shape, dtype))
        if check_bool("BatchNorm1d", "track_running_stats", config["track_running_stats"]):
            spec.update(running_mean=(shape, dtype), running_var=(shape, dtype),
                        num_batches_tracked=((), np.dtype(np.int64)))
        return spec

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")

    def label(self):
        return f"BatchNorm1d({self.num_features})"
