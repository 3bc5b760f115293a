"""The ``--html`` report: one self-contained page to share, with the table, its legend and the figure.

The page needs nothing else to show: its CSS is inline, the figure is an
SVG inside the page (a ``data:`` URI), there is no script, and its content
security policy lets the browser load nothing from anywhere. It names the
command that made it and tinynet's version. The tables and legends are
the ones the command prints (``Document.to_html``).
"""

import base64
import html
import os
import tempfile

import tinynet

from . import plot

#: Nothing may load from anywhere: only the page's own style and its inline figure.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; }
p.made { color: #555; }
code { background: #f3f3f3; padding: 0.1em 0.3em; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left; }
th { border-bottom: 2px solid #888; }
.num { text-align: right; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; }
p.missing { border-left: 4px solid #c80; padding-left: 0.8em; }
"""


def figure_svg(draw):
    """The SVG text of the figure ``draw(path)`` writes; ImportError, saying how to install it, without matplotlib."""
    plot.require_matplotlib()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "figure.svg")
        draw(path)
        with open(path, encoding="utf-8") as f:
            return f.read()


def figure_html(draw, alt, no_figure=None):
    """The ``<figure>`` of ``draw`` with ``alt`` text; without one (``draw`` None), why not, in words.

    Without matplotlib the page says that the figure needs it, and keeps its tables.
    """
    if draw is None:
        return f'<p class="missing">No figure: {html.escape(no_figure or "there is nothing to draw")}.</p>'
    try:
        svg = figure_svg(draw)
    except ImportError as e:
        return f'<p class="missing">No figure: {html.escape(str(e))}.</p>'
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    # no caption: the figure carries its own title, and the alt text says what it shows
    return f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}"></figure>'


def page(title, command, document, draw=None, alt="", no_figure=None):
    """The whole page: ``title``, the ``command`` that made it, ``document``'s tables and legend, the figure.

    ``document``: a :class:`~diagnostics.table.Document` (or anything with
    ``to_html``); ``draw(path)`` writes the figure, ``alt`` describes it;
    ``no_figure`` says why there is none when ``draw`` is None.
    """
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>",
        "<body><main>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="made">Made by <code>{html.escape(command)}</code> with tinynet '
        f"{html.escape(tinynet.__version__)}.</p>",
        document.to_html(),
        figure_html(draw, alt, no_figure),
        "</main></body></html>",
        ""])
