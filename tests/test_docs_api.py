"""Every public name of tinynet and diagnostics has an entry in docs/api.md."""

import importlib
import pathlib
import re
import types

import pytest

import tinynet

API = pathlib.Path(__file__).resolve().parent.parent / "docs" / "api.md"

# modules whose public names must all be documented; for the diagnostics modules
# (which import helpers such as ``dataclass``) only names defined in the package count
MODULES = ["tinynet", "tinynet.init", "diagnostics.recorders", "diagnostics.probes",
           "diagnostics.deep", "diagnostics.experiments", "diagnostics.table", "diagnostics.monitor",
           "diagnostics.spectrum", "diagnostics.theory", "diagnostics.numerics", "diagnostics.report",
           "diagnostics.parallel", "diagnostics.blas", "diagnostics.plot", "diagnostics.files", "diagnostics.display",
           "diagnostics.html"]


def public_names(module_name):
    module = importlib.import_module(module_name)
    names = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            continue
        origin = getattr(obj, "__module__", None)
        if module_name.startswith("diagnostics") and isinstance(origin, str) and not (
                origin.startswith("diagnostics") or origin.startswith("tinynet")):
            continue  # imported from the standard library or numpy
        names.append(name)
    return names


def documented(name, text):
    # the name in a code span, alone or qualified (`tn.init.Normal(...)`)
    return re.search(r"`(?:[A-Za-z_]\w*\.)*" + re.escape(name) + r"(?![\w])", text) is not None


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_in_api_md(module_name):
    text = API.read_text(encoding="utf-8")
    names = public_names(module_name)
    assert names, f"{module_name} exports no public names?"
    missing = [n for n in names if not documented(n, text)]
    assert not missing, f"docs/api.md has no entry for {module_name}: {', '.join(missing)}"


def test_the_check_can_fail():
    assert not documented("NoSuchName", API.read_text(encoding="utf-8"))
    assert documented("Linear", "- `tn.Linear(in_features, ...)`: ...")
    assert not documented("Linear", "- `tn.LinearThing()`")


def test_submodules_are_excluded_but_real_names_are_not():
    names = public_names("tinynet")
    assert "Linear" in names and "gradcheck" in names
    assert "init" not in names and "activations" not in names
    assert "dataclass" not in public_names("diagnostics.probes")
    assert "SATURATION_THRESHOLD" in public_names("diagnostics.recorders")
    assert tinynet.Linear.__module__ == "tinynet.linear"
