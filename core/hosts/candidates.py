"""What an import file yields: candidate hosts, each with where it came from and why it cannot
be imported as is, and the small rules every format shares (ports, `~` in key paths)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.domain.models import Host


@dataclass
class Found:
    host: Host
    origin: str  # where it came from, e.g. "line 12" or "group web"
    problem: str | None = None  # why it cannot be imported as is


@dataclass
class Parsed:
    kind: str
    found: list[Found] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def expand_path(value: str, home: Path | None, alias: str = "") -> str:
    value = value.replace("%d", str(home) if home else "~").replace("%h", alias).replace("%%", "%")
    if value.startswith("~") and home is not None:
        return str(home / value[2:]) if value.startswith("~/") else value
    return value


def set_port(host: Host, value: str) -> str | None:
    try:
        port = int(str(value).strip())
    except ValueError:
        return f"invalid port {value!r}"
    if not 1 <= port <= 65535:
        return f"invalid port {value!r}"
    host.port = port
    return None
