"""The action log's entries and their hash chain (issue 27): who did what, when, to what.

Each entry's hash is sha256 of the previous entry's hash followed by the canonical JSON of the
entry without its hash, so an edited entry no longer matches its hash and a deleted one breaks
the link of the next (core/audit/verify.py walks it). The store keeps the chain's head (the last
seq and hash) beside it, written in the same transaction, so a deleted last entry is seen too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from core.domain.errors import InvalidInput
from core.domain.text import one_line
from core.domain.timeutil import parse_iso, to_iso

GENESIS = "0" * 64  # the prev_hash of the first entry
HEAD_KEY = "audit_head"  # the meta key of the chain's head: "SEQ HASH" ("0 " + GENESIS: empty)
MAX_DETAIL = 500  # characters of one detail value: the log records decisions, not documents


@dataclass(frozen=True)
class NewEntry:
    """An action to append: the store gives it its seq, time, link and hash."""

    action: str  # dotted: host.added, hostkey.trusted, exception.added, ... (docs/audit.md)
    subject: str  # what it was done to: a host name, a job, schedule or exception id
    details: dict[str, Any] = field(default_factory=dict)  # small, and never a secret
    actor: str = "unknown"  # OS user@hostname


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: str  # the canonical JSON text, as hashed
    prev_hash: str
    hash: str

    def details_dict(self) -> dict[str, Any]:
        try:
            value = json.loads(self.details)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
                "subject": self.subject, "details": self.details_dict(), "prev_hash": self.prev_hash,
                "hash": self.hash}


def canonical(value: Any) -> str:
    """One text for one value, whichever process or backend writes it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def small_details(details: dict[str, Any]) -> str:
    """The details as canonical JSON, each text value cut to MAX_DETAIL characters."""
    def cut(value: Any) -> Any:
        if isinstance(value, str):
            return value[:MAX_DETAIL]
        if isinstance(value, (list, tuple)):
            return [cut(v) for v in list(value)[:100]]
        if isinstance(value, dict):
            return {str(k)[:100]: cut(v) for k, v in value.items()}
        return value
    return canonical(cut(details))


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, subject: str, details: str) -> str:
    body = canonical({"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
                      "details": details, "prev_hash": prev_hash})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def hash_of(entry: Entry) -> str:
    """What the entry's hash must be, from what it holds now."""
    return entry_hash(entry.prev_hash, entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.details)


def head_text(seq: int, hash_: str) -> str:
    return f"{seq} {hash_}"


def parse_head(text: str | None) -> tuple[int, str] | None:
    """(seq, hash) of the stored head; None when it is missing or unreadable."""
    if not text:
        return None
    seq, _, hash_ = text.partition(" ")
    return (int(seq), hash_) if seq.isdigit() and hash_ else None


def parse_since(text: str, now: datetime | None = None) -> str:
    """`--since`: a span back from now (30m, 12h, 7d, 2w), a day (YYYY-MM-DD, UTC) or an ISO
    time; the store's time text from which entries are wanted."""
    given = text.strip()
    now = now or datetime.now(timezone.utc)
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if given[:-1].isdigit() and given[-1:].lower() in units:
        return to_iso(now - timedelta(**{units[given[-1].lower()]: int(given[:-1])}))
    try:
        return to_iso(parse_iso(given if "T" in given else given + "T00:00:00Z"))
    except ValueError:
        raise InvalidInput(f"--since {one_line(given, 40)!r}: give a span back from now (30m, 12h, 7d, 2w), "
                           "a day (2025-01-31) or a time (2025-01-31T08:00:00Z)") from None
