"""The `compliance-tui` command: the known third-party warnings are quieted before anything
else is imported, then the CLI runs; given no command, it opens the TUI through open_app
(tui.cli never imports the app)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.domain.settings import Settings


def quiet_known_warnings() -> None:
    """asyncssh still names DSA, which cryptography 48 and newer deprecate, when it is imported:
    ten lines on every command's stderr that an operator can do nothing about. Only that
    category, and only from asyncssh; every other warning still shows."""
    from cryptography.utils import CryptographyDeprecationWarning

    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"asyncssh(\.|$)")


def open_app(data_dir: Path, settings: Settings) -> int:
    from tui.app import run_app  # only here: headless commands never load Textual

    return run_app(data_dir, settings)


def main(argv: list[str] | None = None) -> int:
    quiet_known_warnings()
    from tui.cli import main as cli_main

    return cli_main(argv, open_app)
