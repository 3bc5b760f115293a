"""Table: rows of results that print as aligned columns, and how one number prints.

A value that cannot be computed prints as ``-`` (the table's legend says
why), never as ``nan`` or ``inf``; a magnitude below float range as
``0 (below 1e-300)``; a depth scale that never ends as ``unbounded``.
"""

import html
import math

from .numerics import SMALLEST_LOG10

BELOW = f"0 (below 1e{SMALLEST_LOG10:+.0f})"


class Table:
    """A list of row dicts with fixed columns; ``str(table)`` lines them up.

    ``formats`` maps a column to a format spec (``".3g"``) or a function of
    the value; a missing value, or a float that is not finite, prints as
    ``-`` unless the column's function says otherwise.
    """

    def __init__(self, columns, rows=(), formats=None, title=None):
        self.columns = list(columns)
        self.rows = [dict(r) for r in rows]
        self.formats = dict(formats or {})
        self.title = title

    def append(self, row):
        """Add one row (a dict keyed by column)."""
        self.rows.append(dict(row))

    def column(self, name):
        """The values of one column, in row order."""
        return [r.get(name) for r in self.rows]

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def _cell(self, column, value):
        fmt = self.formats.get(column)
        if callable(fmt):
            return fmt(value)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "-"
        if fmt:
            return format(value, fmt)
        if isinstance(value, float):
            return format(value, ".4g")
        return str(value)

    def _cells(self):
        return [[self._cell(c, r.get(c)) for c in self.columns] for r in self.rows]

    def __str__(self):
        cells = self._cells()
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(self.columns)]

        def line(items):
            # text columns read best left-aligned, numbers right-aligned
            out = []
            for i, item in enumerate(items):
                out.append(item.rjust(widths[i]) if _numeric(item) else item.ljust(widths[i]))
            return "  ".join(out).rstrip()

        lines = [self.title] if self.title else []
        lines.append(line(self.columns))
        lines.extend(line(row) for row in cells)
        return "\n".join(lines)

    __repr__ = __str__

    def to_html(self):
        """The table as HTML: a ``<table>`` whose header cells are ``<th>``, the same cells as ``str()``, escaped."""
        def row(items, tag):
            # numbers right-aligned, as in the text
            return "<tr>" + "".join(
                f'<{tag} class="num">{html.escape(i)}</{tag}>' if _numeric(i) else f"<{tag}>{html.escape(i)}</{tag}>"
                for i in items) + "</tr>"

        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        body = "".join(row(cells, "td") for cells in self._cells())
        return (f'<table class="tinynet">{caption}<thead>{row(self.columns, "th")}</thead>'
                f"<tbody>{body}</tbody></table>")

    _repr_html_ = to_html


def _numeric(cell):
    """Whether a printed cell reads as a number (right-aligned), not as text."""
    return bool(cell) and cell[:1] in "-+.0123456789<" and cell != "-"


class Document(str):
    """A printed report that keeps its parts, so it shows as text and as HTML from one source.

    ``Document(parts)`` is the string of the parts joined by newlines (a
    part is text, a :class:`Table`, or anything with ``_repr_html_``);
    ``to_html()`` renders each table with ``Table.to_html`` and each text as
    a paragraph, everything escaped.
    """

    def __new__(cls, parts):
        parts = [p for p in parts if p is not None]
        self = super().__new__(cls, "\n".join(str(p) for p in parts))
        self.parts = parts
        return self

    def to_html(self):
        """The parts as HTML: tables as ``<table>``, text as ``<p>`` (blank lines dropped)."""
        out = []
        for p in self.parts:
            if hasattr(p, "_repr_html_"):
                out.append(p._repr_html_())
            elif str(p).strip():
                out.append(f"<p>{html.escape(str(p).strip())}</p>")
        return "\n".join(out)

    _repr_html_ = to_html


def format_log10(log10_value, digits=2):
    """Write ``10 ** log10_value`` in scientific notation, beyond float range too.

    ``format_log10(750.3)`` is ``"2.0e+750"``; a magnitude below 1e-300
    (``-inf`` included: exactly 0) is ``"0 (below 1e-300)"``; None, nan
    and +inf, which no measurement gives, are ``"-"``.
    """
    if log10_value is None or math.isnan(log10_value) or log10_value == math.inf:
        return "-"
    if log10_value < SMALLEST_LOG10:
        return BELOW
    exponent = math.floor(log10_value)
    mantissa = 10 ** (log10_value - exponent)
    if round(mantissa, digits - 1) >= 10:  # 9.99 rounds up into the next decade
        mantissa /= 10
        exponent += 1
    return f"{mantissa:.{digits - 1}f}e{exponent:+03d}"


def log10_format(spec):
    """A column format for log10 values: ``spec`` for numbers, ``< -300`` for a magnitude of 0, else ``-``."""
    def fmt(value):
        if value is None or math.isnan(value) or value == math.inf:
            return "-"
        if value < SMALLEST_LOG10:
            return f"<{SMALLEST_LOG10:.0f}"
        return format(value, spec)
    return fmt


def decades_format(spec):
    """A column format for changes in decades: ``-`` where there is none (a gradient already 0, a nan)."""
    def fmt(value):
        return "-" if value is None or not math.isfinite(value) else format(value, spec)
    return fmt


def format_depth_scale(layers):
    """Layers over which the squared gradient norm changes by e: ``unbounded`` at a critical scale."""
    if layers is None or math.isnan(layers):
        return "-"
    return "unbounded" if layers == math.inf else f"{layers:.3g}"


def format_decades(decades, spec="+.2f"):
    """A change in decades, or why it has none: the gradient was already 0 (-inf), or non-finite."""
    if decades is None or math.isnan(decades):
        return "- (not finite)"
    if decades == -math.inf:
        return f"all of it (the gradient becomes {BELOW})"
    return format(decades, spec)


def format_regime(r):
    """A theory ``Regime`` in one line, in words first: ``ordered (gain per layer chi_1 = 0.5, ...)``."""
    return (f"{r.name} (gain per layer chi_1 = {r.chi:.4g}, depth scale {format_depth_scale(r.depth_scale)}"
            f"{'' if r.depth_scale == math.inf else ' layers'}, sigma_w = {r.sigma_w:.6g}, "
            f"sigma_b = {r.sigma_b:.6g})")


def with_spread(value, sd, spec=".2f"):
    """``value ± sd`` (both in ``spec``, the sd unsigned) where the theory gives a spread between networks."""
    if value is None or not math.isfinite(value):
        return log10_format(spec)(value)
    return format(value, spec) if sd is None else f"{value:{spec}} ± {sd:{spec.lstrip('+')}}"
