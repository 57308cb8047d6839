"""The layering the architecture document promises, checked against the code.

`make test` runs the import contracts in pyproject.toml (``lint-imports``); these tests add what a
contract cannot say: no module takes part in an import cycle, the engine reaches flows only through
the registry, and the layout section of ``docs/architecture.md`` names the package tree as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "frontline"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """frontline's import graph; imports under TYPE_CHECKING name types only and do not count."""
    return grimp.build_graph("frontline", exclude_type_checking_imports=True)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every group of modules that import each other, directly or around a loop (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_cycles_finds_a_loop() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    assert cycles(graph) == []


def test_the_engine_reaches_flows_only_through_the_registry(graph: grimp.ImportGraph) -> None:
    allowed = {"frontline.flows", "frontline.flows.base", "frontline.flows.registry"}
    engine = graph.find_descendants("frontline.engine") | {"frontline.engine"}
    reached = {(module, imported) for module in engine for imported in graph.find_modules_directly_imported_by(module)
               if imported.startswith("frontline.flows") and imported not in allowed}
    assert reached == set()


def layout(text: str) -> list[str]:
    """The paths the layout section's tree names, relative to ``src/frontline`` (folders end with ``/``)."""
    section = text.split("\n## Layout", 1)[1]
    block = section.split("```", 2)[1]
    paths: list[str] = []
    parents: list[tuple[int, str]] = []
    for line in block.splitlines()[1:]:
        match = re.match(r"^( *)(\S+)", line)
        if not match or match.group(2) == "src/frontline/":
            continue
        depth, name = len(match.group(1)), match.group(2)
        while parents and parents[-1][0] >= depth:
            parents.pop()
        path = "".join(parent for _, parent in parents) + name
        paths.append(path)
        if name.endswith("/"):
            parents.append((depth, name))
    return paths


def test_layout_reads_a_nested_tree() -> None:
    text = "# x\n\n## Layout\n\n```\nsrc/frontline/\n  app.py   a\n  web/     b\n    app.py c\n  cli/\n```\n"
    assert layout(text) == ["app.py", "web/", "web/app.py", "cli/"]


def test_the_architecture_layout_is_the_package_tree() -> None:
    named = layout((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    missing = [path for path in named if not (PACKAGE / path.rstrip("/")).exists()]
    assert missing == [], "docs/architecture.md names paths that do not exist"
    packages = sorted(f"{p.parent.relative_to(PACKAGE).as_posix()}/" for p in PACKAGE.rglob("__init__.py")
                      if p.parent != PACKAGE and not any("migrations" in part for part in p.parts))
    top_modules = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    unnamed = [path for path in [*packages, *top_modules] if path not in named]
    assert unnamed == [], "docs/architecture.md's layout leaves these out"
