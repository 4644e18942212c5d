"""Ansible host ranges (web[01:03], db-[a:c], [0:10:5]), counted before they are expanded.

An inventory line `web[0:9999999].example.com` names ten million hosts: the count is worked out
arithmetically first, and a file naming more than limits.inventory_hosts is refused in one line
before any name is made (the TUI's Import hosts reads inventories through here).
"""

from __future__ import annotations

import re

from core.domain import limits
from core.domain.errors import InvalidInput

_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::([0-9]+))?\]")
_RANGED_WORD = re.compile(r"[^\s:=,'\"{}\[]*(?:\[[0-9a-zA-Z]+:[0-9a-zA-Z]+(?::[0-9]+)?\][^\s:'\",{}\[]*)+")


class InventoryError(InvalidInput):
    """The file cannot be read as the format it claims (message names the line)."""


def _bounds(match: re.Match[str], pattern: str) -> tuple[int, int, int, bool]:
    """(low, high, step, numeric) of one range."""
    start, end, step = match[1], match[2], max(int(match[3] or 1), 1)
    if start.isdigit() and end.isdigit():
        return int(start), int(end), step, True
    if len(start) == len(end) == 1 and start.isalpha() and end.isalpha():
        return ord(start), ord(end), step, False
    raise InvalidInput(f"invalid host range in {pattern!r}")


def count_hosts(pattern: str) -> int:
    """How many names expand_hosts(pattern) makes, computed without making them."""
    total = 1
    for match in _RANGE.finditer(pattern):
        low, high, step, _numeric = _bounds(match, pattern)
        total *= max(0, (high - low) // step + 1)
    return total


def expand_hosts(pattern: str) -> list[str]:
    """Every name of a pattern's ranges. Callers count first (HostBudget): this makes them all."""
    match = _RANGE.search(pattern)
    if not match:
        return [pattern]
    low, high, step, numeric = _bounds(match, pattern)
    head, tail = pattern[: match.start()], pattern[match.end():]
    if numeric:
        start = match[1]
        width = len(start) if start.startswith("0") and len(start) > 1 else 0
        items = [str(n).zfill(width) for n in range(low, high + 1, step)]
    else:
        items = [chr(c) for c in range(low, high + 1, step)]
    return [name for item in items for name in expand_hosts(head + item + tail)]


class HostBudget:
    """At most limits.inventory_hosts host names per file, counted before any range is expanded.
    A name or range named again (a host in several groups) is counted once."""

    def __init__(self, most: int | None = None):
        self.most = most or limits.current().inventory_hosts
        self.used = 0
        self.seen: set[str] = set()

    def expand(self, pattern: str, where: str = "") -> list[str]:
        self.take(count_hosts(pattern), where, pattern)
        return expand_hosts(pattern)

    def take(self, count: int, where: str = "", pattern: str = "") -> None:
        if pattern:
            if pattern in self.seen:
                return
            self.seen.add(pattern)
        self.used += count
        if self.used > self.most:
            what = f"{pattern!r} names {count:,} hosts" if pattern and count > 1 else \
                f"more than {self.most:,} hosts"
            raise InventoryError(f"{where}{what}: at most {self.most:,} hosts per file are read (limit "
                                 "inventory_hosts, docs/security.md); split the inventory")


def check_ranges(text: str) -> None:
    """Every range in the text counted, whatever the format, before a parser or ansible-inventory
    expands one (a range that is not one is left to the parser to refuse)."""
    budget = HostBudget()
    for number, line in enumerate(text.splitlines(), start=1):
        for word in _RANGED_WORD.findall(line):
            try:
                count = count_hosts(word)
            except InvalidInput:
                continue
            if count > 1:
                budget.take(count, f"line {number}: ", word)
