"""The docs' relative links and figures point at things that exist."""

import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def prose(path):
    """The page's lines outside fenced code blocks, with inline code removed."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(re.sub(r"`[^`]*`", "", line))
    return lines


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    found, seen, fenced = set(), {}, False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            base = slug(line.lstrip("#"))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(path):
    for line in prose(path):
        for target in LINK.findall(line):
            if not re.match(r"[a-z]+:", target):  # http:, https:, mailto: are not checked
                yield target


def test_there_are_pages():
    assert {p.name for p in PAGES} >= {"index.md", "tutorial-numerical-stability.md", "backprop.md",
                                       "initialization.md", "diagnostics.md", "command-line.md",
                                       "api.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    broken = []
    for target in links(page):
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading with that anchor)")
    assert not broken, f"{page.name}: broken links: {broken}"


def test_every_figure_is_used_and_made_by_the_script():
    figures = {p.name for p in (DOCS / "figures").glob("*.png")}
    used = {pathlib.PurePosixPath(t).name for p in PAGES for t in links(p) if t.endswith(".png")}
    script = (DOCS / "make_figures.py").read_text(encoding="utf-8")
    assert used <= figures, f"figures linked but missing: {used - figures}"
    assert figures <= used, f"figures no page shows: {figures - used}"
    assert all(name in script for name in figures), "make_figures.py does not make every figure"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_with_figures_say_how_to_remake_them(page):
    if any(t.endswith(".png") for t in links(page)):
        assert "python docs/make_figures.py" in page.read_text(encoding="utf-8")


def test_slug_matches_github():
    assert slug("Checking a backward pass: `tn.gradcheck`") == "checking-a-backward-pass-tngradcheck"
    assert slug("3. The whole lecture at once") == "3-the-whole-lecture-at-once"
    assert slug("Text forms: `from_spec`") == "text-forms-from_spec"
