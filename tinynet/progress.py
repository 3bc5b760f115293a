"""Progress bars for long work: ``tqdm.auto``, on a terminal and in Jupyter, or nothing at all."""

import sys
import warnings


class _NoBar:
    """What ``progress_bar`` returns when nothing is shown: iterates, updates and closes silently."""

    def __init__(self, iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n=1):
        pass

    def set_description(self, *args, **kwargs):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def _in_jupyter():
    # a Jupyter kernel's stderr is not a terminal, yet shows what is written to it
    return type(sys.stderr).__module__.startswith("ipykernel")


def progress_bar(iterable=None, total=None, desc=None, enabled=True, unit="it", leave=False):
    """A ``tqdm.auto`` bar over ``iterable`` (or ``total`` steps), or a silent stand-in.

    Shown on a terminal and in Jupyter (a widget with ipywidgets, text
    without); not where stderr is a file or a pipe (logs), as tqdm does.
    ``enabled=False``, or tqdm not installed: nothing is shown, and the
    returned object still iterates, ``update``\\ s, ``set_postfix``\\ es and ``close``\\ s.
    """
    if not enabled:
        return _NoBar(iterable)
    try:
        with warnings.catch_warnings():
            # without ipywidgets, tqdm.auto warns once and draws text, which Jupyter shows as well
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        return _NoBar(iterable)
    # disable=None: tqdm switches itself off when stderr is not a terminal
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, dynamic_ncols=True,
                disable=False if _in_jupyter() else None)
