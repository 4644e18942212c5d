"""Import hosts from ~/.ssh/config or an Ansible inventory: read the file (core.hosts.inventory),
check each host as `hosts add` would, say why the others are skipped, and add what is kept.

The TUI's Import hosts (tui/modals/import_hosts.py) and `compliance-tui hosts import` both use
these, so a preview in one is the same as in the other.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from core.domain.errors import OperatorError
from core.domain.validate import validate_host
from core.hosts import inventory
from core.hosts.candidates import Found, Parsed
from core.workspace import Workspace

EXISTS = "exists already"


async def preview(workspace: Workspace, path: str | Path, kind: str | None = None, *,
                  home: Path | None = None) -> Parsed:
    """The hosts of the file, each with the reason it cannot be added (`problem`), or none."""
    parsed = await asyncio.to_thread(inventory.read_file, path, kind, home=home or Path.home())
    stored = {h.name for h in await workspace.store.find_hosts()}
    for item in parsed.found:
        item.problem = item.problem or problem_of(item, stored)
    return parsed


def problem_of(item: Found, stored: set[str]) -> str | None:
    try:
        validate_host(item.host)
    except OperatorError as exc:
        return str(exc)
    return EXISTS if item.host.name in stored else None


@dataclass
class Added:
    added: list[Found] = field(default_factory=list)
    failed: list[tuple[Found, str]] = field(default_factory=list)  # (host, why), e.g. added meanwhile


async def add(workspace: Workspace, items: list[Found]) -> Added:
    """Add these hosts one by one (validated again); one that fails does not stop the rest."""
    from core.hosts.service import add_host  # the SSH side of core.hosts loads only when adding

    done = Added()
    for item in items:
        try:
            await add_host(workspace, item.host)
            done.added.append(item)
        except OperatorError as exc:
            done.failed.append((item, str(exc)))
    return done
