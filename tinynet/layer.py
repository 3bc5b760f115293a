"""Layer: the one contract every tinynet building block follows.

A subclass writes two methods::

    _forward(x) -> (y, ctx)       ctx: what backward will need, e.g. x itself
    _backward(ctx, dy) -> dx      and param.accumulate(g) for each parameter

``forward(x)`` runs the pre-hooks, checks ``x`` (``_check_input``), calls
``_forward``, runs the forward hooks and, unless inside ``tinynet.no_grad()``,
pushes ``ctx`` and the output's shape and dtype onto ``self._saved``, the one
place where what forward keeps for backward lives. ``backward(dy)`` checks
``dy`` against the newest entry, runs the backward pre-hooks, pops it,
calls ``_backward`` and runs the backward hooks. A stack, so a layer used twice in one pass (weight tying)
keeps an entry per use, which the reversed backward pass consumes newest
first; one stack per thread, so each thread's backward meets its own
forward. A forward that no backward follows leaves its entry behind until
``free_saved()``; forwards piling up past ``HELD_WARNING`` bytes warn
(``PendingBackwardWarning``): run forward-only work in ``with
tinynet.no_grad():``. See docs/backprop.md, "What forward keeps".

A subclass that writes ``forward`` itself instead, calling its sub-layers
as in PyTorch (``return self.fc2(self.act(self.fc1(x)))``), is a chain:
its forward records which sub-layers it called, in order, as its entry,
and its backward calls theirs in reverse. A forward that is not such a
chain fails at once, naming the contract above (see ``tinynet.chain``).

A layer kind is described once, on its class: ``get_config()`` (its
constructor's arguments), ``from_config(config)``, ``state_spec(config)``
(its arrays' names, shapes and dtypes, without building it) and
``reset_parameters(rng)`` (how it draws them); ``tinynet.register_layer``
lets ``save`` and ``load`` find it by name.
"""

import warnings
from collections import defaultdict, namedtuple
from collections.abc import Mapping
from threading import get_ident

import numpy as np

from .checks import as_float_array, check_bool, check_float_dtype, check_rng, nested_too_deep
from .chain import called, replay, traced
from .grad_mode import is_evaluating, is_grad_enabled
from .hooks import (
    RemovableHandle, with_backward_hooks, with_backward_pre_hooks, with_forward_hooks, with_pre_hooks,
)
from .parameter import Parameter

#: Past this many bytes piled up in one thread by forwards whose backward has not run (more than two
#: held by a layer), forward warns, and again at each doubling.
HELD_WARNING = 128 * 2**20
_held = {}  # thread id -> bytes of those piled-up forwards (their inputs and outputs)
_ARRAYS = (np.ndarray, np.generic)  # what _forward's y may be


def _release(thread, nbytes):
    """Uncount ``nbytes`` of piled-up forwards of ``thread`` (0 for a forward that was not counted)."""
    if nbytes:
        _held[thread] -= nbytes


