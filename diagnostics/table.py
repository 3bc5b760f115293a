"""Table: rows of results that print as aligned columns."""

import math


class Table:
    """A list of row dicts with fixed columns; ``str(table)`` lines them up.

    ``formats`` maps a column to a format spec (``".3g"``) or a function of
    the value; a missing value prints as ``-``.
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
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        fmt = self.formats.get(column)
        if callable(fmt):
            return fmt(value)
        if fmt:
            return format(value, fmt)
        if isinstance(value, float):
            return format(value, ".4g")
        return str(value)

    def __str__(self):
        cells = [[self._cell(c, r.get(c)) for c in self.columns] for r in self.rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(self.columns)]

        def line(items):
            # text columns read best left-aligned, numbers right-aligned
            out = []
            for i, item in enumerate(items):
                numeric = item[:1] in "-+.0123456789" and item != "-"
                out.append(item.rjust(widths[i]) if numeric else item.ljust(widths[i]))
            return "  ".join(out).rstrip()

        lines = [self.title] if self.title else []
        lines.append(line(self.columns))
        lines.extend(line(row) for row in cells)
        return "\n".join(lines)

    __repr__ = __str__


def format_log10(log10_value, digits=2):
    """Write ``10 ** log10_value`` in scientific notation, beyond float range too.

    ``format_log10(750.3)`` is ``"2.0e+750"``; ``-inf`` is ``"0"``.
    """
    if log10_value is None or math.isnan(log10_value):
        return "nan"
    if log10_value == -math.inf:
        return "0"
    if log10_value == math.inf:
        return "inf"
    exponent = math.floor(log10_value)
    mantissa = 10 ** (log10_value - exponent)
    if round(mantissa, digits - 1) >= 10:  # 9.99 rounds up into the next decade
        mantissa /= 10
        exponent += 1
    return f"{mantissa:.{digits - 1}f}e{exponent:+03d}"


def float_from_log10(log10_value):
    """``10 ** log10_value`` as a float; 0.0 for -inf, None where it lies beyond float64's range."""
    if log10_value is None or not -300 < log10_value < 300:
        return 0.0 if log10_value == -math.inf else None
    return 10.0 ** log10_value
