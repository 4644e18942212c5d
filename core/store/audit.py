"""The action log's queries (AuditStore in base.py), for both backends.

Append only: nothing here updates or deletes an entry, and the schema's triggers refuse both
(schema.py). Appends are serialised on the chain's head, a row of meta: PostgreSQL locks it
(SELECT ... FOR UPDATE) so two writers never link to the same entry, SQLite's BEGIN IMMEDIATE
already lets one writer in at a time. The head is moved in the same transaction.
"""

from __future__ import annotations

from core.domain.audit import (
    GENESIS,
    HEAD_KEY,
    Entry,
    NewEntry,
    entry_hash,
    head_text,
    parse_head,
    small_details,
)
from core.domain.timeutil import now_iso
from core.store.base import AuditStore
from core.store.db import Db, Row, like

_COLUMNS = "seq, at, actor, action, subject, details, prev_hash, hash"


def entry_of(row: Row) -> Entry:
    return Entry(seq=int(row["seq"]), at=row["at"], actor=row["actor"], action=row["action"],
                 subject=row["subject"], details=row["details"], prev_hash=row["prev_hash"], hash=row["hash"])


class Audit(AuditStore):
    db: Db

    async def append_audit(self, entries: list[NewEntry]) -> list[Entry]:
        if not entries:
            return []
        async with self.db.transaction() as db:
            head = await db.fetch_value(f"SELECT value FROM meta WHERE key = ?{db.dialect.lock()}", (HEAD_KEY,))
            last = await db.fetch_one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            # the last row is the link (the head only says where the chain should end: verify compares)
            seq, prev = (int(last["seq"]), last["hash"]) if last else (0, GENESIS)
            if head is None:  # a store whose head row went missing: the chain goes on; verify says so
                await db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                                 (HEAD_KEY, head_text(0, GENESIS)))
            written = []
            for new in entries:
                seq, at, details = seq + 1, now_iso(), small_details(new.details)
                hash_ = entry_hash(prev, seq, at, new.actor, new.action, new.subject, details)
                await db.execute(f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (seq, at, new.actor, new.action, new.subject, details, prev, hash_))
                written.append(Entry(seq, at, new.actor, new.action, new.subject, details, prev, hash_))
                prev = hash_
            await db.execute("UPDATE meta SET value = ? WHERE key = ?", (head_text(seq, prev), HEAD_KEY))
        return written

    async def audit_entries(self, since: str | None = None, subject: str | None = None,
                            action: str | None = None, limit: int | None = None) -> list[Entry]:
        where, params = ["1 = 1"], []
        if since:
            where.append("at >= ?")
            params.append(since)
        if subject:
            where.append("subject = ?")
            params.append(subject)
        if action:  # a dotted prefix: "host" is host.added, host.edited, ...; "host.added" itself
            where.append("(action = ? OR action LIKE ? ESCAPE '\\')")
            params += [action, like(action.rstrip(".") + ".").removeprefix("%")]  # "host.%", _ and % escaped
        tail = f" LIMIT {int(limit)}" if limit else ""
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(where)} "
                                   f"ORDER BY seq DESC{tail}", params)
        return [entry_of(r) for r in rows]

    async def audit_chain(self, after: int = 0, limit: int = 5000) -> list[Entry]:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT {int(limit)}",
                                   (after,))
        return [entry_of(r) for r in rows]

    async def audit_head(self) -> tuple[int, str] | None:
        return parse_head(await self.db.fetch_value("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)))
