"""Recording actions in the action log: the one API every core service calls after it did
something an auditor asks about (who added a host, trusted a host key, applied a fix,
excepted a rule, changed a schedule or a setting).

    from core.audit.log import record
    await record(workspace, "exception.approved", exc.id, {"rule": exc.rule_id, "host": exc.host})

The actor is this process's OS user and host (actor()); the time, the seq and the hash are the
store's. Action names are dotted, object first (docs/audit.md lists them); details are a small
JSON object of names and ids, never a password, key or token: they are kept forever.
Call it in core, after the change was stored: the CLI and the TUI then both log it.
"""

from __future__ import annotations

import getpass
import socket
from typing import Any, Iterable

from core.domain.audit import Entry, NewEntry
from core.domain.text import one_line
from core.workspace import Workspace

# The actions core records (docs/audit.md): a new one is added here and there.
ACTIONS = (
    "host.added", "host.edited", "host.deleted", "hostkey.trusted",
    "scan.started", "fix.requested", "fix.applied", "fix.rolled_back",
    "exception.added", "exception.approved", "exception.rejected", "exception.revoked", "exception.removed",
    "exception.expired",
    "schedule.added", "schedule.edited", "schedule.paused", "schedule.resumed", "schedule.removed",
    "settings.changed",
)


def actor() -> str:
    """OS user@hostname of this process: who did it, as far as this machine can tell."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME (a bare container)
        user = "unknown"
    return one_line(f"{user}@{socket.gethostname() or 'localhost'}", 200)


async def record(workspace: Workspace, action: str, subject: str, details: dict[str, Any] | None = None) -> Entry:
    """Append one action to the log (its own transaction); returns the entry as stored."""
    return (await record_many(workspace, [(action, subject, details or {})]))[0]


async def record_many(workspace: Workspace, actions: Iterable[tuple[str, str, dict[str, Any]]]) -> list[Entry]:
    """Several actions in one transaction (a scan of a thousand hosts is one append)."""
    who = actor()
    return await workspace.store.append_audit(
        [NewEntry(action, one_line(subject, 300), details, who) for action, subject, details in actions])
