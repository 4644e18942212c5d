"""Profile pickers' options, under a heading per framework (CIS first): the New Scan's and Bulk
Scan's lists. Titles come from content files, so every prompt is plain text, never markup."""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.widgets.option_list import Option

from core.content.frameworks import Framework
from tui.widgets.cells import plain

INDENT = "  "


def grouped_options(items: Iterable[tuple[Framework, str, str]]) -> list[Option]:
    """(framework, option id, prompt) in picker order -> a disabled heading before each framework's
    options; the option ids stay the caller's, so a choice is found by id, never by position."""
    options: list[Option] = []
    current: Framework | None = None
    for framework, option_id, prompt in items:
        if framework != current:
            current = framework
            options.append(Option(Text(framework.label, style="bold"), id=f"framework:{framework.key}",
                                  disabled=True))
        options.append(Option(plain(INDENT + prompt), id=option_id))
    return options


def first_choice(options: Iterable[Option]) -> int | None:
    """The index of the first option that is not a heading (the default: CIS Level 1 Server)."""
    return next((n for n, option in enumerate(options) if not option.disabled), None)
