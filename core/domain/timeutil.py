"""UTC timestamps as sortable ISO-8601 text, the only form the store keeps."""

from __future__ import annotations

from datetime import datetime, timezone

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime(FORMAT)


def parse_iso(text: str) -> datetime:
    """Read our own timestamps and the ISO forms found in XCCDF results."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:  # oscap writes local time without an offset
        value = value.astimezone()
    return value.astimezone(timezone.utc)


def to_iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime(FORMAT)


def seconds_between(start: str, end: str) -> float:
    return round((parse_iso(end) - parse_iso(start)).total_seconds(), 1)
