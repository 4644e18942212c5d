"""Textual calls the handler of every class in a widget's MRO itself (message_pump's
_get_dispatch_methods): a handler that also calls super() runs the base's twice, e.g. a
screen subscribing to job events twice and reloading twice per event."""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "tui"


def super_handler_calls(root: Path = TUI) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr.startswith(("on_", "_on_"))
                    and isinstance(node.func.value, ast.Call)
                    and isinstance(node.func.value.func, ast.Name) and node.func.value.func.id == "super"):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno} super().{node.func.attr}()")
    return found


def test_no_handler_calls_its_base():
    assert super_handler_calls() == []


def test_the_check_sees_such_a_call(tmp_path):
    package = tmp_path / "tui"
    package.mkdir()
    (package / "x.py").write_text("class A(B):\n    def on_mount(self):\n        super().on_mount()\n")
    assert super_handler_calls(package) == ["tui/x.py:3 super().on_mount()"]