class PendingBackwardWarning(UserWarning):
    """Forwards in grad mode whose backward has not run hold much memory: see ``Layer.free_saved``."""


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns, as PyTorch's ``_IncompatibleKeys``."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class Layer:
    """Base class of layers, activations and containers."""

    def __init__(self):
        self.training = True
        # per thread: one (ctx, output shape, output dtype, bytes) per forward not yet backpropagated
        self._saved = defaultdict(list)
        self._buffers = {}  # buffer name -> persistent (saved in state_dict)
        self._forward_pre_hooks = {}
        self._forward_hooks = {}
        self._backward_hooks = {}
        self._backward_pre_hooks = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # the PyTorch habit: forward written by hand, no _forward; backward retraces its calls
        if "forward" in cls.__dict__ and cls._forward is Layer._forward:
            cls.forward = traced(cls.__dict__["forward"])
            if cls._backward is Layer._backward:
                cls._backward = replay
                cls._sub_passes = called

    # ---- the contract -------------------------------------------------
    def forward(self, x):
        """Compute the output for ``x``; unless in ``no_grad``, keep what backward needs."""
        if self._forward_pre_hooks:
            x = with_pre_hooks(self, x)
        x = self._check_input(x)
        try:
            out = self._forward(x)
        except RecursionError:  # Python's limit, not numpy's or a layer's: say which and what to do
            raise nested_too_deep(type(self).__name__) from None
        if type(out) is not tuple or len(out) != 2 or not isinstance(out[0], _ARRAYS):
            raise TypeError(f"{self.label()}: _forward must return (y, ctx), y an array; got {out!r:.80}")
        y, ctx = out
        if self._forward_hooks:
            y = with_forward_hooks(self, x, y)
        if is_grad_enabled():
            stack = self._saved[get_ident()]
            # two forwards held are a pass in progress (or a tied or siamese one): only what piles
            # up past them is counted, and warned about (_piled), so a training step pays nothing
            stack.append((ctx, y.shape, y.dtype, self._piled(stack, x, y) if len(stack) > 1 else 0))
        return y

    def __call__(self, x):
        return self.forward(x)  # not an alias: it must reach a subclass's forward

    def backward(self, dy):
        """Return ``dx`` for the output gradient ``dy``; add the parameter gradients into ``.grad``.

        ``dy`` has the shape of the newest output not yet backpropagated.
        When that forward had a batch of one, ``dy`` may hold several rows,
        each a separate cotangent: row i of ``dx`` is its vector-Jacobian
        product (backward of the identity gives the input-output Jacobian).
        """
        stack = self._saved[get_ident()]
        if not stack:
            raise RuntimeError(
                f"{self.label()}: backward needs a forward first (in this thread): each backward "
                "consumes what one forward kept, and a forward inside tinynet.no_grad() keeps nothing")
        ctx, shape, dtype, nbytes = stack[-1]
        # numpy keeps one object per builtin dtype: `is` is the quick test, _check_dy the full one
        if type(dy) is not np.ndarray or dy.dtype is not dtype or dy.shape != shape:
            dy = self._check_dy(dy, shape, dtype)  # before the pop: a bad dy consumes nothing
        if self._backward_pre_hooks:
            dy = with_backward_pre_hooks(self, dy)
        stack.pop()
        if nbytes:
            _release(get_ident(), nbytes)
        dx = self._backward(ctx, dy)
        if self._backward_hooks:
            dx = with_backward_hooks(self, dx, dy)
        return dx

    def _piled(self, stack, x, y):
        """Count a forward held past the layer's second (its input and output bytes); warn on a pile.

        Warned as the thread's count first passes ``HELD_WARNING`` and at each doubling after.
        """
        thread, nbytes = get_ident(), x.nbytes + y.nbytes
        held = _held[thread] = _held.get(thread, 0) + nbytes
        if held > HELD_WARNING and held.bit_length() > (held - nbytes).bit_length():
            warnings.warn(
                f"{self.label()}: forwards whose backward has not run hold about {held / 2**20:.0f} MB "
                f"past two a layer in this thread ({len(stack) + 1} of them in this layer): a forward "
                "outside tinynet.no_grad() keeps what its backward needs until a backward consumes it. "
                "Run forward-only work in `with tinynet.no_grad():` or tinynet.predict(net, x), and "
                "call net.free_saved() to drop what forwards with no backward to come kept",
                PendingBackwardWarning, stacklevel=3)
        return nbytes

    def _drop_pass(self):
        """Drop this thread's newest forward pass, here and in the sub-layers it ran: a pass that failed."""
        thread = get_ident()
        stack = self._saved.get(thread)
        if stack:
            ctx, _, _, nbytes = stack.pop()
            _release(thread, nbytes)
            for layer in reversed(self._sub_passes(ctx)):
                layer._drop_pass()

    def _sub_passes(self, ctx):
        """The sub-layers, in call order, whose forwards the forward that kept ``ctx`` ran; a container says."""
        return ()

    def free_saved(self):
        """Drop what forwards in this thread kept for backwards that will not come, here and in every sub-layer.

        What the library's own error paths call (``fit`` on a non-finite loss,
        a container whose backward failed part-way); a backward after it
        needs a new forward. Other threads' forwards are left alone.
        """
        thread = get_ident()
        for layer in self.modules():
            for entry in layer._saved.pop(thread, ()):
                _release(thread, entry[3])

    def __del__(self):
        # a layer dropped with forwards never backpropagated no longer holds them
        try:
            for thread, stack in self.__dict__.get("_saved", {}).items():
                _release(thread, sum(entry[3] for entry in stack))
        except Exception:  # at interpreter exit the module's globals may be gone
            pass

    def _forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement _forward(x) -> (y, ctx), "
                                  "which forward wraps (tinynet.layer states the contract)")

    def _backward(self, ctx, dy):
        raise NotImplementedError(f"{type(self).__name__} does not implement _backward")

    def _check_input(self, x):  # x as _forward expects it, or an error naming the layer
        return x if type(x) is np.ndarray and x.dtype.kind == "f" else as_float_array(self, "input", x)

    def _check_dy(self, dy, shape, dtype):
        dy = as_float_array(self, "dy", dy)
        rows = len(shape) > 0 and shape[0] == 1 and dy.ndim == len(shape) and dy.shape[1:] == shape[1:]
        if dy.shape != shape and not rows:  # rows: several cotangents for a batch of one
            raise ValueError(
                f"{self.label()}: expected dy of shape {shape} (the shape of the output), got {dy.shape}")
        return dy if dy.dtype == dtype else dy.astype(dtype)

    # ---- hooks --------------------------------------------------------
    def register_forward_pre_hook(self, hook):
        """Call ``hook(layer, x)`` before each forward; what it returns (unless None) replaces ``x``."""
        return self._register(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(layer, x, y)`` after each forward; an array it returns (same shape, dtype) is ``y``.

        Backward passes the gradient straight through a replacement: there is
        no autograd to differentiate the hook (a backward hook changes ``dx``).
        """
        return self._register(self._forward_hooks, hook)

    def register_backward_hook(self, hook):
        """Call ``hook(layer, dx, dy)`` after each backward; an array it returns (same shape, dtype) is ``dx``."""
        return self._register(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook):
        """Call ``hook(layer, dy)`` before each backward; an array it returns (same shape, dtype) is ``dy``.

        As PyTorch's: the replacement is the output gradient that this
        layer's backward, and so every layer before it, receives.
        """
        return self._register(self._backward_pre_hooks, hook)

    def _register(self, registry, hook):
        if not callable(hook):
            raise TypeError(f"{self.label()}: a hook must be callable, got {type(hook).__name__}")
        return RemovableHandle(registry, hook)

    # ---- sub-layers, parameters, buffers ------------------------------
    def __setattr__(self, name, value):
        # Parameters and sub-layers are noted as set, as in PyTorch: walks need not search attributes
        members = self.__dict__.setdefault("_members", {})
        if isinstance(value, (Parameter, Layer)):
            if "_saved" not in self.__dict__:  # as PyTorch says, before the layer would fail later
                raise TypeError(f"{type(self).__name__}: call super().__init__() before setting {name!r}")
            members[name] = value
        else:
            members.pop(name, None)
            if value is not None and name in self.__dict__.get("_buffers", ()):
                value = self._buffer_array(name, value)  # as PyTorch: a buffer holds an array or None
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._members.pop(name, None)
        self.__dict__.get("_buffers", {}).pop(name, None)  # deleted, a buffer is forgotten, as in PyTorch
        object.__delattr__(self, name)

    def named_children(self):
        """Yield ``(name, layer)`` for the direct sub-layers: attributes that are Layers, in the order set."""
        return ((name, m) for name, m in self._members.items() if isinstance(m, Layer))

    def children(self):
        """Yield the direct sub-layers."""
        return (child for _, child in self.named_children())

    @property
    def is_container(self):
        """True if this layer has sub-layers."""
        return any(True for _ in self.named_children())

    def named_modules(self, prefix="", remove_duplicate=True):
        """Yield ``(name, layer)`` for this layer and all below, depth first; a layer used twice, once."""
        found, seen = [], set()  # a list by plain recursion: nested generators cost a resume per level
        def walk(name, layer):
            if remove_duplicate and id(layer) in seen:
                return
            seen.add(id(layer))
            found.append((name, layer))
            for child_name, child in layer.named_children():
                walk(f"{name}.{child_name}" if name else child_name, child)
        walk(prefix, self)
        return iter(found)

    def modules(self):
        """Yield this layer and every layer below it, each once."""
        return (m for _, m in self.named_modules())

    def apply(self, fn):
        """Call ``fn`` on every sub-layer (children first, each once), then on this layer; returns self."""
        done = set()

        def visit(layer):
            done.add(id(layer))
            for child in layer.children():
                if id(child) not in done:
                    visit(child)
            fn(layer)
        visit(self)
        return self

    def get_submodule(self, target):
        """The layer at the dotted path ``target`` (``"0.block"``); ``""`` is this layer.

        An AttributeError with PyTorch's words names the first step that is
        missing or is not a layer.
        """
        if not isinstance(target, str):
            raise TypeError(f"{self.label()}: get_submodule needs a dotted name, got {target!r}")
        layer = self
        for item in target.split(".") if target else []:
            children = dict(layer.named_children())  # Sequential's children are not attributes
            if item not in children and not hasattr(layer, item):
                raise AttributeError(f"{type(layer).__name__} has no attribute `{item}`")
            layer = children[item] if item in children else getattr(layer, item)
            if not isinstance(layer, Layer):
                raise AttributeError(f"`{item}` is not a tinynet Layer")
        return layer

    def named_parameters(self, prefix="", recurse=True):
        """Yield ``(name, Parameter)`` for every parameter (e.g. ``"0.weight"``), each once.

        Every attribute that is a ``Parameter``, as in PyTorch: a custom layer
        needs nothing more for it to be trained, zeroed, cast and saved.
        """
        seen = set()
        for mod_name, mod in self.named_modules(prefix) if recurse else [(prefix, self)]:
            for name, value in mod._members.items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{mod_name}.{name}" if mod_name else name), value

    def parameters(self, recurse=True):
        """Yield every ``Parameter`` (only this layer's own with ``recurse=False``), as ``named_parameters``.

        Its own walk, without the names: ``zero_grad`` takes it every training step.
        """
        seen = set()
        for _, mod in self.named_modules() if recurse else [("", self)]:
            for value in mod._members.values():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield value

    def num_parameters(self):
        """The number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    def register_buffer(self, name, array, persistent=True):
        """Keep ``array`` as attribute ``name``: unlearned state, cast by ``to()``, saved if ``persistent``.

        ``array`` None declares an optional buffer, as in PyTorch: the
        attribute is None, and ``buffers()``, ``state_dict()`` and ``to()``
        pass over it until an array is set.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"{self.label()}: a buffer name must be an identifier, got {name!r}")
        if hasattr(self, name) and name not in self._buffers:  # as PyTorch: an attribute, method or property
            raise ValueError(f"{self.label()}: attribute {name!r} already exists and is not a buffer")
        if array is not None:
            array = self._buffer_array(name, np.asarray(array))
        self._buffers[name] = check_bool(self.label(), "persistent", persistent)
        setattr(self, name, array)

    def _buffer_array(self, name, array):
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
            # numeric only: what state_dict, to() and save carry
            got = f"dtype {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
            raise TypeError(f"{self.label()}: buffer {name!r} must be a numeric array or None, got {got}")
        return array

    def named_buffers(self, prefix="", recurse=True):
        """Yield ``(name, array)`` for every buffer, named as parameters are."""
        for mod_name, mod in self.named_modules(prefix) if recurse else [(prefix, self)]:
            for name in mod._buffers:
                if (array := getattr(mod, name)) is not None:  # an optional buffer not set is no buffer yet
                    yield (f"{mod_name}.{name}" if mod_name else name), array

    def buffers(self, recurse=True):
        """Yield every buffer array."""
        return (b for _, b in self.named_buffers(recurse=recurse))

    # ---- state --------------------------------------------------------
    def state_dict(self):
        """``{name: array}`` for every parameter and persistent buffer, named as ``named_parameters``.

        Copies: a snapshot that later training steps, which update in place,
        leave as it was (PyTorch shares its tensors, and ``deepcopy`` takes one).
        """
        return {name: array.copy() for name, array in self._state().items()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy the arrays of ``state_dict`` into the parameters and buffers, in place.

        All is checked first: names missing or unexpected (with ``strict``),
        shapes, dtypes that do not cast; one ValueError lists every problem,
        and nothing changes. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{self.label()}: load_state_dict needs a dict of arrays, "
                            f"got {type(state_dict).__name__}")
        strict = check_bool(self.label(), "strict", strict)
        targets = self._state()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems = [f"{kind} {keys}" for kind, keys in (("missing", missing), ("unexpected", unexpected))
                    if strict and keys]
        found = [k for k in targets if k in state_dict]
        for key in found:
            value, target = state_dict[key], targets[key]
            if not isinstance(value, np.ndarray):
                problems.append(f"{key!r} is a {type(value).__name__}, not a numpy array")
            elif value.shape != target.shape:
                problems.append(f"{key!r} has shape {value.shape}, expected {target.shape}")
            elif not np.can_cast(value.dtype, target.dtype, casting="same_kind"):
                problems.append(f"{key!r} has dtype {value.dtype}, which does not cast to {target.dtype}")
        if problems:
            raise ValueError(f"{self.label()}: cannot load the state dict: {'; '.join(problems)}")
        for key in found:
            targets[key][...] = state_dict[key]
        return IncompatibleKeys(missing, unexpected)

    def _state(self):
        """``{name: array}``: parameters, then persistent buffers, layer by layer (PyTorch's order)."""
        state, seen = {}, set()
        for mod_name, mod in self.named_modules():
            prefix = f"{mod_name}." if mod_name else ""
            for name, p in mod.named_parameters(recurse=False):
                if id(p) not in seen:
                    seen.add(id(p))
                    state[prefix + name] = p.data
            state.update((prefix + name, getattr(mod, name)) for name, keep in mod._buffers.items()
                         if keep and getattr(mod, name) is not None)
        return state

    # ---- modes, gradients, dtype --------------------------------------
    @property
    def training(self):
        """True in training mode, False in eval mode; False for every layer inside ``predict`` and
        ``evaluate`` in the thread running them (``tinynet.grad_mode.evaluating``)."""
        return self._training and not is_evaluating()

    @training.setter
    def training(self, mode):
        self._training = mode

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
        """Cast every parameter, gradient and floating buffer to ``dtype``, in place; returns self."""
        dtype = check_float_dtype(self.label(), "dtype", dtype)
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            if p.grad is not None:
                p.grad = p.grad.astype(dtype)
        for m in self.modules():
            for name in m._buffers:
                if getattr(m, name) is not None and getattr(m, name).dtype.kind == "f":
                    setattr(m, name, getattr(m, name).astype(dtype))
            if hasattr(m, "dtype"):
                m.dtype = dtype
        return self

    def double(self):
        """``to(np.float64)``, as PyTorch's ``double()``; returns self."""
        return self.to(np.float64)

    def float(self):
        """``to(np.float32)``, as PyTorch's ``float()``; returns self."""
        return self.to(np.float32)

    def half(self):
        """``to(np.float16)``, as PyTorch's ``half()``; returns self."""
        return self.to(np.float16)

    def reset_parameters(self, rng=None):
        """Draw every parameter again from its initializer, in place, layer by layer in order.

        In the constructors' order, so the same ``rng`` state gives the numbers
        a network built anew would hold. A custom layer with parameters overrides this.
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
        state["_saved"] = defaultdict(list)
        return state

    # ---- description --------------------------------------------------
    def get_config(self):
        """The constructor arguments, JSON-able, that rebuild this layer's architecture."""
        return {}

    @classmethod
    def from_config(cls, config):
        """A new layer built from ``config``, a dict as ``get_config()`` returns: ``cls(**config)``."""
        return cls(**config)

    @classmethod
    def state_spec(cls, config):
        """``{name: (shape, dtype)}`` of the arrays a layer built from ``config`` holds itself.

        Its parameters and persistent buffers (its children's are theirs),
        worked out without building it, so that ``load`` can check a file's
        arrays before allocating anything: a file may claim any size. A
        layer with parameters overrides it; the default is none.
        """
        return {}

    def extra_repr(self):
        """What goes between the parentheses of the repr."""
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())

    def label(self):
        """A short name for error messages, e.g. ``Linear(100 -> 10)``."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self):
        children = [f"  ({name}): " + indented_repr(child) for name, child in self.named_children()]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        extra = [f"  {self.extra_repr()}"] if self.extra_repr() else []
        return "\n".join([f"{type(self).__name__}(", *extra, *children, ")"])


def indented_repr(layer):
    """``repr(layer)`` with its lines after the first indented, as a container shows a sub-layer.

    A nesting deeper than Python's recursion limit is the ValueError forward
    raises, not a RecursionError from the middle of a repr.
    """
    try:
        return repr(layer).replace("\n", "\n  ")
    except RecursionError:
        raise nested_too_deep(type(layer).__name__) from None
