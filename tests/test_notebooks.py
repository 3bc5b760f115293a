"""The notebooks made from docs pages are current, and run top to bottom in a fresh kernel with the outputs the pages state."""

import doctest
import importlib.util
import os
import pathlib
import re
import sys

import nbclient
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager

import tinynet

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "docs" / "make_notebooks.py")
make_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_notebooks)


class ThisInterpreter(KernelSpecManager):
    """Every kernel name means this interpreter, so a notebook runs on what the test runs on.

    RuntimeWarnings are errors there, as setup.cfg makes them for the doctests.
    """

    def get_kernel_spec(self, kernel_name):
        argv = [sys.executable, "-W", "error::RuntimeWarning", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        return KernelSpec(argv=argv, display_name=f"Python ({sys.executable})", language="python")


def checker_and_flags(config):
    """pytest's doctest checker and setup.cfg's option flags: NUMBER is pytest's, not doctest's."""
    from _pytest.doctest import _get_checker, get_optionflags

    return _get_checker(), get_optionflags(config)


WARNING = re.compile(r"^.*\b\w*Warning: .*$", re.M)  # how Python shows a warning: "file:line: SomeWarning: message"


def shown(cell):
    """What a code cell showed as text: its stdout, then each result's text/plain, as doctest sees it."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream" and output.name == "stdout":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data") and "text/plain" in output.data:
            parts.append(output.data["text/plain"] + "\n")
    return "".join(parts)


@pytest.mark.parametrize("page", make_notebooks.PAGES)
def test_notebook_is_made_from_its_page(page):
    path = make_notebooks.notebook_path(page)
    with open(path, encoding="utf-8") as f:
        committed = f.read()
    assert committed == make_notebooks.notebook_text(page), f"{path} is out of date: run python docs/make_notebooks.py"
    nbformat.validate(nbformat.reads(committed, as_version=4))


def test_every_notebook_has_its_page():
    made = {os.path.basename(make_notebooks.notebook_path(page)) for page in make_notebooks.PAGES}
    assert set(os.listdir(make_notebooks.NOTEBOOKS)) == made


@pytest.mark.parametrize("page", make_notebooks.PAGES)
def test_notebook_runs_and_shows_what_its_page_states(page, request, monkeypatch, tmp_path):
    # the kernel imports the tinynet this test imported, installed or not
    here = os.path.dirname(os.path.dirname(tinynet.__file__))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    path = make_notebooks.notebook_path(page)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys, tinynet\nprint(sys.executable)\nprint(tinynet.__file__)"))
    # local sockets, not TCP ports, on a machine shared with other test runs
    km = KernelManager(kernel_spec_manager=ThisInterpreter(), transport="ipc", ip=str(tmp_path / "kernel"))
    client = nbclient.NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": make_notebooks.NOTEBOOKS}})
    try:
        client.execute()
    finally:  # nbclient leaves a kernel it was handed running
        if km.has_kernel:
            km.shutdown_kernel(now=True)

    checker, flags = checker_and_flags(request.config)
    stated = [c for c in make_notebooks.page_cells((ROOT / "docs" / page).read_text(encoding="utf-8"), page)
              if c.kind == "code"]
    *ran, which = [c for c in nb.cells if c.cell_type == "code"]
    assert shown(which).split("\n")[:2] == [sys.executable, tinynet.__file__], "the kernel is not this interpreter"
    assert len(ran) == len(stated)
    differences = []
    for number, (cell, page_cell) in enumerate(zip(ran, stated), 1):
        cell_flags = flags
        for flag, on in page_cell.options:
            cell_flags = cell_flags | flag if on else cell_flags & ~flag
        got = shown(cell)
        if not checker.check_output(page_cell.want, got, cell_flags):
            example = doctest.Example(page_cell.source, page_cell.want)
            differences.append(f"code cell {number}:\n{page_cell.source}\n"
                               + checker.output_difference(example, got, cell_flags))
        # a reader sees stderr too: a warning there is a defect even when stdout is right
        stderr = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
        differences.extend(f"code cell {number} shows a warning: {w}" for w in WARNING.findall(stderr))
    if differences:
        pytest.fail(f"{path}:\n" + "\n".join(differences), pytrace=False)


PAGE = '''# A page

See [theory](theory.md#a-part), [below](#the-part) and ![a figure](figures/f.png).

```python
>>> a = 1
>>> b = [a,
...      2]
>>> print(b)  # doctest: +ELLIPSIS
[1, ...]
>>> c = a

```

```text
$ python -m diagnostics lecture
```

## The part
'''


def test_a_page_becomes_markdown_and_code_cells_without_prompts():
    cells = make_notebooks.page_cells(PAGE)
    assert [c.kind for c in cells] == ["markdown", "code", "code", "markdown"]
    intro, shown_cell, silent, rest = cells
    assert intro.source == ("# A page\n\nSee [theory](../docs/theory.md#a-part), [below](#The-part) "
                            "and ![a figure](../docs/figures/f.png).")
    assert shown_cell.source == "a = 1\nb = [a,\n     2]\nprint(b)"  # the directive goes; its flag stays
    assert shown_cell.want == "[1, ...]\n" and shown_cell.options == ((doctest.ELLIPSIS, True),)
    assert (silent.source, silent.want) == ("c = a", "")
    assert rest.source == "```text\n$ python -m diagnostics lecture\n```\n\n## The part"


def test_an_example_no_cell_would_run_is_an_error():
    with pytest.raises(ValueError, match="1 >>> example"):
        make_notebooks.page_cells(PAGE + "\n```text\n>>> 1 + 1\n2\n```\n")
