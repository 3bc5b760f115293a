"""One figure's life: made outside pyplot, laid out, then returned (for Jupyter) or written whole.

Every figure of ``diagnostics`` goes through ``new_figure`` and ``finish``,
so each one is returned when no path is given, never uses offset notation,
and is written atomically in the format its path's extension names.
"""

import importlib
import os
import sys
import textwrap

from .files import replace_whole

INSTALL_HINT = ("plotting needs matplotlib: pip install matplotlib "
                "(or, from tinynet's source directory, pip install '.[plot]')")


def require_matplotlib():
    """Import matplotlib, or raise ImportError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return matplotlib


def supported_formats():
    """The file extensions matplotlib can write (``png``, ``pdf``, ``svg``, ...)."""
    from matplotlib.figure import Figure

    return sorted(Figure().canvas.get_supported_filetypes())


def check_format(ext):
    """Raise RuntimeError if matplotlib cannot write a figure as ``ext`` here.

    Some formats need a program besides matplotlib (``pgf`` a TeX
    installation): drawing a small figure into memory finds out before any
    work, not after it.
    """
    import io

    fig, ax = new_figure((1, 1))
    try:
        ax.plot([0, 1], [0, 1])
        fig.savefig(io.BytesIO(), format=ext)
    except Exception as e:  # matplotlib's backends raise many kinds; all mean "cannot write this"
        raise RuntimeError(f"matplotlib cannot write .{ext} files here: {str(e).splitlines()[0]:.200}") from None


def new_figure(figsize, rows=1, cols=1, **subplots):
    """A matplotlib ``Figure`` and its axes (``Figure.subplots``), kept out of pyplot's state machine.

    Outside pyplot, a figure returned to Jupyter shows once, not again when
    the cell ends, and a figure written to a file needs no backend or display.
    """
    require_matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **subplots)


def suptitle(fig, title, width_inches):
    """Title ``fig`` with ``title`` (None: no title), wrapped to the figure's width."""
    if title:
        # about 11 characters an inch at this size: wrap rather than run off the figure
        fig.suptitle(textwrap.fill(title, max(30, int(width_inches * 11))))


def finish(fig, path, bottom=0.0):
    """Lay ``fig`` out; return it when ``path`` is None, else write it to ``path`` and return None.

    The file takes the format its extension names and replaces any old one
    whole. ``bottom``: the fraction of the height kept free for a legend of
    the whole figure. No axis uses offset notation: "1e-11+1" hides the values.
    """
    from matplotlib.ticker import ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter):
                axis.get_major_formatter().set_useOffset(False)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    if path is None:
        _displayable_in_jupyter()
        return fig
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    replace_whole(path, lambda tmp: fig.savefig(tmp, dpi=110, format=ext), suffix="." + ext)
    return None


def _displayable_in_jupyter():
    # Jupyter's inline backend tells IPython how to show a Figure when the backend's module loads,
    # which pyplot leaves until it draws a figure of its own: load it, so a returned Figure shows
    if "ipykernel" in sys.modules:
        import matplotlib

        backend = matplotlib.get_backend()
        if backend.startswith("module://"):
            importlib.import_module(backend[len("module://"):])


def integer_ticks(axis):
    """Ticks only at whole numbers on ``axis`` (layers, counts, steps)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
