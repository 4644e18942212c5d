"""Which files the store refers to (EvidenceStore in base.py), for both backends: the ARF
evidence of scans and hosts' tailoring files, for retention and cleaning up."""

from __future__ import annotations

from core.store.base import EvidenceStore
from core.store.db import Db, chunks


class Evidence(EvidenceStore):
    db: Db

    async def files_in_use(self, paths: list[str]) -> set[str]:
        used: set[str] = set()
        for part in chunks(self.db, paths, self.db.dialect.max_list // 2):  # two lists in one statement
            arf, arf_params = self.db.dialect.among("arf_path", part)
            tailoring, tailoring_params = self.db.dialect.among("tailoring_file", part)
            rows = await self.db.fetch(f"SELECT arf_path AS p FROM scans WHERE {arf} "
                                       f"UNION SELECT tailoring_file FROM hosts WHERE {tailoring}",
                                       [*arf_params, *tailoring_params])
            used.update(r["p"] for r in rows)
        return used

    async def evidence_scans(self) -> list[tuple[str, int, str, str, str]]:
        rows = await self.db.fetch("SELECT id, host_id, profile_id, created_at, arf_path FROM scans "
                                   "WHERE arf_path IS NOT NULL ORDER BY created_at DESC, id DESC")
        return [tuple(r) for r in rows]

    async def forget_evidence(self, scan_ids: list[str]) -> None:
        await self.db.execute_many("UPDATE scans SET arf_path = NULL WHERE id = ?", [(i,) for i in scan_ids])
