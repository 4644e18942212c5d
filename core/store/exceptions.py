"""Documented exceptions to rules (ExceptionStore in base.py), for both backends."""

from __future__ import annotations

import uuid

from core.domain.errors import InvalidInput, NotFound
from core.domain.policy import RuleException
from core.domain.timeutil import now_iso
from core.store.base import ExceptionStore
from core.store.db import Db, Row, by_prefix

_SELECT = "SELECT e.*, h.name AS host_name FROM rule_exceptions e LEFT JOIN hosts h ON h.id = e.host_id"


def exception_of(row: Row | None) -> RuleException:
    if row is None:
        raise InvalidInput("no such exception")
    return RuleException(
        scope=row["scope"], rule_id=row["rule_id"], reason=row["reason"], accepted_by=row["accepted_by"],
        expires=row["expires"], host=row["host_name"], tag=row["tag"], id=row["id"], created_at=row["created_at"],
    )


class Exceptions(ExceptionStore):
    db: Db

    async def add_exception(self, exc: RuleException) -> RuleException:
        exc_id, now = exc.id or str(uuid.uuid4()), now_iso()  # a given id: tests
        async with self.db.transaction() as db:
            host_id = None
            if exc.scope == "host":
                host_id = await db.fetch_value("SELECT id FROM hosts WHERE name = ?", (exc.host,))
                if host_id is None:
                    raise NotFound(f"no host named {exc.host!r}; see `compliance-tui hosts list`")
            await db.execute(
                "INSERT INTO rule_exceptions (id, scope, host_id, tag, rule_id, reason, accepted_by, expires, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (exc_id, exc.scope, host_id, exc.tag if exc.scope == "tag" else None, exc.rule_id, exc.reason,
                 exc.accepted_by, exc.expires, now))
        return await self.get_exception(exc_id)

    async def get_exception(self, exc_id: str) -> RuleException:
        return exception_of(await by_prefix(self.db, _SELECT, "e.id", exc_id, "exception", "exceptions list"))

    async def find_exceptions(self) -> list[RuleException]:
        return [exception_of(r) for r in await self.db.fetch(f"{_SELECT} ORDER BY e.created_at, e.id")]

    async def remove_exception(self, exc_id: str) -> RuleException:
        exc = await self.get_exception(exc_id)
        await self.db.execute("DELETE FROM rule_exceptions WHERE id = ?", (exc.id,))
        return exc
