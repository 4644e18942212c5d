"""Documented exceptions to rules (ExceptionStore in base.py), for both backends: recorded,
then decided (approved or rejected) and perhaps revoked, each change one conditional UPDATE so
that two people deciding at once cannot both win."""

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
        scope=row["scope"], rule_id=row["rule_id"], reason=row["reason"], requested_by=row["requested_by"],
        expires=row["expires"], host=row["host_name"], tag=row["tag"], id=row["id"], created_at=row["created_at"],
        status=row["status"], decided_by=row["decided_by"], decided_at=row["decided_at"],
        decision_note=row["decision_note"], revoked_by=row["revoked_by"], revoked_at=row["revoked_at"],
        revoke_note=row["revoke_note"],
    )


class Exceptions(ExceptionStore):
    db: Db

    async def add_exception(self, exc: RuleException) -> RuleException:
        exc_id, now = exc.id or str(uuid.uuid4()), exc.created_at or now_iso()  # a given id and time: tests
        decided_at = (exc.decided_at or now) if exc.decided_by else None
        async with self.db.transaction() as db:
            host_id = None
            if exc.scope == "host":
                host_id = await db.fetch_value("SELECT id FROM hosts WHERE name = ?", (exc.host,))
                if host_id is None:
                    raise NotFound(f"no host named {exc.host!r}; see `compliance-tui hosts list`")
            await db.execute(
                "INSERT INTO rule_exceptions (id, scope, host_id, tag, rule_id, reason, requested_by, expires, "
                "created_at, status, decided_by, decided_at, decision_note) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (exc_id, exc.scope, host_id, exc.tag if exc.scope == "tag" else None, exc.rule_id, exc.reason,
                 exc.requested_by, exc.expires, now, exc.status, exc.decided_by, decided_at, exc.decision_note))
        return await self.get_exception(exc_id)

    async def get_exception(self, exc_id: str) -> RuleException:
        return exception_of(await by_prefix(self.db, _SELECT, "e.id", exc_id, "exception", "exceptions list"))

    async def find_exceptions(self, status: str | None = None) -> list[RuleException]:
        where, params = (" WHERE e.status = ?", (status,)) if status else ("", ())
        return [exception_of(r) for r in await self.db.fetch(f"{_SELECT}{where} ORDER BY e.created_at, e.id", params)]

    async def decide_exception(self, exc_id: str, status: str, by: str, note: str | None = None) -> RuleException:
        if status not in ("approved", "rejected"):
            raise ValueError(f"a decision approves or rejects, not {status!r}")
        key = (await self.get_exception(exc_id)).id or exc_id
        changed = await self.db.execute(
            "UPDATE rule_exceptions SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? "
            "WHERE id = ? AND status = 'pending'", (status, by, now_iso(), note, key))
        exc = await self.get_exception(key)
        if not changed:
            raise InvalidInput(f"exception {exc.short_id} is {exc.status}, not pending: only a pending request "
                               "is approved or rejected")
        return exc

    async def revoke_exception(self, exc_id: str, by: str, note: str | None = None) -> RuleException:
        key = (await self.get_exception(exc_id)).id or exc_id
        changed = await self.db.execute(
            "UPDATE rule_exceptions SET status = 'revoked', revoked_by = ?, revoked_at = ?, revoke_note = ? "
            "WHERE id = ? AND status = 'approved'", (by, now_iso(), note, key))
        exc = await self.get_exception(key)
        if not changed:
            raise InvalidInput(f"exception {exc.short_id} is {exc.status}, not approved: only an approved "
                               "exception is revoked (a pending one is rejected)")
        return exc

    async def remove_exception(self, exc_id: str) -> RuleException:
        exc = await self.get_exception(exc_id)
        await self.db.execute("DELETE FROM rule_exceptions WHERE id = ?", (exc.id,))
        return exc
