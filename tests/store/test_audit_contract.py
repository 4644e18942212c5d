"""What every store backend must do for the action log (issue 27): append in a chain, list with
filters, refuse UPDATE and DELETE, and let `audit verify` find an edited, a deleted and a
truncated entry.

To tamper, these tests first drop the append-only triggers, as an attacker who owns the SQLite
file or is a PostgreSQL superuser can: the triggers stop mistakes and the app's own role, the
chain is what catches the rest.
"""

from __future__ import annotations

import asyncio

import pytest

from core.audit.verify import verify
from core.domain.audit import GENESIS, NewEntry, hash_of
from tests.store.conftest import reopen

ME = "alice@jump"


def entries(n: int, action: str = "host.added") -> list[NewEntry]:
    return [NewEntry(action, f"web{i}", {"address": f"10.0.0.{i}"}, ME) for i in range(1, n + 1)]


async def drop_triggers(store) -> None:
    """What an attacker with the file (SQLite) or a superuser (PostgreSQL) can do first."""
    if store.db.dialect.name == "sqlite":
        await store.db.execute("DROP TRIGGER audit_log_no_update")
        await store.db.execute("DROP TRIGGER audit_log_no_delete")
    else:
        await store.db.execute("DROP TRIGGER audit_log_append_only ON audit_log")


async def test_append_links_each_entry_to_the_one_before(store):
    written = await store.append_audit(entries(3))
    assert [e.seq for e in written] == [1, 2, 3]
    assert written[0].prev_hash == GENESIS
    assert [e.prev_hash for e in written[1:]] == [e.hash for e in written[:-1]]
    assert all(hash_of(e) == e.hash for e in written)
    assert await store.audit_head() == (3, written[-1].hash)
    more = await store.append_audit([NewEntry("scan.started", "web1", {"job": "j1"}, ME)])
    assert more[0].seq == 4 and more[0].prev_hash == written[-1].hash
    assert (await verify(store)).intact


async def test_an_empty_log_verifies(store):
    verdict = await verify(store)
    assert verdict.intact and verdict.entries == 0 and verdict.head == (0, GENESIS)


async def test_lists_newest_first_with_filters(store):
    await store.append_audit(entries(2))
    await store.append_audit([NewEntry("hostkey.trusted", "web1", {"fingerprint": "SHA256:x"}, ME),
                              NewEntry("schedule.added", "abcd", {}, ME)])
    listed = await store.audit_entries()
    assert [e.seq for e in listed] == [4, 3, 2, 1]
    assert [e.action for e in await store.audit_entries(subject="web1")] == ["hostkey.trusted", "host.added"]
    assert [e.seq for e in await store.audit_entries(action="host")] == [2, 1]  # not hostkey.*
    assert [e.seq for e in await store.audit_entries(action="hostkey.trusted")] == [3]
    assert [e.seq for e in await store.audit_entries(since=listed[1].at)] == [4, 3]
    assert [e.seq for e in await store.audit_entries(limit=1)] == [4]
    assert listed[-1].details_dict() == {"address": "10.0.0.1"}
    assert [e.seq for e in await store.audit_chain(after=1, limit=2)] == [2, 3]


async def test_an_action_prefix_is_not_a_pattern(store):
    await store.append_audit([NewEntry("host.added", "a", {}, ME), NewEntry("hostXadded", "b", {}, ME)])
    assert [e.subject for e in await store.audit_entries(action="host_")] == []
    assert [e.subject for e in await store.audit_entries(action="host.")] == ["a"]


async def test_update_and_delete_are_refused(store):
    await store.append_audit(entries(2))
    for sql in ("UPDATE audit_log SET actor = 'mallory@x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 2",
                "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            await store.db.execute(sql)
    assert len(await store.audit_entries()) == 2
    assert (await verify(store)).intact


async def test_concurrent_writers_never_fork_the_chain(store):
    others = [await reopen(store) for _ in range(3)]
    try:
        await asyncio.gather(*(s.append_audit(entries(5)) for s in [store, *others] for _ in range(2)))
    finally:
        for other in others:
            await other.close()
    chain = await store.audit_chain()
    assert [e.seq for e in chain] == list(range(1, 41))
    verdict = await verify(store)
    assert verdict.intact, verdict.problems


async def test_verify_finds_an_edited_entry(store):
    await store.append_audit(entries(4))
    await drop_triggers(store)
    await store.db.execute("UPDATE audit_log SET actor = 'mallory@x' WHERE seq = 2")
    verdict = await verify(store)
    assert verdict.problems == ["seq 2: its hash does not match what it holds (edited)"]


async def test_verify_finds_an_edit_whose_hash_was_recomputed(store):
    await store.append_audit(entries(4))
    await drop_triggers(store)
    (second,) = [e for e in await store.audit_chain() if e.seq == 2]
    from dataclasses import replace

    forged = replace(second, subject="elsewhere")
    await store.db.execute("UPDATE audit_log SET subject = ?, hash = ? WHERE seq = 2",
                           (forged.subject, hash_of(forged)))
    verdict = await verify(store)
    assert len(verdict.problems) == 1 and verdict.problems[0].startswith("seq 3: its prev_hash")


async def test_verify_finds_a_deleted_middle_entry(store):
    await store.append_audit(entries(5))
    await drop_triggers(store)
    await store.db.execute("DELETE FROM audit_log WHERE seq = 3")
    verdict = await verify(store)
    assert not verdict.intact
    assert verdict.problems == ["seq 4: entry 3 is missing (deleted: the chain has a gap before it)"]


async def test_verify_finds_a_deleted_last_entry(store):
    await store.append_audit(entries(5))
    await drop_triggers(store)
    await store.db.execute("DELETE FROM audit_log WHERE seq >= 4")
    verdict = await verify(store)
    assert verdict.problems == ["head: the store recorded 5 entries but the chain ends at seq 3 "
                                "(entries 4 to 5 were deleted)"]


async def test_verify_finds_a_renumbered_chain(store):
    """Deleting entry 2 and renumbering the rest closes the gap, not the broken link."""
    await store.append_audit(entries(3))
    await drop_triggers(store)
    await store.db.execute("DELETE FROM audit_log WHERE seq = 2")
    await store.db.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
    problems = (await verify(store)).problems
    assert any(p.startswith("seq 2: its prev_hash") for p in problems)
    assert any(p.startswith("head:") for p in problems)


async def test_verify_finds_a_missing_head(store):
    await store.append_audit(entries(1))
    await store.db.execute("DELETE FROM meta WHERE key = 'audit_head'")
    assert (await verify(store)).problems == [
        "head: the chain's recorded head (meta audit_head) is missing or unreadable"]
    await store.append_audit(entries(1))  # the chain goes on, the head is written again
    assert (await verify(store)).intact
