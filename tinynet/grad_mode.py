"""Grad mode: whether a forward keeps what its backward will need.

``with tinynet.no_grad():`` switches it off, as ``torch.no_grad`` does:
forwards inside keep nothing, so forward-only work (evaluation, prediction,
a look at a layer's output) leaves nothing behind, and a backward of such a
forward is a clear error. The flag is per thread, as PyTorch's is.
"""

import contextlib
import functools
import inspect
import threading

class _GradMode(threading.local):
    enabled = True  # each thread starts with grad mode on
    evaluating = False  # inside evaluating(): every layer reads training as False, in this thread only


_state = _GradMode()


def is_grad_enabled():
    """True unless inside ``with no_grad():`` (in this thread)."""
    return _state.enabled


class no_grad:
    """Context manager (or decorator): forwards inside it keep nothing for backward.

    Leaving the block restores the previous mode, also on an exception, so
    blocks nest.
    """

    def __enter__(self):
        self._previous = is_grad_enabled()
        _state.enabled = False

    def __exit__(self, *exc):
        _state.enabled = self._previous

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return _each_step_without_grad(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        return wrapper


def _each_step_without_grad(fn):
    """A generator function whose every step runs inside ``no_grad``, and its caller's between steps.

    Calling a generator function runs none of its body, so the plain wrapper
    would leave the body in grad mode; as PyTorch's decorator, this one
    enters no_grad around each resumption instead.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        gen = fn(*args, **kwargs)
        resume = functools.partial(gen.send, None)
        while True:
            try:
                with no_grad():
                    value = resume()
            except StopIteration as stop:
                return stop.value
            try:
                resume = functools.partial(gen.send, (yield value))
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as e:  # thrown in by the caller: into the generator, as written
                resume = functools.partial(gen.throw, e)
    return wrapper


@contextlib.contextmanager
def evaluating():
    """Within the block, in this thread only, every layer runs as in eval mode and keeps nothing.

    What ``predict``, ``evaluate`` and ``summary`` use: no layer's ``training``
    flag is changed, so another thread training the same network meanwhile
    keeps its mode, and each layer's own mode (a BatchNorm frozen in eval) is
    there after the block as before.
    """
    previous = _state.evaluating
    _state.evaluating = True
    try:
        with no_grad():
            yield
    finally:
        _state.evaluating = previous


def is_evaluating():
    """True inside ``evaluating()`` in this thread."""
    return _state.evaluating
