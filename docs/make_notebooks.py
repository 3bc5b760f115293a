"""Make notebooks/<page>.ipynb from docs pages: ``python docs/make_notebooks.py`` from the repository root.

The page is the one source. Its prose becomes markdown cells; each run of
``>>>`` examples, up to and including one that states an output, becomes one
code cell without prompts. ``tests/test_notebooks.py`` checks that the
committed notebooks are exactly what this makes, runs each in a fresh kernel,
and compares every cell's output with the output the page states.
"""

import doctest
import json
import os
import re
import sys
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NOTEBOOKS = os.path.join(ROOT, "notebooks")

# the pages that ship as notebooks; their doctests run only as notebooks (docs/conftest.py)
PAGES = ["tutorial-numerical-stability.md", "remedies.md", "trainability.md", "custom-layers.md"]

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)
DIRECTIVE = re.compile(r"[ \t]*#\s*doctest:[^\n]*$", re.M)  # doctest's own syntax, as in doctest._OPTION_DIRECTIVE_RE
LINK = re.compile(r"(\]\()(?!https?:|mailto:|#)([^)\s]+)\)")
HEADING = re.compile(r"^#+ +(.+?) *$", re.M)


@dataclass(frozen=True)
class Cell:
    """One notebook cell: ``kind`` "markdown" or "code"; a code cell's stated output and doctest directives."""
    kind: str
    source: str
    want: str = ""
    options: tuple = ()  # (doctest flag, on) pairs from the example's ``# doctest:`` comment


def github_anchor(heading):
    """The anchor GitHub gives a heading (what the pages link to): lower case, punctuation dropped."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def jupyter_anchor(heading):
    """The anchor Jupyter gives a heading: its rendered text with spaces as hyphens."""
    return heading.replace("`", "").replace(" ", "-")


def _markdown(text, anchors):
    """Prose for a notebook in notebooks/: relative links point back into docs/, in-page anchors are Jupyter's."""
    text = LINK.sub(lambda m: f"{m.group(1)}../docs/{m.group(2)})", text)
    return re.sub(r"\]\(#([^)\s]+)\)", lambda m: f"](#{anchors.get(m.group(1), m.group(1))})", text)


def _code_cells(examples):
    """The code cells of one ``>>>`` block: examples up to one with stated output form a cell."""
    cells, sources = [], []
    for example in examples:
        sources.append(DIRECTIVE.sub("", example.source))
        if example.want:
            options = tuple(sorted(example.options.items()))
            cells.append(Cell("code", "".join(sources).rstrip("\n"), example.want, options))
            sources = []
    if sources:
        cells.append(Cell("code", "".join(sources).rstrip("\n")))
    return cells


def page_cells(text, name="page"):
    """The cells a page makes, in order; ValueError if the page has an example no cell would run."""
    parser = doctest.DocTestParser()
    anchors = {github_anchor(h): jupyter_anchor(h) for h in HEADING.findall(text)}
    cells, start, examples = [], 0, 0
    for fence in FENCE.finditer(text):
        language, body = fence.group(1), fence.group(2)
        if language != "python" or not body.lstrip().startswith(">>>"):
            continue
        markdown = text[start:fence.start()].strip()
        if markdown:
            cells.append(Cell("markdown", _markdown(markdown, anchors)))
        start = fence.end()
        block = parser.get_examples(body, name)
        examples += len(block)
        cells.extend(_code_cells(block))
    markdown = text[start:].strip()
    if markdown:
        cells.append(Cell("markdown", _markdown(markdown, anchors)))
    # the doctest runs every >>> in the file; the notebook must run the same examples
    outside = len(parser.get_examples(text, name)) - examples
    if outside:
        raise ValueError(f"{name}: {outside} >>> example(s) outside a ```python block that starts with >>>: "
                         "the doctest would run them, the notebook would not")
    return cells


def notebook(page):
    """The notebook for ``page`` (a file name in docs/), as a JSON-ready dict in nbformat 4."""
    with open(os.path.join(HERE, page), encoding="utf-8") as f:
        text = f.read()
    header = (f"*Made from [docs/{page}](../docs/{page}) by `python docs/make_notebooks.py`: "
              "edit the page, not this notebook. Run the cells in order in one kernel.*")
    cells = [Cell("markdown", header), *page_cells(text, page)]
    return {
        "cells": [_cell_json(c, i) for i, c in enumerate(cells)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _cell_json(cell, index):
    """A cell in nbformat 4.5, numbered so the file is the same each time it is made."""
    lines = cell.source.splitlines(keepends=True)
    common = {"cell_type": cell.kind, "id": f"cell-{index}", "metadata": {}, "source": lines}
    if cell.kind == "code":
        return {**common, "execution_count": None, "outputs": []}
    return common


def notebook_text(page):
    """The notebook for ``page`` as the exact text written to notebooks/."""
    return json.dumps(notebook(page), indent=1, ensure_ascii=False) + "\n"


def notebook_path(page):
    """Where the notebook for ``page`` lives: notebooks/<page without .md>.ipynb."""
    return os.path.join(NOTEBOOKS, page[:-len(".md")] + ".ipynb")


def main():
    """Write every page's notebook."""
    os.makedirs(NOTEBOOKS, exist_ok=True)
    for page in PAGES:
        path = notebook_path(page)
        with open(path, "w", encoding="utf-8") as f:
            f.write(notebook_text(page))
        print("wrote", os.path.relpath(path, ROOT))


if __name__ == "__main__":
    sys.exit(main())
