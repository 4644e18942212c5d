"""Where compliance-tui keeps its data: platformdirs, or one override for tests."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "COMPLIANCE_TUI_HOME"


def data_dir(override: str | Path | None = None) -> Path:
    """--data-dir wins, then COMPLIANCE_TUI_HOME, then the platform's user data dir."""
    chosen = override or os.environ.get(ENV_HOME)
    path = Path(chosen) if chosen else Path(platformdirs.user_data_dir("compliance-tui"))
    return path.expanduser().resolve()


def shared_content_dir() -> Path:
    """Content fetched for this user (`make content`: newer SCAP Security Guide releases): every
    data dir of the user sees it, whatever COMPLIANCE_TUI_HOME says. A data dir's own content/
    holds what `content import` added to it."""
    return (Path(platformdirs.user_data_dir("compliance-tui")) / "releases").expanduser().resolve()


def database(base: Path) -> Path:
    return base / "compliance.db"


def evidence_dir(base: Path) -> Path:
    """Compressed ARF files, one per scan: the evidence of what oscap found."""
    return base / "evidence"


def cache_dir(base: Path) -> Path:
    return base / "cache"


def tailoring_dir(base: Path) -> Path:
    """Copies of the XCCDF tailoring files set on hosts."""
    return base / "tailoring"
