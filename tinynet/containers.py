"""Containers: Sequential, and MLP built on it."""

import copy

import numpy as np

from .activations import Activation, activation as make_activation
from .checks import check_rng, check_size
from .layer import Layer, layers_changed
from .linear import Linear


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse.

    Supports ``len``, iteration and indexing (a slice gives a new
    ``Sequential`` sharing the same layers). Parameter names are prefixed by
    the position: ``"0.weight"``, ``"2.bias"``.

    When no layer has hooks and the layers form a plain chain (Linears of one
    dtype whose widths meet, with built-in activations between), ``x`` is
    checked once against the first layer and ``dy`` once against the last
    layer's output, and those checks vouch for every layer: each layer's
    ``_forward`` and ``_backward`` run without its public ``forward`` and
    ``backward`` (hooks, not overriding those, are the way to watch a
    layer). The results are the same either way.
    """

    is_container = True

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: item {i} is not a tinynet Layer, got {type(layer).__name__}"
                )
        self.layers = list(layers)
        self._chain = ([], -1, False)  # what _plain_chain last found, and for which layers

    def _check_input(self, x):
        return x  # each layer checks its own input, naming itself

    def _check_dy(self, dy, out):
        if self._forward_hooks or not self.layers:
            return dy  # the output may not be the last layer's: each layer checks its own dy
        # checked here, before backward consumes anything, so a bad dy can be
        # followed by a good one; the message names the last layer
        return self.layers[-1]._check_dy(dy, out)

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()

    # Forward and backward take one of two paths with the same results. The
    # checked path calls each layer's public forward/backward, so each checks
    # its input and runs its hooks. The direct path serves the common case, a
    # plain chain (see `_is_plain_chain`): there the check of x against the
    # first layer settles every later input's width and dtype, and the check
    # of dy against the last layer's output every earlier dy's, so each
    # layer's _forward and _backward are called without checks of their own.
    # On small networks those checks cost about a tenth of a step
    # (benchmarks/run.py measures the step against bare numpy).
    def _forward(self, x):
        layers = self.layers
        # a hook on this container may replace its output, and so the shape of dy
        if self._forward_hooks or not self._plain_chain():
            self._ctx = None  # tells backward to take the checked path too
            for layer in layers:
                x = layer.forward(x)
            return x
        x = layers[0]._check_input(x)  # the one check of x, naming the first layer
        outputs = []
        for layer in layers:
            x = layer._forward(x)
            layer._out = x  # as Layer.forward keeps it
            outputs.append(x)
        self._ctx = outputs
        return x

    def _backward(self, dy):
        layers = self.layers
        outputs, self._ctx = self._ctx, None
        if outputs is None or not self._plain_chain():  # a hook may have come since forward
            return _backward_checked(layers, dy)
        for i in reversed(range(len(layers))):
            layer = layers[i]
            if layer._out is not outputs[i]:
                # This layer has run by hand since the forward, so its output
                # is no longer this forward's: it and the layers before it
                # check their own dy, as on the checked path. (The layers
                # after it were untouched, and the checked path would have
                # given them what the direct one did.)
                return _backward_checked(layers[:i + 1], dy)
            layer._out = None
            dy = layer._backward(dy)
        return dy

    def _plain_chain(self):
        """``_is_plain_chain(self.layers)``, remembered until the layers, a hook or a dtype change."""
        layers, generation, plain = self._chain
        if generation != Layer._generation or layers != self.layers:
            plain = _is_plain_chain(self.layers)
            self._chain = (list(self.layers), Layer._generation, plain)
        return plain

    def __getstate__(self):
        # the generation counts changes in this process only: a copy checks again
        state = self.__dict__.copy()
        state["_chain"] = ([], -1, False)
        return state

    def named_children(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def label(self):
        return f"{type(self).__name__} of {len(self.layers)} layers"

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        width = len(str(len(self.layers) - 1))
        for i, layer in enumerate(self.layers):
            body = repr(layer).replace("\n", "\n  ")
            n = layer.num_parameters()
            count = f"  # {n:,} parameters" if n else ""
            lines.append(f"  ({i:>{width}}): {body}{count}")
        lines.append(f")  # {self.num_parameters():,} parameters in all")
        return "\n".join(lines)


class MLP(Sequential):
    """A multilayer perceptron: ``Linear`` between consecutive ``sizes``, each followed by the activation.

    ``sizes = [in_features, hidden..., out_features]``; ``x: (batch, sizes[0])
    -> (batch, sizes[-1])``. Each ``Linear`` gets a fresh copy of
    ``activation`` (an ``Activation`` or its name, such as ``"relu"``), the
    last one too when ``final_activation`` is True, as in the lecture's
    network (for a classifier's logits pass False). Weights are drawn with
    ``weight_init`` (see ``Linear`` for the default) from ``rng``, layer by
    layer in order, so a seed fixes the whole network.
    """

    def __init__(self, sizes, activation, weight_init=None, bias=True, final_activation=True,
                 rng=None, dtype=np.float64, bias_init=None):
        try:
            sizes = list(sizes)
        except TypeError:
            raise TypeError(f"MLP: sizes must be a list of layer widths, got {sizes!r}") from None
        if len(sizes) < 2:
            raise ValueError(
                f"MLP: sizes needs at least two entries [in_features, out_features], got {sizes}"
            )
        sizes = [check_size("MLP", f"sizes[{i}]", s) for i, s in enumerate(sizes)]
        if isinstance(activation, str):
            activation = make_activation(activation)
        if not isinstance(activation, Activation):
            raise TypeError(f"MLP: activation must be a tinynet Activation or a name, got {activation!r}")
        rng = check_rng("MLP", "rng", rng)
        layers = []
        n = len(sizes) - 1
        for i in range(n):
            layers.append(Linear(sizes[i], sizes[i + 1], bias=bias, weight_init=weight_init,
                                 bias_init=bias_init, rng=rng, dtype=dtype))
            if i < n - 1 or final_activation:
                layers.append(fresh_copy(activation))
        super().__init__(*layers)
        self.sizes = sizes
        self.final_activation = bool(final_activation)

    def label(self):
        return f"MLP({' -> '.join(map(str, self.sizes))})"


def _backward_checked(layers, dy):
    for layer in reversed(layers):
        dy = layer.backward(dy)
    return dy


def _is_plain_chain(layers):
    """True if checking the first layer's input checks every later layer's input too.

    That holds when no layer has hooks (a hook may replace an output with
    anything), the first layer is a ``Linear``, every later ``Linear`` has
    its dtype and takes the width the last one gave, and the layers between
    are activations that keep their input's shape and dtype (built-ins; see
    ``Activation.keeps_dtype``). A subclass of ``Linear`` might check or
    compute differently, so only ``Linear`` itself counts.
    """
    if not layers or type(layers[0]) is not Linear:
        return False
    if any(layer._forward_hooks or layer._backward_hooks for layer in layers):
        return False
    width, dtype = layers[0].out_features, layers[0].dtype
    for layer in layers[1:]:
        if type(layer) is Linear:
            if layer.in_features != width or layer.dtype != dtype:
                return False
            width = layer.out_features
        elif not (isinstance(layer, Activation) and layer.keeps_dtype):
            return False
    return True


def fresh_copy(layer):
    """A copy of ``layer`` with no hooks and nothing kept from a forward pass.

    A layer without parameters or children (an activation) is copied
    shallowly: its attributes are settings, which the copy may share.
    """
    leaf = type(layer).named_children is Layer.named_children
    if leaf and not any(True for _ in layer._own_parameters()):
        new = copy.copy(layer)
        modules = (new,)
    else:
        new = copy.deepcopy(layer)
        modules = new.modules()
    for m in modules:
        m._forward_hooks = {}
        m._backward_hooks = {}
        m._ctx = None
        m._out = None
    layers_changed()  # so a container copied with its memory of hooks checks again
    return new
