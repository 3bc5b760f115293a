"""The path from argv to output goes one way: no import circle, and nothing imports the command line."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "diagnostics"


def imports():
    """{module: set of diagnostics modules it imports, anywhere in its files}, a subpackage as one module."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name, package = parts[0], list(parts[:-1])  # the top-level module, and the package of this file
        found = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                # ``from ..x import y`` in diagnostics/experiments/ means diagnostics.x
                target = package[:len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
                if target:
                    found.add(target[0])
                else:
                    found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("diagnostics."):
                found.add(node.module.split(".")[1])
    return {name: found - {name} for name, found in graph.items()}


def cycle(graph):
    """One import circle as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_nothing_imports_the_command_line_but_main():
    importers = sorted(m for m, deps in imports().items() if "cli" in deps)
    assert importers == ["__main__"]


def test_no_import_circle():
    assert cycle(imports()) is None


def test_the_circle_check_can_fail():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_the_layers_point_one_way():
    graph = imports()
    # experiments compute, report and plot present: report never imports what computes; a result
    # shows itself in Jupyter through report's tables (its _repr_html_), so experiments may use report
    assert not graph["report"] & {"experiments", "plot", "parallel", "theory"}
    assert not graph["display"] & {"experiments", "plot", "parallel", "theory"}
    assert not graph["experiments"] & {"plot", "parallel"}
    assert not graph["numerics"]


def test_the_repository_describes_the_lecture_itself():
    root = PACKAGE.parent
    files = [p for d in ("diagnostics", "tinynet", "docs", "tests", "benchmarks") for p in (root / d).rglob("*")
             if p.suffix in (".py", ".md")] + [root / "README.md"]
    this = pathlib.Path(__file__).resolve()
    outside = [str(p.relative_to(root)) for p in files if p.resolve() != this
               and ("EXPERIMENTS" + ".md" in p.read_text() or "../" + "shared" in p.read_text())]
    assert outside == []
