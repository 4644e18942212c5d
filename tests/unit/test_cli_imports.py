"""Each CLI command imports only what it uses (issue 25): `--help` builds the parser without SSH,
XML, the LLM client, Textual, the job engine or the event loop, and `hosts list` loads no UI
and no SSH. What a process imports is read from `python -X importtime`, the command run as a
shell runs it; the timings themselves are tests/bench/start.py's, never a test's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(tmp_path: Path, *args: str) -> set[str]:
    """Every module `python -m tui ARGS` imports, in a data dir and HOME of its own."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = os.environ | {"COMPLIANCE_TUI_HOME": str(tmp_path / "data"), "HOME": str(home)}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "tui", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def loaded(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_help_imports_none_of_the_heavy_parts(tmp_path):
    modules = imported(tmp_path, "--help")
    assert "tui.cli.hosts" in modules and "argparse" in modules  # the parser was built, really
    assert loaded(modules, "asyncssh", "lxml", "openai", "textual", "core.jobs", "asyncio") == []


def test_a_command_help_imports_no_more(tmp_path):
    assert loaded(imported(tmp_path, "fix", "--help"), "asyncssh", "lxml", "core.jobs", "core.remediation.fixes") == []


def test_hosts_list_loads_no_ui_and_no_ssh(tmp_path):
    modules = imported(tmp_path, "--data-dir", str(tmp_path / "data"), "hosts", "list")
    assert "core.store.sqlite" in modules  # the command ran against its store
    assert loaded(modules, "textual", "asyncssh", "openai", "core.jobs") == []


def test_control_views_and_their_exports_load_only_in_their_commands(tmp_path):
    """Issue 26: the OSCAL and checklist writers (and XML) load in `export oscal|ckl|cklb` alone;
    every other command's start is as before, and `--help` of those commands loads none of them."""
    heavy = ("core.results.oscal", "core.results.stig_checklist", "core.results.control_exports",
             "core.results.controls", "core.results.references")
    assert loaded(imported(tmp_path, "export", "oscal", "--help"), *heavy, "lxml") == []
    assert loaded(imported(tmp_path, "results", "--help"), *heavy, "lxml") == []
    assert loaded(imported(tmp_path, "--data-dir", str(tmp_path / "data"), "hosts", "list"), *heavy) == []


def test_a_new_interpreter_prints_no_warning(tmp_path):
    """Issue 20: what importing prints shows only in a new interpreter (the suite's other commands
    are forked from one that has imported everything, tests/cli_server.py): none of it reaches an
    operator, whatever cryptography or Apprise deprecate."""
    home = tmp_path / "home"
    home.mkdir()
    env = os.environ | {"COMPLIANCE_TUI_HOME": str(tmp_path / "data"), "HOME": str(home)}
    for args in (["hosts", "list"], ["scan", "--help"], ["notify", "list"], ["explain", "--help"]):
        done = subprocess.run([sys.executable, "-m", "tui", *args], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and done.stderr == "", (args, done.stderr)
