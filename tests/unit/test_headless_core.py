"""core/ must never import the UI, and its subpackages depend on each other in one direction.

Each layer may import only those listed for it (and the standard library and third-party
libraries): results and content never reach the scan engine or SSH, so importing a results
file or deriving content loads no asyncssh.
"""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"

ALLOWED = {
    "domain": set(),
    "store": {"domain"},
    "audit": {"domain", "store"},  # the action log: every service that changes something records there
    "content": {"domain"},
    "targets": {"domain"},
    "signing": {"domain"},  # the key, the signed record, evidence digests; checking them is results'
    "views": {"domain", "store", "content", "schedules"},
    "schedules": {"domain", "store", "content", "audit"},
    "policy": {"domain", "store", "content", "views", "results", "audit"},
    "results": {"domain", "store", "content", "views", "signing"},
    "hosts": {"domain", "store", "content", "targets", "views", "audit"},
    "remediation": {"domain", "store", "content", "results", "targets"},
    "jobs": {"domain", "store", "content", "results", "targets", "hosts", "views", "remediation", "schedules",
             "notify", "signing", "audit", "policy"},
    "notify": {"domain", "store", "views"},  # drift alerts: never the scan engine or SSH
    "ai": {"domain", "store", "views", "audit"},  # the LLM: never the scan engine, SSH or results
}
# core/evidence.py, core/files.py, core/os_keyring.py, core/paths.py, core/safexml.py and core/workspace.py
# (store and content, no SSH): usable by every layer
TOP_LEVEL = {"evidence", "files", "os_keyring", "paths", "safexml", "workspace"}


def core_modules() -> list[str]:
    found = []
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(CORE.parent).with_suffix("").parts
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_core_modules_import_without_textual_or_rich():
    modules = core_modules()
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tui'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=CORE.parent, check=True)
    assert done.stdout.strip() == ""
    assert len(modules) > 20


def imported_core_parts(path: Path) -> set[str]:
    """The core subpackages (or top-level modules) a file imports, at any depth."""
    tree = ast.parse(path.read_text())
    parts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = node.module.split(".")
            if names[0] == "core":
                parts.add(names[1] if len(names) > 1 else node.names[0].name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "core" and len(names) > 1:
                    parts.add(names[1])
    return parts


def test_layers_import_only_what_they_stand_on():
    problems = []
    for layer, allowed in ALLOWED.items():
        for path in sorted((CORE / layer).rglob("*.py")):
            wrong = imported_core_parts(path) - allowed - TOP_LEVEL - {layer}
            if wrong:
                problems.append(f"{path.relative_to(CORE)} imports {sorted(wrong)}")
    assert not problems, "\n".join(problems)
    assert set(ALLOWED) == {p.name for p in CORE.iterdir() if p.is_dir() and p.name != "__pycache__"}


def test_importing_results_and_content_loads_no_ssh():
    code = (
        "import sys\n"
        "import core.results.importer, core.results.report, core.content.derive, core.content.admin\n"
        "print(','.join(sorted(m for m in sys.modules if m == 'asyncssh' or m.startswith('core.targets'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=CORE.parent, check=True)
    assert done.stdout.strip() == ""
