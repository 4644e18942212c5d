"""`compliance-tui store migrate --to postgresql://...`: the data dir's SQLite store into a
shared PostgreSQL store (core/store/copy.py); `store check` and `store backup FILE`
(core/store/maintenance.py), which open the store themselves, so they work on a damaged one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core import paths
from core.domain.errors import OperatorError
from core.domain.store_url import check_url, masked
from tui.cli.output import print_json, say

if TYPE_CHECKING:
    from core.domain.settings import Settings


def register(commands) -> None:
    store = commands.add_parser("store", help="the store").add_subparsers(dest="action", required=True)
    migrate = store.add_parser("migrate", help="copy the data dir's SQLite store into a PostgreSQL store "
                                               "(safe to run again: nothing is duplicated)")
    migrate.add_argument("--to", required=True, metavar="URL",
                         help="postgresql://USER@HOST:PORT/DATABASE; the password from $PGPASSWORD or ~/.pgpass")
    migrate.add_argument("--json", action="store_true")
    store.add_parser("check", help="check the store: SQLite's integrity_check and foreign keys; on "
                                   "PostgreSQL the schema version and rows that point at nothing")
    backup = store.add_parser("backup", help="a consistent copy of the SQLite store while it is in use "
                                             "(private, 0600); PostgreSQL: use pg_dump")
    backup.add_argument("file", metavar="FILE", help="the backup file to write (replaced if it exists)")


async def store_migrate(data_dir: Path, settings: Settings, args) -> int:
    from core.store import copy
    from core.store.postgres import PostgresStore
    from core.store.sqlite import SqliteStore

    url = check_url(args.to, "--to", password_allowed=False)
    database = paths.database(data_dir)
    if not database.is_file():
        raise OperatorError(f"no SQLite store at {database}: nothing to migrate (see --data-dir)")
    source = await SqliteStore.open(database)
    try:
        target = await PostgresStore.open(url)
        try:
            copied = await copy.migrate(source, target, say=lambda line: say(line, err=True))
        finally:
            await target.close()
    finally:
        await source.close()
    if args.json:
        print_json({"to": masked(url), "tables": {c.table: {"rows": c.rows, "added": c.added} for c in copied}})
    else:
        total, added = sum(c.rows for c in copied), sum(c.added for c in copied)
        say(f"migrated {database} to {masked(url)}: {total} row(s) checked, {added} added; "
            f"next: compliance-tui --store {masked(url)} (or [store] url in the config file)")
    return 0


async def store_check(data_dir: Path, settings: Settings, args) -> int:
    from core.store import maintenance

    report = await maintenance.check(paths.database(data_dir), settings.store_url)
    say(f"store           {report.store}")
    for line in report.lines:
        say(line)
    if not report.ok:
        say("error: the store has problems (above): restore a backup, or move the file aside to start afresh; "
            "docs/data.md", err=True)
        return 1
    return 0


async def store_backup(data_dir: Path, settings: Settings, args) -> int:
    from core.store import maintenance

    say(await maintenance.backup(paths.database(data_dir), settings.store_url, Path(args.file)))
    return 0


COMMANDS = {("store", "migrate"): store_migrate, ("store", "check"): store_check, ("store", "backup"): store_backup}
