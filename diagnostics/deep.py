"""Probing networks too deep to hold: one layer in memory at a time.

At width 100 and depth 10,000 the weights alone take 800 MB, but what a
probe must keep is only each layer's input: depth x width numbers. So each
layer is a real tinynet ``Linear`` plus activation, built from its own seed
when the signal reaches it and dropped after; the backward pass builds it
again from the same seed (the same weights), re-runs its forward on the
kept input, and runs its ``backward`` with the same log-rescaling hooks as
:func:`diagnostics.probes.gradient_probe`. Time is linear in depth; memory
is O(depth x width + width^2).
"""

import copy
import math

import numpy as np

import tinynet as tn

from .probes import LogRescaler, is_scale_equivariant, measured_profile, not_finite


def stream_probe(activation, weight_init, depth, width, rng=None, dtype=np.float64, bias_init=None,
                 x=None):
    """The :func:`gradient_probe` of a ``depth``-layer MLP of ``width``, built layer by layer.

    ``activation`` is a tinynet activation (or name), ``weight_init`` an
    initializer (or spec); ``bias_init`` None means no bias. Layer l draws
    its weights from its own seed, taken from ``rng`` up front, so the
    network (and the result) is fixed by ``rng``, though it differs from an
    ``MLP`` built from the same ``rng``.
    """
    act = tn.activation(activation) if isinstance(activation, str) else copy.deepcopy(activation)
    rng = np.random.default_rng() if rng is None else rng
    seeds = rng.integers(0, 2**63, size=depth)
    dtype = np.dtype(dtype)
    bias = bias_init is not None
    weight_init = tn.init.get(weight_init, "stream_probe")

    def linear(l):
        return tn.Linear(width, width, bias=bias, weight_init=weight_init, bias_init=bias_init,
                         rng=np.random.default_rng(seeds[l]), dtype=dtype).requires_grad_(False)

    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"stream_probe: depth must be a positive integer, got {depth!r}")
    if x is None:
        h = np.ones((1, width), dtype=dtype)
    else:
        h = np.asarray(x, dtype=dtype)
        if h.size != width:
            raise ValueError(f"stream_probe: x must hold one input of width {width}, got shape {h.shape}")
        h = h.reshape(1, width)
    inputs = np.empty((depth, width), dtype=dtype)
    rescale = is_scale_equivariant(linear(0)) and is_scale_equivariant(act) if depth else False
    with np.errstate(over="ignore", invalid="ignore"), tn.no_grad():  # forward only: keep nothing
        for l in range(depth):
            inputs[l] = h[0]
            z = linear(l).forward(h)
            h = act.forward(z)
            for out, kind, index in ((z, "Linear", 2 * l), (h, type(act).__name__, 2 * l + 1)):
                if not np.all(np.isfinite(out)):
                    where = {"layer": str(index), "type": kind, "pass": "forward", "input_finite": True}
                    return not_finite(where)
            if rescale:  # (None: the signal is in range, or all zero, and stays as it is)
                scaled = LogRescaler.forward_hook(act, z, h)
                h = h if scaled is None else scaled

    # names are the positions the layers would have in the equivalent MLP
    rescaler = LogRescaler({})
    g = np.eye(width, dtype=dtype)
    for l in reversed(range(depth)):
        lin = linear(l)
        rescaler.names[id(lin)] = str(2 * l)
        # the same errstate as gradient_probe: overflows are measured (or reported), not warned about
        with lin.register_backward_hook(rescaler.backward_hook), \
                np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            act.forward(lin.forward(inputs[l][None, :]))
            g = lin.backward(act.backward(g))
        del rescaler.names[id(lin)]
        if rescaler.nonfinite is not None:
            return not_finite(rescaler.nonfinite)
    return measured_profile(rescaler.records, 0.5 * math.log10(width), g, rescaler.log10_scale)
