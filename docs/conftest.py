"""The pages that ship as notebooks run as notebooks (tests/test_notebooks.py), not a second time as doctests.

Naming one on the command line still runs its doctest: ``python -m pytest docs/remedies.md``.
"""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "make_notebooks", os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_notebooks.py"))
_make_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_make_notebooks)

collect_ignore = list(_make_notebooks.PAGES)
