"""The action log as the TUI's Action log view reads it: the newest entries, filtered in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.audit import Entry
from core.store.base import AuditStore

AUDIT_PAGE = 500  # entries shown at once: the newest; `audit log` reads them all
ACTION_GROUPS = ("host", "hostkey", "scan", "fix", "exception", "schedule", "settings")


@dataclass(frozen=True)
class AuditPage:
    entries: list[Entry]  # newest first
    more: bool  # older entries match too (the CLI lists them)


async def audit_page(store: AuditStore, action: str | None = None, subject: str | None = None) -> AuditPage:
    found = await store.audit_entries(subject=subject or None, action=action or None, limit=AUDIT_PAGE + 1)
    return AuditPage(found[:AUDIT_PAGE], len(found) > AUDIT_PAGE)
