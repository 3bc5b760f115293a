"""Containers: Sequential, and MLP built on it."""

import copy

import numpy as np

from . import architecture
from .activations import Activation, activation as make_activation
from .architecture import register_layer
from .checks import check_bool, check_float_dtype, check_rng, check_size
from .grad_mode import is_grad_enabled
from .layer import Layer, indented_repr
from .linear import Linear


@register_layer
class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse.

    A list of layers as PyTorch's: ``len``, iteration, indexing (negative
    too; a slice gives a new ``Sequential`` sharing the same layers),
    ``seq[i] = layer``, ``del seq[i]`` or ``del seq[a:b]``, ``append``,
    ``insert``, ``extend`` and ``pop``. Parameter names are prefixed by the
    position: ``"0.weight"``, ``"2.bias"``. A layer may appear more than
    once (its weights are then shared, and get the gradients of every use).
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            self._check_layer(f"item {i}", layer)
        self.layers = list(layers)

    def _forward(self, x):
        ran = 0
        try:
            for layer in self.layers:
                x = layer.forward(x)
                ran += 1
        except BaseException:  # the layers before the one that failed keep passes no backward will consume
            if is_grad_enabled():
                for earlier in reversed(self.layers[:ran]):
                    earlier._drop_pass()
            raise
        return x, None

    def _backward(self, ctx, dy):
        layers = self.layers
        left = len(layers)
        try:
            for layer in reversed(layers):
                left -= 1
                dy = layer.backward(dy)
        except BaseException:  # as in _forward: what the layers before the one that failed kept is dropped
            for earlier in reversed(layers[:left]):
                earlier._drop_pass()
            raise
        return dy

    def _sub_passes(self, ctx):
        return self.layers

    def named_children(self):
        return zip(map(str, range(len(self.layers))), self.layers)  # no generator frame: zero_grad walks this

    def get_config(self):
        return {"layers": [architecture.describe(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config):
        """``Sequential`` of the layers ``config["layers"]`` describes."""
        return cls(*[architecture.build(d, str(i)) for i, d in enumerate(_layer_list(config))])

    @classmethod
    def state_spec(cls, config):
        """Its layers' arrays, named by position: ``"0.weight"``."""
        return _arrays_of(_layer_list(config))

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[self._position(index)]

    def __setitem__(self, index, layer):
        self.layers[self._position(index)] = self._check_layer("the new layer", layer)

    def __delitem__(self, index):
        del self.layers[index if isinstance(index, slice) else self._position(index)]

    def append(self, layer):
        """Add ``layer`` at the end; returns self."""
        self.layers.append(self._check_layer("append", layer))
        return self

    def insert(self, index, layer):
        """Put ``layer`` before position ``index`` (``-len <= index <= len``); returns self."""
        n = len(self.layers)
        if not _is_int(index):
            raise TypeError(f"{self.label()}: insert needs an int index, got {index!r}")
        if not -n <= index <= n:  # list.insert would clamp; PyTorch refuses
            raise IndexError(f"Index out of range: {index}")
        self.layers.insert(index, self._check_layer("insert", layer))
        return self

    def extend(self, layers):
        """Append each layer of ``layers`` (a Sequential or any iterable of layers); returns self."""
        layers = list(layers)
        for i, layer in enumerate(layers):
            self._check_layer(f"extend item {i}", layer)
        self.layers.extend(layers)  # checked first: a bad item leaves the container unchanged
        return self

    def pop(self, index=-1):
        """Remove the layer at ``index`` (the last by default) and return it."""
        return self.layers.pop(self._position(index))

    def _position(self, index):
        """``index`` as a position, or PyTorch's IndexError; a TypeError for what is no int."""
        if not _is_int(index):
            raise TypeError(f"{self.label()}: indices must be ints or slices, got {index!r}")
        if not -len(self.layers) <= index < len(self.layers):
            raise IndexError(f"index {index} is out of range")
        return int(index)

    def _check_layer(self, what, layer):
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential: {what} is not a tinynet Layer, got {type(layer).__name__}")
        return layer

    def label(self):
        return f"{type(self).__name__} of {len(self.layers)} layers"

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        width = len(str(len(self.layers) - 1))
        for i, layer in enumerate(self.layers):
            body = indented_repr(layer)
            n = layer.num_parameters()
            count = f"  # {n:,} parameters" if n else ""
            lines.append(f"  ({i:>{width}}): {body}{count}")
        lines.append(f")  # {self.num_parameters():,} parameters in all")
        return "\n".join(lines)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@register_layer
class MLP(Sequential):
    """A multilayer perceptron: ``Linear`` layers between consecutive ``sizes``, the activation between them.

    ``sizes = [in_features, hidden..., out_features]``; ``x: (batch, sizes[0])
    -> (batch, sizes[-1])``. Each hidden ``Linear`` is followed by a copy of
    ``activation`` (an ``Activation`` or its name, such as ``"relu"``); the
    network ends in a ``Linear``, as torchvision's MLP does, unless
    ``final_activation`` is True (the lecture's networks). Weights are drawn
    with ``weight_init`` (see ``Linear`` for the default) from ``rng``, layer
    by layer in order, so a seed fixes the whole network.
    """

    def __init__(self, sizes, activation, weight_init=None, bias=True, final_activation=False,
                 rng=None, dtype=np.float64, bias_init=None):
        sizes = _sizes(sizes)
        if isinstance(activation, str):
            activation = make_activation(activation)
        if not isinstance(activation, Activation):
            raise TypeError(f"MLP: activation must be a tinynet Activation or a name, got {activation!r}")
        bias = check_bool("MLP", "bias", bias)
        final_activation = check_bool("MLP", "final_activation", final_activation)
        dtype = check_float_dtype("MLP", "dtype", dtype)
        rng = check_rng("MLP", "rng", rng)
        layers = []
        n = len(sizes) - 1
        for i in range(n):
            layers.append(Linear(sizes[i], sizes[i + 1], bias=bias, weight_init=weight_init,
                                 bias_init=bias_init, rng=rng, dtype=dtype))
            if i < n - 1 or final_activation:
                layers.append(copy.deepcopy(activation))
        super().__init__(*layers)
        self.sizes = sizes
        self.final_activation = final_activation

    def get_config(self):
        acts = [layer for layer in self.layers if not isinstance(layer, Linear)]
        config = {"sizes": list(self.sizes), "activation": architecture.describe(acts[0]) if acts else None,
                  "bias": self.layers[0].bias is not None, "final_activation": self.final_activation,
                  "dtype": self.layers[0].dtype.name}
        # a layer replaced since (net.layers[1] = ReLU()) would be lost in rebuilding
        if [architecture.describe(layer) for layer in self.layers] != list(_mlp_layers(config)):
            raise TypeError(f"{self.label()}: its layers no longer match its description; "
                            "save Sequential(*layers) instead")
        return config

    @classmethod
    def from_config(cls, config):
        """The MLP ``config`` describes; its activation is a description, None for an MLP without one."""
        act = _activation(config)
        act = "identity" if act is None else architecture.build(act, "1")  # copied after each Linear
        return cls(**{**config, "activation": act})

    @classmethod
    def state_spec(cls, config):
        """Its layers' arrays, named by position as its Sequential's: ``"0.weight"``, ``"2.weight"``..."""
        return _arrays_of(_mlp_layers(config))

    def label(self):
        return f"MLP({' -> '.join(map(str, self.sizes))})"


def _layer_list(config):
    unknown = sorted(set(config) - {"layers"})
    if unknown:
        raise TypeError(f"Sequential: the entry {unknown[0]!r:.40} is not one it takes (layers)")
    if not isinstance(config["layers"], list):
        raise TypeError(f"Sequential: layers should be a list of layers' descriptions, got {config['layers']!r:.60}")
    return config["layers"]


def _arrays_of(descriptions):
    """The arrays of the layers ``descriptions`` lists, named by position, each found by its kind's class."""
    spec = {}
    for i, d in enumerate(descriptions):
        spec.update(architecture.arrays(d, str(i)))
    return spec


def _activation(config):
    """The description of an MLP's activation; None only for one ``Linear`` and no activation."""
    act, sizes = config["activation"], _size_list(config["sizes"])
    if act is None and (len(sizes) > 2 or config["final_activation"]):
        raise TypeError(f"MLP: activation None describes an MLP of one Linear and no activation, "
                        f"not of {len(sizes)} sizes")
    return act


def _mlp_layers(config):
    """The descriptions of the layers an MLP of ``config`` holds, in order.

    One at a time, each size checked as it comes: a file may declare a
    million sizes, and ``load`` stops at the arrays the file holds.
    """
    sizes, act = _size_list(config["sizes"]), _activation(config)
    for i in range(len(sizes) - 1):
        n_in, n_out = (check_size("MLP", f"sizes[{j}]", sizes[j]) for j in (i, i + 1))
        yield {"type": "Linear", "in_features": n_in, "out_features": n_out,
               "bias": config["bias"], "dtype": config["dtype"]}
        if i < len(sizes) - 2 or config["final_activation"]:
            yield act


def _sizes(sizes):
    """``sizes`` as a list of at least two positive ints, or an error saying what is wrong."""
    sizes = _size_list(sizes)
    return [check_size("MLP", f"sizes[{i}]", s) for i, s in enumerate(sizes)]


def _size_list(sizes):
    """``sizes`` as a list of at least two entries, each still to be checked."""
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(f"MLP: sizes must be a list of layer widths, got {sizes!r:.80}") from None
    if len(sizes) < 2:
        raise ValueError(f"MLP: sizes needs at least two entries [in_features, out_features], got {sizes}")
    return sizes
