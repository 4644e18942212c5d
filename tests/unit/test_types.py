"""The type checker is part of the suite: mypy with pyproject.toml's [tool.mypy] (strict on
core/, its defaults on tui/). A fresh cache each run: no state shared with other runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_passes(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr
