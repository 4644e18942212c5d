"""The `compliance-tui` command: the known third-party warnings are quieted before anything
else is imported, then the CLI runs (it opens the TUI when given no command)."""

from __future__ import annotations

import warnings


def quiet_known_warnings() -> None:
    """asyncssh still names DSA, which cryptography 48 and newer deprecate, when it is imported:
    ten lines on every command's stderr that an operator can do nothing about. Only that
    category, and only from asyncssh; every other warning still shows."""
    from cryptography.utils import CryptographyDeprecationWarning

    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"asyncssh(\.|$)")


def main(argv: list[str] | None = None) -> int:
    quiet_known_warnings()
    from tui.cli import main as cli_main

    return cli_main(argv)
