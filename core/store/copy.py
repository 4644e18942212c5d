"""`compliance-tui store migrate --to postgresql://...`: the data dir's SQLite store copied
into a PostgreSQL store, every row with its own ids, then checked row by row.

Tables go parents first (hosts before scans before rule results and jobs). Every row is
inserted with ON CONFLICT DO NOTHING on its primary key, so a second run (after an
interrupted one, or to pick up what was added since) adds only what is missing and never
duplicates. Host ids are kept, so a target that already has other hosts under those ids (or
these names under other ids) is refused before anything is written: scans would land on the
wrong host otherwise. Evidence and tailoring files stay where they are; the rows refer to them
by path, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.domain.audit import HEAD_KEY, parse_head
from core.domain.errors import OperatorError
from core.store.postgres import PostgresStore
from core.store.schema import JOBS_CHANGED
from core.store.sqlite import SqliteStore

# table, SQLite order (parents and creation order), key columns
TABLES: list[tuple[str, str, list[str]]] = [
    ("meta", "key", ["key"]),
    ("hosts", "id", ["id"]),
    ("contents", "id", ["id"]),
    ("rules", "content_id, rule_id", ["content_id", "rule_id"]),
    ("rule_references", "content_id, system, rule_id, ref", ["content_id", "system", "rule_id", "ref"]),
    ("scans", "created_at, id", ["id"]),
    ("rule_results", "scan_id, rule_id", ["scan_id", "rule_id"]),
    ("jobs", "rowid", ["id"]),  # rowid: the creation order the target's seq then follows
    ("ai_explanations", "content_id, rule_id, result, model", ["content_id", "rule_id", "result", "model"]),
    ("ai_usage", "day, model", ["day", "model"]),
    ("schedules", "created_at, id", ["id"]),
    ("schedule_runs", "schedule_id, slot", ["schedule_id", "slot"]),
    ("rule_exceptions", "created_at, id", ["id"]),
    ("audit_log", "seq", ["seq"]),  # as it was, hashes and all: the chain still verifies
]
# a worker of the old store is not one of the new; PostgreSQL tells of job changes by NOTIFY
SKIPPED_META = {"worker_heartbeat", JOBS_CHANGED, HEAD_KEY}  # the action log's head: _copy_head


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int  # in the SQLite store
    added: int  # new in the target this run (0 on a re-run)


async def migrate(source: SqliteStore, target: PostgresStore,
                  say: Callable[[str], None] = lambda _line: None) -> list[Copied]:
    """Copy every table; OperatorError when the target holds other hosts or a row is missing after."""
    await _check_hosts(source, target)
    done = []
    for table, order, key in TABLES:
        columns, rows = await source.export_rows(table, order)
        if table == "meta":
            rows = [r for r in rows if r[columns.index("key")] not in SKIPPED_META]
        added = await target.import_rows(table, columns, rows)
        positions = [columns.index(c) for c in key]
        missing = await target.missing_keys(table, key, [tuple(r[i] for i in positions) for r in rows])
        if missing:
            raise OperatorError(f"store migrate: {missing} of {len(rows)} {table} rows are not in the target "
                                "after the copy; nothing was removed, run it again")
        say(f"{table}: {len(rows)} row(s), {added} added")
        done.append(Copied(table, len(rows), added))
    await _copy_head(source, target)
    return done


async def _copy_head(source: SqliteStore, target: PostgresStore) -> None:
    """The action log's head goes with its entries (the target's new store has its own, empty:
    ON CONFLICT would keep that), unless the target's chain has gone on since an earlier copy."""
    head, theirs = await source.get_meta(HEAD_KEY), parse_head(await target.get_meta(HEAD_KEY))
    mine = parse_head(head)
    if head and mine and (theirs is None or theirs[0] <= mine[0]):
        await target.set_meta(HEAD_KEY, head)


async def _check_hosts(source: SqliteStore, target: PostgresStore) -> None:
    columns, rows = await source.export_rows("hosts", "id")
    theirs = await target.host_ids()
    by_id = {i: n for n, i in theirs.items()}
    name_at, id_at = columns.index("name"), columns.index("id")
    clashes = [row[name_at] for row in rows
               if theirs.get(row[name_at], row[id_at]) != row[id_at] or by_id.get(row[id_at], row[name_at]) != row[name_at]]
    if clashes:
        raise OperatorError(f"store migrate: the target store has other hosts under the ids or names of "
                            f"{len(clashes)} host(s) here (e.g. {clashes[0]}): migrate into an empty database")
