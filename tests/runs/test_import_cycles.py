"""No two modules of clinai import each other, not even through a lazy import in a function.

import-linter's layer contracts check the direction between packages; a circle between two
modules of one package (``runs/_check_data.py`` <-> ``runs/_prepare.py`` before) passes them,
yet makes the import order matter and hides which module owns what. This test reads every
``import`` statement of ``src/clinai`` (module level, in functions and under TYPE_CHECKING) and
fails on any circle between modules. Edges into a package's ``__init__`` (which only
re-exports) are not followed, so ``from clinai import data`` does not count as a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import clinai

SRC = Path(clinai.__file__).resolve().parent


def _modules(root: Path) -> dict[str, Path]:
    modules = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the clinai modules it imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    deps.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                deps |= {alias.name for alias in node.names}
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _circles(graph: dict[str, set[str]], packages: set[str]) -> list[list[str]]:
    """Each module that can reach itself, with one path (package inits are not followed)."""
    found = []
    for start in sorted(graph):
        if start in packages:
            continue
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            if start in graph[node]:
                found.append([*path, start])
                break
            for nxt in sorted(graph[node] - seen - packages):
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return found


def test_the_circle_finder_finds_a_lazy_circle() -> None:
    graph = {"a._x": {"a._y"}, "a._y": {"a._x", "a"}, "a": {"a._x"}, "a._z": {"a"}}
    assert _circles(graph, {"a"}) == [["a._x", "a._y", "a._x"], ["a._y", "a._x", "a._y"]]


def test_no_module_of_clinai_imports_itself_through_another() -> None:
    modules = _modules(SRC)
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    circles = _circles(_graph(modules), packages)
    assert circles == [], "\n".join(" -> ".join(c) for c in circles)
