"""`store check` and `store backup`: what an operator runs when the store may be damaged, and
before an upgrade or a move.

SQLite: the check is `PRAGMA integrity_check` (every page, index and constraint of the file)
and `PRAGMA foreign_key_check`, on the file itself, so it runs when the app cannot open it. The
backup is SQLite's online backup API (sqlite3's Connection.backup): a consistent copy while
workers write, into a private temporary file beside the target, checked, then renamed.
PostgreSQL keeps its own pages consistent; its check is what the app relies on beyond that
(the schema version and rows that point at nothing), and its backup is pg_dump's.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from core.domain.errors import OperatorError
from core.domain.limits import size
from core.domain.store_url import masked
from core.store.base import Store
from core.store.faults import DISK_FULL_ERRNOS, SQLITE_FULL, damaged, disk_full
from core.store.schema import STEPS

PG_DUMP = "pg_dump --format=custom --file=compliance-$(date +%F).dump (docs/postgresql.md, Backups)"


@dataclass
class CheckReport:
    store: str  # the file, or the masked URL
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def add(self, what: str, found: str) -> None:
        self.lines.append(f"{what:<16}{found}")
        if found != "ok" and not found.startswith(("ok ", "schema ")):
            self.ok = False


def check_sqlite(database: Path) -> CheckReport:
    """Blocking: run it in a thread. Never creates the file."""
    report = CheckReport(str(database))
    if not database.is_file():
        raise OperatorError(f"no SQLite store at {database} (see --data-dir)")
    try:
        db = sqlite3.connect(_read_only(database), uri=True)
    except sqlite3.Error as exc:
        raise OperatorError(f"cannot open {database}: {exc}") from None
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        report.add("schema", f"schema {version} of {len(STEPS)} this version knows"
                   + ("" if version <= len(STEPS) else " (written by a newer compliance-tui)"))
        problems = [row[0] for row in db.execute("PRAGMA integrity_check(20)")]
        report.add("integrity_check", "ok" if problems == ["ok"] else "; ".join(problems)[:600])
        orphans = db.execute("PRAGMA foreign_key_check").fetchmany(20)
        report.add("foreign keys", "ok" if not orphans else
                   f"{len(orphans)}{'+' if len(orphans) == 20 else ''} row(s) point at rows that are gone, "
                   f"e.g. in {orphans[0][0]}")
    except sqlite3.DatabaseError as exc:  # not a database at all, or damaged past reading
        report.add("integrity_check", f"unreadable: {' '.join(str(exc).split())}")
    finally:
        db.close()
    return report


async def check_postgres(store: Store, url: str) -> CheckReport:
    """The schema version and the app's own consistency (core/store/postgres.py's integrity_check)
    of the PostgreSQL store at url."""
    report = CheckReport(f"PostgreSQL {masked(url)}")
    version = await store.schema_version()
    report.add("schema", f"schema {version} of {len(STEPS)} this version knows")
    report.add("consistency", await store.integrity_check())
    report.lines.append("(checked: jobs whose host is gone, queued or running jobs without a lease; "
                        "PostgreSQL checks its own pages: pg_amcheck for those)")
    return report


def backup_sqlite(database: Path, target: Path) -> int:
    """Blocking: copy the store into target through a private temporary file; returns its size."""
    if not database.is_file():
        raise OperatorError(f"no SQLite store at {database} (see --data-dir)")
    target = target.expanduser().absolute()
    if target.is_dir():
        raise OperatorError(f"{target} is a directory: give the backup's file name")
    if target.resolve() in (database.resolve(), Path(f"{database}-wal").resolve()):
        raise OperatorError(f"{target} is the store itself: give another file")
    if not target.parent.is_dir():
        raise OperatorError(f"{target.parent} does not exist: create it first")
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:64]}.", suffix=".part")
    os.close(fd)  # mkstemp: O_EXCL, 0600; SQLite writes into it
    try:
        _copy(database, Path(partial))
        os.replace(partial, target)
    except BaseException as exc:
        Path(partial).unlink(missing_ok=True)
        if _disk_full(exc):
            raise disk_full(target.parent, "no backup was written") from None
        raise
    return target.stat().st_size


def _copy(database: Path, partial: Path) -> None:
    source = sqlite3.connect(_read_only(database), uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=1024)  # in steps: writers of other processes go on meanwhile
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            found = copy.execute("PRAGMA quick_check").fetchone()[0]
            if found != "ok":
                raise damaged(database, found)
        finally:
            copy.close()
    except sqlite3.DatabaseError as exc:
        if _disk_full(exc):
            raise
        raise damaged(database, " ".join(str(exc).split())) from None
    finally:
        source.close()


def _read_only(database: Path) -> str:
    return f"file:{quote(str(database.absolute()))}?mode=ro"


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return ((getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF) == SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


async def check(database: Path, store_url: str | None) -> CheckReport:
    if not store_url:
        return await asyncio.to_thread(check_sqlite, database)
    from core.store import open_store

    store = await open_store(database, store_url)
    try:
        return await check_postgres(store, store_url)
    finally:
        await store.close()


async def backup(database: Path, store_url: str | None, target: Path) -> str:
    """One line saying what was written."""
    if store_url:
        raise OperatorError(f"store backup copies a SQLite store; this one is PostgreSQL: back it up with {PG_DUMP}")
    written = await asyncio.to_thread(backup_sqlite, database, target)
    return f"backed up {database} to {target} ({size(written)}, checked with quick_check); " \
           f"restore: stop every process using it, then copy it over {database}"
