"""Content versions and their rule texts (ContentStore in base.py), for both backends."""

from __future__ import annotations

from typing import Any, Iterable

from core.domain.models import RuleInfo
from core.domain.timeutil import now_iso
from core.store.base import ContentStore
from core.store.db import Db, Row, chunks


class Content(ContentStore):
    db: Db

    async def has_rules(self, content_id: str) -> bool:
        return bool(await self.db.fetch("SELECT 1 FROM rules WHERE content_id = ? LIMIT 1", (content_id,)))

    async def save_content(
        self, content_id: str, file_name: str, benchmark_id: str | None,
        version: str | None, rules: Iterable[RuleInfo] = (), derived_from: str | None = None,
    ) -> None:
        rows = [(content_id, r.rule_id, r.title, r.severity, r.description, r.rationale,
                 r.fixtext, r.fix_script) for r in rules]
        async with self.db.transaction() as db:
            await db.execute(
                "INSERT INTO contents (id, file_name, benchmark_id, version, added_at, derived_from) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (content_id, file_name, benchmark_id, version, now_iso(), derived_from))
            await db.execute_many(
                "INSERT INTO rules (content_id, rule_id, title, severity, description, rationale, fixtext, "
                "fix_script) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (content_id, rule_id) DO "
                "UPDATE SET title = excluded.title, severity = excluded.severity, "
                "description = excluded.description, rationale = excluded.rationale, "
                "fixtext = excluded.fixtext, fix_script = excluded.fix_script", rows)
            await self._keep_references(db, content_id, rules)

    async def references_read(self, content_id: str) -> bool:
        row = await self.db.fetch_one("SELECT references_read FROM contents WHERE id = ?", (content_id,))
        return bool(row and row["references_read"])

    async def save_references(self, content_id: str, rules: Iterable[RuleInfo]) -> None:
        async with self.db.transaction() as db:
            await self._keep_references(db, content_id, rules)

    async def _keep_references(self, db: Db, content_id: str, rules: Iterable[RuleInfo]) -> None:
        """Each rule's (system, id) pairs; the content's references count as read once any rule
        text was given (a rule citing nothing is then known to cite nothing)."""
        listed = list(rules)
        if not listed:
            return
        await db.execute_many(
            "INSERT INTO rule_references (content_id, rule_id, system, ref) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(content_id, r.rule_id, system, ref) for r in listed for system, ref in r.references])
        await db.execute("UPDATE contents SET references_read = ? WHERE id = ?", (True, content_id))

    async def rule_references(self, content_id: str, system: str) -> dict[str, list[str]]:
        rows = await self.db.fetch("SELECT rule_id, ref FROM rule_references WHERE content_id = ? AND system = ? "
                                   "ORDER BY rule_id, ref", (content_id, system))
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["rule_id"], []).append(row["ref"])
        return found

    async def rule_infos(self, content_id: str, rule_ids: list[str] | None = None) -> dict[str, RuleInfo]:
        rows: list[Row]
        if rule_ids is None:
            rows = await self.db.fetch("SELECT * FROM rules WHERE content_id = ?", (content_id,))
        else:
            rows = []
            for part in chunks(self.db, rule_ids):
                among, params = self.db.dialect.among("rule_id", part)
                rows += await self.db.fetch(f"SELECT * FROM rules WHERE content_id = ? AND {among}",
                                            [content_id, *params])
        return {
            r["rule_id"]: RuleInfo(r["rule_id"], r["title"] or "", r["severity"] or "unknown",
                                   r["description"] or "", r["rationale"] or "",
                                   r["fixtext"] or "", r["fix_script"] or "")
            for r in rows
        }

    async def get_content(self, content_id: str) -> dict[str, Any] | None:
        row = await self.db.fetch_one(
            "SELECT id, file_name, benchmark_id, version, added_at FROM contents WHERE id = ?", (content_id,))
        return dict(row) if row else None

    async def rule_titles(self, rule_ids: list[str]) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for part in chunks(self.db, rule_ids):
            among, params = self.db.dialect.among("rule_id", part)
            for row in await self.db.fetch("SELECT rule_id, MAX(title) AS title, MAX(severity) AS severity "
                                           f"FROM rules WHERE {among} GROUP BY rule_id", params):
                found[row["rule_id"]] = (row["title"] or "", row["severity"] or "unknown")
        return found
