"""The web package's modules import one another without a cycle, type-checking imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import frontline.web

PACKAGE = "frontline.web"
FOLDER = Path(frontline.web.__file__).parent


def imports(path: Path) -> set[str]:
    """The modules of the web package that ``path`` imports, anywhere in it (under TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(f"{PACKAGE}.{alias.name}" for alias in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE + "."))
    return found


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` as the modules along it, or [] when there is none."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module):], module]
        if module in done:
            return []
        for imported in sorted(graph.get(module, ())):
            found = visit(imported, [*path, module])
            if found:
                return found
        done.add(module)
        return []

    for module in sorted(graph):
        found = visit(module, [])
        if found:
            return found
    return []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_web_modules_import_one_another_without_a_cycle() -> None:
    graph = {f"{PACKAGE}.{path.stem}": imports(path) for path in FOLDER.glob("*.py") if path.stem != "__init__"}
    assert f"{PACKAGE}.receivers" in graph[f"{PACKAGE}.app"]  # the graph is read
    assert cycle(graph) == []
