"""Layer: the one contract every tinynet building block follows.

``forward(x)`` computes the output and keeps what backward needs in
``self._ctx``; ``backward(dy)`` consumes it, adds parameter gradients into
each ``Parameter.grad`` and returns ``dx``. Subclasses write ``_forward`` and
``_backward``; the public methods here do the checks and run the hooks, so
every layer reports bad input the same way.
"""

import numpy as np

from .checks import check_rng
from .hooks import RemovableHandle
from .parameter import Parameter


class Layer:
    """Base class of layers, activations and containers."""

    is_container = False
    #: True if ``_check_input`` checks more than "a floating numpy array"
    #: (Linear checks the width); others skip the call for such arrays.
    checks_input_shape = False
    #: Counts changes, anywhere, to what a container checks once and then
    #: remembers about its layers: a hook added or removed, a dtype changed
    #: by ``to()``.
    _generation = 0

    def __init__(self):
        self._forward_hooks = {}
        self._backward_hooks = {}
        self._ctx = None  # what forward keeps for backward; backward consumes it
        self._out = None  # the last forward output (checks dy's shape and dtype), until backward

    # ---- the contract -------------------------------------------------
    def forward(self, x):
        """Compute the output for ``x`` and remember what backward needs."""
        # the common case is checked here, without a call: this runs for every
        # layer of every forward pass, often on arrays of a few hundred numbers
        if self.checks_input_shape or type(x) is not np.ndarray or x.dtype.kind != "f":
            x = self._check_input(x)
        y = self._forward(x)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, x, y)
                if result is not None:
                    y = result
        self._out = y  # its shape and dtype check dy; holding it costs nothing, forward made it
        return y

    def backward(self, dy):
        """Return ``dx`` for the output gradient ``dy``; accumulate parameter grads.

        ``dy`` has the shape of the last output. When that forward had a batch
        of one, ``dy`` may hold several rows: each is a separate cotangent for
        the same input, and row i of ``dx`` is its vector-Jacobian product
        (backward of the identity gives the input-output Jacobian).
        """
        out = self._out
        if out is None:
            raise RuntimeError(
                f"{self.label()}: backward called before forward (or twice after one "
                "forward); each backward consumes what its forward kept"
            )
        if type(dy) is not np.ndarray or dy.shape != out.shape or dy.dtype != out.dtype:
            dy = self._check_dy(dy, out)
        self._out = None
        dx = self._backward(dy)
        if self._backward_hooks:
            for hook in list(self._backward_hooks.values()):
                result = hook(self, dx, dy)
                if result is not None:
                    dx = result
        return dx

    __call__ = forward

    def _forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement _forward")

    def _backward(self, dy):
        raise NotImplementedError(f"{type(self).__name__} does not implement _backward")

    # ---- input checks (shared so every layer words them alike) --------
    def _check_input(self, x):
        return as_float_array(x, self, "input")

    def _check_dy(self, dy, out):
        dy = as_float_array(dy, self, "dy")
        shape = out.shape
        if dy.shape != shape and not (
            shape[0] == 1 and dy.ndim == len(shape) and dy.shape[1:] == shape[1:]
        ):
            raise ValueError(
                f"{self.label()}: expected dy of shape {shape} (the shape of the output), "
                f"got {dy.shape}"
            )
        if dy.dtype != out.dtype:
            dy = dy.astype(out.dtype)
        return dy

    # ---- hooks --------------------------------------------------------
    def register_forward_hook(self, hook):
        """Call ``hook(layer, x, y)`` after each forward; an array it returns replaces ``y``."""
        return self._register(self._forward_hooks, hook)

    def register_backward_hook(self, hook):
        """Call ``hook(layer, dx, dy)`` after each backward; an array it returns replaces ``dx``."""
        return self._register(self._backward_hooks, hook)

    def _register(self, registry, hook):
        if not callable(hook):
            raise TypeError(f"{self.label()}: a hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(registry, on_remove=layers_changed)
        registry[handle.id] = hook
        layers_changed()
        return handle

    # ---- parameters and children --------------------------------------
    def named_children(self):
        """Yield ``(name, layer)`` for the direct sub-layers (none for a leaf)."""
        return iter(())

    def named_modules(self, prefix=""):
        """Yield ``(name, layer)`` for this layer and every layer below it."""
        yield prefix, self
        for name, child in self.named_children():
            path = f"{prefix}.{name}" if prefix else name
            if type(child).named_children is Layer.named_children:
                yield path, child  # a leaf: no nested generator (deep networks walk this often)
            else:
                yield from child.named_modules(path)

    def modules(self):
        """Yield this layer and every layer below it."""
        for _, m in self.named_modules():
            yield m

    def _own_parameters(self):
        """Yield ``(name, Parameter)`` held by this layer itself (not children).

        Every attribute that is a ``Parameter``, in the order they were set,
        as PyTorch registers them: a custom layer that sets
        ``self.gamma = Parameter(...)`` needs nothing more for its parameter
        to be trained, zeroed, cast, saved and gradient-checked.
        """
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield name, value

    def named_parameters(self, prefix="", recurse=True):
        """Yield ``(name, Parameter)`` for every parameter, e.g. ``"0.weight"``.

        With ``recurse=False``, only this layer's own parameters, as in PyTorch.
        """
        if not recurse:
            for name, p in self._own_parameters():
                yield (f"{prefix}.{name}" if prefix else name), p
            return
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._own_parameters():
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse=True):
        """Yield every ``Parameter`` (only this layer's own with ``recurse=False``)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def num_parameters(self):
        """The number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self):
        """Set every parameter's accumulated gradient to zero."""
        for _, p in self._own_parameters():
            p.zero_grad()
        for _, child in self.named_children():
            child.zero_grad()

    def reset_parameters(self, rng=None):
        """Draw every parameter again from its initializer, in place, layer by layer in order.

        As in PyTorch. The order is the constructors', so a network reset
        from an ``rng`` in some state holds the numbers it would hold if
        built anew from that state. Layers without parameters have nothing
        to draw; a custom layer with parameters overrides this.
        """
        if any(True for _ in self._own_parameters()):
            raise NotImplementedError(
                f"{self.label()}: has parameters but does not say how to draw them (reset_parameters)")
        rng = check_rng(self.label(), "rng", rng)  # one generator for all the layers below
        for _, child in self.named_children():
            child.reset_parameters(rng)

    def requires_grad_(self, requires_grad=True):
        """Switch parameter-gradient computation on or off for every parameter."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def to(self, dtype):
        """Cast every parameter (and its gradient) to ``dtype``, in place; returns self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{self.label()}: to() needs a floating dtype, got {dtype}")
        for mod in self.modules():
            for _, p in mod._own_parameters():
                p.data = p.data.astype(dtype)
                if p._grad is not None:
                    p._grad = p._grad.astype(dtype)  # stale contents stay marked zero
            if hasattr(mod, "dtype"):
                mod.dtype = dtype
        layers_changed()
        return self

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


def layers_changed():
    """Note that a hook or a dtype changed somewhere: containers check their layers again."""
    Layer._generation += 1


def as_float_array(x, owner, what):
    """``x`` as a floating numpy array, or a TypeError naming ``owner`` and ``what``.

    ``owner`` is a layer or a name. Integers become float64; anything else
    non-numeric (strings, objects, complex, bool) is refused rather than
    silently misused. A layer's label is built only for the message, since
    this runs on every forward and backward.
    """
    if type(x) is not np.ndarray:
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as e:
            raise TypeError(f"{_name(owner)}: {what} must be a numeric array ({e})") from None
    kind = x.dtype.kind
    if kind == "f":
        return x
    if kind in "iu":
        return x.astype(np.float64)
    raise TypeError(f"{_name(owner)}: {what} must be a real numeric array, got dtype {x.dtype}")


def _name(owner):
    return owner if isinstance(owner, str) else owner.label()
