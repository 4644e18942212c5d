"""Hosts from an OpenSSH client config (~/.ssh/config), for import: pure text in, candidates out."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from core.domain.models import Host
from core.hosts.candidates import Found, Parsed, expand_path, set_port
from core.hosts.kinds import SSH_CONFIG
from core.hosts.ranges import HostBudget


def _is_pattern(name: str) -> bool:
    return any(c in name for c in "*?!")


def _matches(alias: str, patterns: list[str]) -> bool:
    """OpenSSH Host matching: any positive pattern matches and no negated one does."""
    hit = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if fnmatch.fnmatchcase(alias, pattern[1:]):
                return False
        elif fnmatch.fnmatchcase(alias, pattern):
            hit = True
    return hit


def _ssh_words(line: str) -> tuple[str, str] | None:
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    match = re.match(r"^(\S+?)\s*(?:=\s*|\s+)(.*)$", line)
    if not match:
        return line.lower(), ""
    value = match[2].strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return match[1].lower(), value


def parse_ssh_config(text: str, *, home: Path | None = None) -> Parsed:
    """Every concrete alias of every `Host` line, with OpenSSH's first-value-wins options.

    Patterns (`*`, `?`, `!`) are skipped as hosts but their options still apply, as do
    options before the first Host line. `Match` blocks are skipped (with a warning).
    """
    parsed = Parsed(SSH_CONFIG)
    blocks: list[tuple[list[str] | None, dict[str, str]]] = [(None, {})]  # None: applies to all
    aliases: list[tuple[str, int]] = []
    budget, skipping = HostBudget(), False
    for number, line in enumerate(text.splitlines(), start=1):
        words = _ssh_words(line)
        if words is None:
            continue
        key, value = words
        if key == "host":
            patterns = value.split()
            blocks.append((patterns, {}))
            skipping = False
            for pattern in patterns:
                if not _is_pattern(pattern):
                    budget.take(1, f"line {number}: ", pattern)
                    aliases.append((pattern, number))
        elif key == "match":
            skipping = True
            parsed.warnings.append(f"line {number}: Match blocks are not read; their options are ignored")
        elif key == "include":
            parsed.warnings.append(f"line {number}: Include {value} is not followed; import that file too")
        elif not skipping:
            blocks[-1][1].setdefault(key, value)
    seen: set[str] = set()
    for alias, number in aliases:
        if alias in seen:
            continue
        seen.add(alias)
        options: dict[str, str] = {}
        for applies_to, block in blocks:
            if applies_to is None or _matches(alias, applies_to):
                for key, value in block.items():
                    options.setdefault(key, value)
        address = options.get("hostname", alias).replace("%h", alias)
        host = Host(name=alias, address=address, username=options.get("user") or None)
        problem = None
        if "port" in options:
            problem = set_port(host, options["port"])
        if options.get("identityfile"):
            host.identity_file = expand_path(options["identityfile"], home, alias)
        parsed.found.append(Found(host, f"line {number}", problem))
    return parsed
