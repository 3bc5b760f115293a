"""Hook handles, attaching one hook to every layer of a network, and running a layer's hooks."""

import itertools

import numpy as np

_ids = itertools.count()


class RemovableHandle:
    """What registering a hook returns: ``.remove()`` detaches it.

    Also a context manager, so ``with layer.register_forward_hook(fn): ...``
    detaches the hook on leaving the block, even on an exception.
    """

    def __init__(self, registry, hook):
        self._registry = registry
        self.id = next(_ids)
        registry[self.id] = hook

    def remove(self):
        """Detach the hook; removing twice is harmless."""
        self._registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class HandleGroup:
    """Several handles removed together (from :func:`register_hooks`)."""

    def __init__(self, handles):
        self.handles = list(handles)

    def remove(self):
        """Detach every hook of the group."""
        for h in self.handles:
            h.remove()

    def __len__(self):
        return len(self.handles)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_hooks(module, forward=None, backward=None, leaves_only=True):
    """Attach ``forward(layer, x, y)`` and/or ``backward(layer, dx, dy)`` to every layer of ``module``.

    With ``leaves_only`` (the default) layers that have children are
    skipped, so a hook fires once per real layer, not again for each
    container holding it. Returns a :class:`HandleGroup`.
    """
    if not callable(getattr(module, "named_modules", None)):
        raise TypeError(f"register_hooks: module must be a tinynet Layer, got {type(module).__name__}")
    if forward is None and backward is None:
        raise ValueError("register_hooks: give a forward hook, a backward hook or both")
    for kind, hook in (("forward", forward), ("backward", backward)):
        if hook is not None and not callable(hook):
            raise TypeError(f"register_hooks: the {kind} hook must be callable, got {type(hook).__name__}")
    handles = []
    try:
        for layer in module.modules():
            if leaves_only and layer.is_container:
                continue
            if forward is not None:
                handles.append(layer.register_forward_hook(forward))
            if backward is not None:
                handles.append(layer.register_backward_hook(backward))
    except BaseException:  # attached all or none: no hook is left without a handle to remove it
        for handle in handles:
            handle.remove()
        raise
    return HandleGroup(handles)


def with_pre_hooks(layer, x):
    """``x`` after ``layer``'s forward pre-hooks, each of which may replace it."""
    for hook in list(layer._forward_pre_hooks.values()):
        result = hook(layer, x)
        if result is not None:  # a 1-tuple is PyTorch's form of one input
            if type(result) is tuple and len(result) != 1:
                raise TypeError(f"{layer.label()}: forward pre-hook {getattr(hook, '__qualname__', hook)} "
                                f"returned a tuple of {len(result)}; a layer has one input: return an "
                                "array, a 1-tuple or None")
            x = result[0] if type(result) is tuple else result
    return x


def with_forward_hooks(layer, x, y):
    """``y`` after ``layer``'s forward hooks, each of which may replace it (same shape and dtype)."""
    for hook in list(layer._forward_hooks.values()):
        result = hook(layer, x, y)
        if result is not None:
            y = replacement(layer, hook, "forward ", "output", result, y)
    return y


def with_backward_hooks(layer, dx, dy):
    """``dx`` after ``layer``'s backward hooks, each of which may replace it (same shape and dtype)."""
    for hook in list(layer._backward_hooks.values()):
        result = hook(layer, dx, dy)
        if result is not None:
            dx = replacement(layer, hook, "backward ", "dx", result, dx)
    return dx


def with_backward_pre_hooks(layer, dy):
    """``dy`` after ``layer``'s backward pre-hooks, each of which may replace it (same shape and dtype)."""
    for hook in list(layer._backward_pre_hooks.values()):
        result = hook(layer, dy)
        if result is not None:  # a 1-tuple is PyTorch's form of one output gradient
            result = result[0] if type(result) is tuple and len(result) == 1 else result
            dy = replacement(layer, hook, "backward pre-", "dy", result, dy)
    return dy


def replacement(layer, hook, kind, what, value, like):
    """``value`` if it may replace ``like`` (same shape and dtype), else a ValueError naming the hook."""
    if isinstance(value, np.ndarray) and value.shape == like.shape and value.dtype == like.dtype:
        return value
    got = (f"an array of shape {value.shape} and dtype {value.dtype}" if isinstance(value, np.ndarray)
           else f"a {type(value).__name__}")
    raise ValueError(f"{layer.label()}: {kind}hook {getattr(hook, '__qualname__', hook)} returned {got}; "
                     f"a replacement {what} must have shape {like.shape} and dtype {like.dtype}")
