"""core/jobs has no import cycle: each module's imports, read from its source (at module level,
inside functions and under TYPE_CHECKING alike), form a graph without a loop. The job runner,
the jobs it runs and the way jobs are submitted stay layers, not a knot."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "core.jobs"
DIRECTORY = Path(__file__).resolve().parents[2] / "core" / "jobs"


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The modules of the package that the file imports, wherever in the file it does."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x, from .scan import y
                base = ".".join([PACKAGE, base] if base else [PACKAGE])
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def graph() -> dict[str, set[str]]:
    files = {f"{PACKAGE}.{path.stem}": path for path in DIRECTORY.glob("*.py") if path.stem != "__init__"}
    return {module: imports_of(path, set(files)) - {module} for module, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per module that starts one, as the path that comes back to it."""
    found = []

    def walk(path: list[str]) -> None:
        for nxt in sorted(edges.get(path[-1], ())):
            if nxt == path[0]:
                found.append(path + [nxt])
            elif nxt not in path and nxt > path[0]:  # each cycle once: from its smallest module
                walk(path + [nxt])

    for start in sorted(edges):
        walk([start])
    return found


def test_the_graph_is_read_from_every_kind_of_import():
    edges = graph()
    assert {"core.jobs.context", "core.jobs.scan", "core.jobs.harden"} <= edges["core.jobs.kinds"]
    assert "core.jobs.kinds" in edges["core.jobs.runner"]  # imported inside a function


def test_the_finder_sees_a_cycle_through_a_function_level_import(tmp_path):
    (tmp_path / "a.py").write_text("from core.jobs import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from core.jobs.a import x\n")
    modules = {"core.jobs.a", "core.jobs.b"}
    edges = {f"core.jobs.{p.stem}": imports_of(p, modules) for p in tmp_path.glob("*.py")}
    assert cycles(edges) == [["core.jobs.a", "core.jobs.b", "core.jobs.a"]]


def test_core_jobs_has_no_import_cycle():
    assert cycles(graph()) == []
