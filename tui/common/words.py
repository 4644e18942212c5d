"""The TUI's own words: counts with the right plural, and core's messages with their CLI flags
said in the TUI's terms.

Core speaks the CLI's words ("import with --create-host"); where it does, the error names the
part (OperatorError.cli) and the input it is about (OperatorError.field), and said() puts the
TUI's words for that input in its place. The CLI keeps its messages as they are.
"""

from __future__ import annotations

# field -> what the TUI says instead of the CLI's flags
TUI_WORDS = {
    "schedule.target": 'fill in "Hosts or tag", or choose All hosts as the Target',
    "import.create_host": 'tick "create host if missing"',
    "harden.scan": "n on Hosts or Compliance: New Scan",
    "fix.rules": "space selects a failed rule",
}


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 schedule', '2 schedules', '0 hosts'; many for the irregular ones ('fix', 'fixes')."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def said(error: BaseException) -> str:
    """An error's message as the TUI says it."""
    text = str(error)
    cli, field = getattr(error, "cli", None), getattr(error, "field", None)
    if cli and field in TUI_WORDS and cli in text:
        return text.replace(cli, TUI_WORDS[field])
    return text
