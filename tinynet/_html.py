"""HTML tables for tinynet's own results in Jupyter (``ModelSummary``, ``History``): every cell escaped.

tinynet imports nothing from ``diagnostics``, so its two displayed results
render here, in the same shape as ``diagnostics``' tables: ``<th>`` header
cells, numbers right-aligned.
"""

import html


def html_table(header, rows, caption=None, notes=()):
    """A ``<table>`` of ``header`` (strings) and ``rows`` (lists of strings), then ``notes`` as paragraphs."""
    def row(cells, tag):
        return "<tr>" + "".join(
            f'<{tag} style="text-align:{"right" if _numeric(c) else "left"}">{html.escape(c)}</{tag}>'
            for c in cells) + "</tr>"

    caption = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(row(r, "td") for r in rows)
    tail = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
    return f"<table>{caption}<thead>{row(header, 'th')}</thead><tbody>{body}</tbody></table>{tail}"


def _numeric(cell):
    return bool(cell) and cell[:1] in "-+.0123456789" and cell not in ("-", "--", "...")
