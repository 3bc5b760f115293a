"""Layer: the one contract every tinynet building block follows.

A subclass writes two methods::

    _forward(x) -> (y, ctx)       ctx: what backward will need, e.g. x itself
    _backward(ctx, dy) -> dx      and param.accumulate(g) for each parameter

The public ``forward(x)`` runs the forward pre-hooks, checks ``x``
(``_check_input``), calls ``_forward``, runs the forward hooks and, unless
inside ``tinynet.no_grad()``, pushes ``ctx`` (with the output's shape and
dtype, which check ``dy``) onto ``self._saved``: the one place where what
forward keeps for backward lives. ``backward(dy)`` checks ``dy`` against the
newest entry, pops it, calls ``_backward`` and runs the backward hooks.

``_saved`` is a stack, so a layer used twice in one pass (weight tying,
``Sequential(L, Tanh(), L)``) keeps one entry per use, and the backward
pass, running in reverse, consumes them newest first, as the chain rule
needs. A forward that no backward follows leaves its entry behind: run
forward-only work in ``with tinynet.no_grad():``.
"""

from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from .checks import as_float_array, check_bool, check_float_dtype, check_rng
from .grad_mode import is_grad_enabled
from .hooks import RemovableHandle
from .parameter import Parameter

#: What ``load_state_dict`` returns, as PyTorch's ``_IncompatibleKeys``.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Layer:
    """Base class of layers, activations and containers."""

    def __init__(self):
        self.training = True
        self._saved = []  # one (ctx, output shape, output dtype) per forward not yet backpropagated
        self._buffers = {}  # buffer name -> persistent (saved in state_dict)
        self._forward_pre_hooks = {}
        self._forward_hooks = {}
        self._backward_hooks = {}

    # ---- the contract -------------------------------------------------
    def forward(self, x):
        """Compute the output for ``x``; unless in ``no_grad``, keep what backward needs."""
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, x)
                if result is not None:
                    x = result
        x = self._check_input(x)
        y, ctx = self._forward(x)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, x, y)
                if result is not None:
                    y = _replacement(self, hook, "forward", "output", result, y)
        if is_grad_enabled():
            self._saved.append((ctx, y.shape, y.dtype))
        return y

    __call__ = forward

    def backward(self, dy):
        """Return ``dx`` for the output gradient ``dy``; add the parameter gradients into ``.grad``.

        ``dy`` has the shape of the output of the forward it answers (the
        newest not yet backpropagated). When that forward had a batch of
        one, ``dy`` may hold several rows: each is a separate cotangent for
        the same input, and row i of ``dx`` is its vector-Jacobian product
        (backward of the identity gives the input-output Jacobian).
        """
        if not self._saved:
            raise RuntimeError(
                f"{self.label()}: backward needs a forward first: each backward consumes what one "
                "forward kept, and a forward inside tinynet.no_grad() keeps nothing")
        ctx, shape, dtype = self._saved[-1]
        if type(dy) is not np.ndarray or dy.shape != shape or dy.dtype != dtype:
            dy = self._check_dy(dy, shape, dtype)  # before the pop: a bad dy consumes nothing
        self._saved.pop()
        dx = self._backward(ctx, dy)
        if self._backward_hooks:
            for hook in list(self._backward_hooks.values()):
                result = hook(self, dx, dy)
                if result is not None:
                    dx = _replacement(self, hook, "backward", "dx", result, dx)
        return dx

    def _forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement _forward")

    def _backward(self, ctx, dy):
        raise NotImplementedError(f"{type(self).__name__} does not implement _backward")

    def _check_input(self, x):
        """``x`` as the array ``_forward`` expects, or an error naming the layer."""
        return as_float_array(self, "input", x)

    def _check_dy(self, dy, shape, dtype):
        dy = as_float_array(self, "dy", dy)
        several_rows = len(shape) > 0 and shape[0] == 1 and dy.ndim == len(shape) and dy.shape[1:] == shape[1:]
        if dy.shape != shape and not several_rows:
            raise ValueError(
                f"{self.label()}: expected dy of shape {shape} (the shape of the output), got {dy.shape}")
        return dy if dy.dtype == dtype else dy.astype(dtype)

    # ---- hooks --------------------------------------------------------
    def register_forward_pre_hook(self, hook):
        """Call ``hook(layer, x)`` before each forward; what it returns (unless None) replaces ``x``."""
        return self._register(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(layer, x, y)`` after each forward; an array it returns replaces ``y``.

        The replacement must have ``y``'s shape and dtype. Backward passes
        the gradient straight through it: there is no autograd to
        differentiate what the hook did (a backward hook changes gradients).
        """
        return self._register(self._forward_hooks, hook)

    def register_backward_hook(self, hook):
        """Call ``hook(layer, dx, dy)`` after each backward; an array it returns (same shape and dtype) replaces ``dx``."""
        return self._register(self._backward_hooks, hook)

    def _register(self, registry, hook):
        if not callable(hook):
            raise TypeError(f"{self.label()}: a hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(registry)
        registry[handle.id] = hook
        return handle

    # ---- sub-layers, parameters, buffers ------------------------------
    def named_children(self):
        """Yield ``(name, layer)`` for the direct sub-layers: attributes that are Layers, in the order set."""
        for name, value in vars(self).items():
            if isinstance(value, Layer):
                yield name, value

    def children(self):
        """Yield the direct sub-layers."""
        for _, child in self.named_children():
            yield child

    @property
    def is_container(self):
        """True if this layer has sub-layers."""
        return any(True for _ in self.named_children())

    def named_modules(self, prefix="", remove_duplicate=True):
        """Yield ``(name, layer)`` for this layer and every layer below it, depth first.

        A layer used twice is listed once, under its first name, unless
        ``remove_duplicate`` is False (as in PyTorch).
        """
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, layer = stack.pop()
            if remove_duplicate and id(layer) in seen:
                continue
            seen.add(id(layer))
            yield name, layer
            below = [(f"{name}.{n}" if name else n, child) for n, child in layer.named_children()]
            stack.extend(reversed(below))

    def modules(self):
        """Yield this layer and every layer below it, each once."""
        for _, m in self.named_modules():
            yield m

    def apply(self, fn):
        """Call ``fn(layer)`` on every sub-layer (children first, each once) and then on this one; returns self."""
        done = set()

        def visit(layer):
            done.add(id(layer))
            for child in layer.children():
                if id(child) not in done:
                    visit(child)
            fn(layer)

        visit(self)
        return self

    def named_parameters(self, prefix="", recurse=True):
        """Yield ``(name, Parameter)`` for every parameter, e.g. ``"0.weight"``, each once.

        A ``Parameter`` set as an attribute is registered, as in PyTorch: a
        custom layer needs nothing more for it to be trained, zeroed, cast,
        saved and gradient-checked. With ``recurse=False``, only this
        layer's own.
        """
        seen = set()
        for mod_name, mod in self.named_modules(prefix) if recurse else [(prefix, self)]:
            for name, value in vars(mod).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{mod_name}.{name}" if mod_name else name), value

    def parameters(self, recurse=True):
        """Yield every ``Parameter`` (only this layer's own with ``recurse=False``)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def num_parameters(self):
        """The number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    def register_buffer(self, name, array, persistent=True):
        """Keep ``array`` as the attribute ``name``: state that is not learned (a running mean).

        Buffers are cast by ``to()`` (floating ones) and, when
        ``persistent``, saved in ``state_dict()``.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"{self.label()}: a buffer name must be an identifier, got {name!r}")
        if name in vars(self) and name not in self._buffers:
            raise ValueError(f"{self.label()}: attribute {name!r} already exists and is not a buffer")
        self._buffers[name] = check_bool(self.label(), "persistent", persistent)
        setattr(self, name, np.asarray(array))

    def named_buffers(self, prefix="", recurse=True):
        """Yield ``(name, array)`` for every buffer, named as parameters are."""
        for mod_name, mod in self.named_modules(prefix) if recurse else [(prefix, self)]:
            for name in mod._buffers:
                yield (f"{mod_name}.{name}" if mod_name else name), getattr(mod, name)

    def buffers(self, recurse=True):
        """Yield every buffer array."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- state --------------------------------------------------------
    def state_dict(self):
        """``{name: array}`` for every parameter and persistent buffer, named as ``named_parameters``.

        The arrays are copies, so the dict is a snapshot that later training
        steps (which update parameters in place) leave as it was. PyTorch's
        tensors are shared instead, and ``copy.deepcopy`` takes the snapshot.
        """
        return {name: np.array(array) for name, (array, _) in self._state_entries().items()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy ``state_dict``'s arrays into the parameters and buffers, in place.

        Every entry is checked before anything changes: with ``strict``, a
        missing or unexpected name, and always an array of another shape or
        of a kind that does not cast to the parameter's dtype, give one
        ValueError listing every problem, and change nothing. Returns
        ``(missing_keys, unexpected_keys)``, as PyTorch does.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{self.label()}: load_state_dict needs a dict of arrays, "
                            f"got {type(state_dict).__name__}")
        strict = check_bool(self.label(), "strict", strict)
        entries = self._state_entries()
        missing = [k for k in entries if k not in state_dict]
        unexpected = [k for k in state_dict if k not in entries]
        problems = [f"missing {missing}"] if strict and missing else []
        problems += [f"unexpected {unexpected}"] if strict and unexpected else []
        values = {}
        for key in entries.keys() & state_dict.keys():
            target = entries[key][0]
            try:
                value = np.asarray(state_dict[key])
            except (TypeError, ValueError) as e:
                problems.append(f"{key!r} is not an array ({e})")
                continue
            if value.shape != target.shape:
                problems.append(f"{key!r} has shape {value.shape}, expected {target.shape}")
            elif not np.can_cast(value.dtype, target.dtype, casting="same_kind"):
                problems.append(f"{key!r} has dtype {value.dtype}, which does not cast to {target.dtype}")
            values[key] = value
        if problems:
            raise ValueError(f"{self.label()}: cannot load the state dict: {'; '.join(problems)}")
        for key, value in values.items():
            target, owner = entries[key]
            if isinstance(owner, Parameter):
                owner.data[...] = value
            else:  # a buffer: (layer, attribute name)
                setattr(owner[0], owner[1], value.astype(target.dtype, copy=True))
        return IncompatibleKeys(missing, unexpected)

    def _state_entries(self):
        """``{name: (array, owner)}`` in PyTorch's order: each layer's parameters, then its buffers."""
        entries, seen = {}, set()
        for mod_name, mod in self.named_modules():
            prefix = f"{mod_name}." if mod_name else ""
            for name, p in mod.named_parameters(recurse=False):
                if id(p) not in seen:
                    seen.add(id(p))
                    entries[prefix + name] = (p.data, p)
            for name, persistent in mod._buffers.items():
                if persistent:
                    entries[prefix + name] = (np.asarray(getattr(mod, name)), (mod, name))
        return entries

    # ---- modes, gradients, dtype --------------------------------------
    def train(self, mode=True):
        """Set ``training`` to ``mode`` on this layer and every layer below it; returns self."""
        mode = check_bool(self.label(), "mode", mode)
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        """``train(False)``: the mode Dropout and BatchNorm read for inference; returns self."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (to None, or to zeros with ``set_to_none=False``)."""
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def requires_grad_(self, requires_grad=True):
        """Switch parameter-gradient computation on or off for every parameter; returns self."""
        requires_grad = check_bool(self.label(), "requires_grad", requires_grad)
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def to(self, dtype):
        """Cast every parameter (and its gradient) and floating buffer to ``dtype``, in place; returns self."""
        dtype = check_float_dtype(self.label(), "dtype", dtype)
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            if p.grad is not None:
                p.grad = p.grad
        for m in self.modules():
            for name in m._buffers:
                if getattr(m, name).dtype.kind == "f":
                    setattr(m, name, getattr(m, name).astype(dtype))
            if hasattr(m, "dtype"):
                m.dtype = dtype
        return self

    def reset_parameters(self, rng=None):
        """Draw every parameter again from its initializer, in place, layer by layer in order.

        As in PyTorch. The order is the constructors', so a network reset
        from an ``rng`` in some state holds the numbers it would hold if
        built anew from that state. A custom layer with parameters overrides
        this.
        """
        if any(True for _ in self.parameters(recurse=False)):
            raise NotImplementedError(
                f"{self.label()}: has parameters but does not say how to draw them (reset_parameters)")
        rng = check_rng(self.label(), "rng", rng)  # one generator for all the layers below
        for child in self.children():
            child.reset_parameters(rng)

    def __getstate__(self):
        # a copy (copy.deepcopy, pickle) keeps hooks, as in PyTorch, but nothing from past forwards
        state = self.__dict__.copy()
        state["_saved"] = []
        return state

    # ---- description --------------------------------------------------
    def get_config(self):
        """The constructor arguments, JSON-able, that rebuild this layer's architecture."""
        return {}

    def extra_repr(self):
        """What goes between the parentheses of the repr."""
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())

    def label(self):
        """A short name for error messages, e.g. ``Linear(100 -> 10)``."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


def _replacement(layer, hook, kind, what, value, like):
    """``value`` if it may replace ``like`` (same shape and dtype), else an error naming the hook."""
    name = getattr(hook, "__qualname__", type(hook).__name__)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{layer.label()}: {kind} hook {name} returned {type(value).__name__}; "
                        f"a replacement {what} must be an array")
    if value.shape != like.shape or value.dtype != like.dtype:
        raise ValueError(
            f"{layer.label()}: {kind} hook {name} returned an array of shape {value.shape} and dtype "
            f"{value.dtype}; a replacement {what} must have the {what}'s shape {like.shape} and dtype {like.dtype}")
    return value
