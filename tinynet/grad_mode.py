"""Grad mode: whether a forward keeps what its backward will need.

``with tinynet.no_grad():`` switches it off, as ``torch.no_grad`` does:
forwards inside keep nothing, so forward-only work (evaluation, prediction,
a look at a layer's output) leaves nothing behind, and a backward of such a
forward is a clear error. The flag is per thread, as PyTorch's is.
"""

import functools
import threading

class _GradMode(threading.local):
    enabled = True  # each thread starts with grad mode on


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
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        return wrapper
