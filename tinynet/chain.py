"""A forward written by hand, as in PyTorch, run backward: the sub-layers it called, in reverse.

``Layer`` applies ``traced`` to the ``forward`` of a subclass that writes
``forward`` and no ``_forward``, and makes ``replay`` its ``_backward``.
"""

import functools
from threading import get_ident

from .grad_mode import is_grad_enabled
from .hooks import with_forward_hooks, with_pre_hooks


def traced(forward):
    """``forward``, written by hand, made to keep the sub-layers it calls as its entry in ``_saved``.

    Hooks on each direct sub-layer note each call: its input and output. Backward can
    retrace them only if they form a chain (each call takes the previous
    one's output, the first takes ``x``, the last one's output is returned),
    which identity of the arrays shows; anything else (a skip connection, a
    sum, arithmetic between calls) is refused here, at the first forward,
    rather than answered wrongly at backward.
    """
    @functools.wraps(forward)
    def run(self, x):
        if self.__dict__.get("_tracing"):  # a subclass's forward calling super().forward
            return forward(self, x)
        x = with_pre_hooks(self, x)
        calls, children = [], {id(c): c for c in self.children()}.values()  # each once
        handles = [child.register_forward_pre_hook(lambda layer, x_in: calls.append([layer, x_in, None]))
                   for child in children]
        handles += [child.register_forward_hook(lambda layer, x_in, y: calls[-1].__setitem__(2, y))
                    for child in children]
        self._tracing = True
        try:
            y = forward(self, x)
        except BaseException:
            if is_grad_enabled():  # the calls that finished kept their passes for a backward that won't come
                for layer, _, _ in reversed([c for c in calls if c[2] is not None]):
                    layer._drop_pass()
            raise
        finally:
            self._tracing = False
            for h in handles:
                h.remove()
        if not is_grad_enabled():
            return with_forward_hooks(self, x, y)
        chain = calls and calls[0][1] is x and calls[-1][2] is y and all(
            now[1] is before[2] for before, now in zip(calls, calls[1:]))
        if not chain:
            for layer, _, _ in reversed(calls):  # what the sub-layers kept is of no use now
                layer._drop_pass()
            raise TypeError(
                f"{self.label()}: its forward is not a chain of its sub-layers, so tinynet cannot "
                "run it backward: a forward written by hand must pass x through sub-layers held as "
                "attributes, each taking the previous one's output, and return the last one's, as "
                "in `return self.fc2(self.act(self.fc1(x)))`. For anything else (a skip connection, "
                "a sum, arithmetic between calls) write _forward(x) -> (y, ctx) and "
                "_backward(ctx, dy) instead of forward, or build it from Sequential and Residual")
        y = with_forward_hooks(self, x, y)
        # the sub-layers count their own bytes
        self._saved[get_ident()].append(([layer for layer, _, _ in calls], y.shape, y.dtype, 0))
        return y
    return run


def replay(self, calls, dy):
    """Backward of a traced forward: the sub-layers' backwards, newest call first."""
    for done, layer in enumerate(reversed(calls)):
        try:
            dy = layer.backward(dy)
        except BaseException:  # the calls before it in the forward keep passes no backward will consume
            for earlier in reversed(calls[:len(calls) - 1 - done]):
                earlier._drop_pass()
            raise
    return dy


def called(self, calls):
    """What a traced forward kept: the sub-layers it called, in order (``Layer._sub_passes``)."""
    return calls
