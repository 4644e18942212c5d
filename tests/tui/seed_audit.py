"""An action log at fixed times and actors, for the Action log's tests and snapshots: appended
with the store's own hashing rules (core/domain/audit.py), so it verifies."""

from __future__ import annotations

from pathlib import Path

from core.domain.audit import GENESIS, HEAD_KEY, canonical, entry_hash, head_text
from core.workspace import Workspace
from tests.tui.helpers import ago

HOSTILE = "[bold red]web\x1b[31m01[/]"  # markup and an escape: shown as they are, never run
ENTRIES = [  # (days, hours ago, actor, action, subject, details)
    (9, 2, "alice@jump01", "host.added", "web01", {"address": "10.0.0.11", "username": "scanner"}),
    (9, 1, "alice@jump01", "hostkey.trusted", "web01", {"fingerprint": "SHA256:Zm9vYmFyYmF6cXV4"}),
    (8, 0, "bob@jump02", "schedule.added", "7c9e6679", {"target": "tag web", "cadence": "daily 02:00"}),
    (5, 3, "alice@jump01", "scan.started", "web01", {"job": "3f2b8c1e", "profile": "cis-level1-server"}),
    (3, 2, "carol@jump01", "exception.added", "a1b2c3d4", {"rule": "file_permissions_etc_issue",
                                                           "reason": "kiosk banner"}),
    (2, 5, "alice@jump01", "fix.requested", "web01", {"job": "9d8c7b6a", "rules": ["sshd_disable_root_login"]}),
    (2, 4, "root@worker01", "fix.applied", "web01", {"job": "9d8c7b6a", "changed_files": 1}),
    (1, 0, "bob@jump02", "host.edited", HOSTILE, {"changed": {"port": [22, 2222]}, "note": "[link=x]y[/link]"}),
    (0, 2, "alice@jump01", "settings.changed", "ai", {"changed": {"model": ["gpt-4o-mini", "llama3"]}}),
]


async def seed_audit(data_dir: Path) -> None:
    async with await Workspace.open(data_dir) as workspace:
        await seed_audit_store(workspace.store)


async def seed_audit_store(store) -> None:
    """ENTRIES, unless the log holds entries already (a module's shared data dir)."""
    if await store.audit_entries(limit=1):
        return
    prev = GENESIS
    for seq, (days, hours, actor, action, subject, details) in enumerate(ENTRIES, start=1):
        at, text = ago(days, hours), canonical(details)
        hash_ = entry_hash(prev, seq, at, actor, action, subject, text)
        await store.db.execute("INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (seq, at, actor, action, subject, text, prev, hash_))
        prev = hash_
    await store.set_meta(HEAD_KEY, head_text(len(ENTRIES), prev))
