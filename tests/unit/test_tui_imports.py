"""The packages of tui/ import each other in one direction, and so do its modules.

Read statically (ast) from every module under tui/: every import counts, at module level,
inside functions and under TYPE_CHECKING. A module belongs to its subpackage (tui.screens,
tui.modals, tui.base, ...) or, when it sits in tui/ itself (app.py, entry.py), to `tui`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TUI = Path(__file__).resolve().parents[2] / "tui"


def module_name(path: Path) -> str:
    parts = path.relative_to(TUI.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(TUI.rglob("*.py"))}


def package_of(module: str) -> str:
    """tui.screens.hosts -> tui.screens; tui.app -> tui; tui.screens -> tui.screens."""
    parts = module.split(".")
    if len(parts) > 2 or (TUI / parts[-1]).is_dir():
        return ".".join(parts[:2])
    return "tui"


def imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The tui modules a module imports, at any depth of its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).rstrip(".")
            for alias in node.names:  # `from tui.x import module` imports that module
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {name for name in found if name in known and name != module}


def module_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        mine = package_of(module)
        packages.setdefault(mine, set()).update(package_of(t) for t in targets if package_of(t) != mine)
    return packages


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (its nodes, the first repeated at the end), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_reader_sees_every_kind_of_import():
    graph = module_graph()
    assert "tui.modals.explain" in graph["tui.screens.results"]  # inside a function
    assert "tui.widgets.cells" in graph["tui.base.view"]  # under TYPE_CHECKING
    assert "tui.common.keymap" in graph["tui.modals.help"]  # `from tui.common import keymap`
    assert package_of("tui.app") == "tui" and package_of("tui.screens") == "tui.screens"


def test_no_package_imports_another_in_a_cycle():
    packages = package_graph(module_graph())
    assert {"tui", "tui.screens", "tui.modals", "tui.services", "tui.widgets", "tui.cli"} <= set(packages)
    assert find_cycle(packages) is None, " -> ".join(find_cycle(packages))


def test_no_module_imports_another_in_a_cycle():
    graph = module_graph()
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


@pytest.mark.parametrize(("package", "never"), [
    ("tui.modals", {"tui.screens", "tui"}),
    ("tui.services", {"tui.screens", "tui.modals", "tui.base", "tui.widgets", "tui"}),
    ("tui.widgets", {"tui.screens", "tui.modals", "tui.base", "tui.services", "tui"}),
    ("tui.base", {"tui.screens", "tui.modals", "tui"}),
    ("tui.common", {"tui.screens", "tui.modals", "tui.base", "tui.services", "tui.widgets", "tui"}),
    ("tui.cli", {"tui.screens", "tui.modals", "tui.base", "tui.services", "tui.widgets", "tui"}),
])
def test_each_package_keeps_to_its_layer(package, never):
    assert package_graph(module_graph())[package] & never == set()


def test_a_cycle_is_found():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
