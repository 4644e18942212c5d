"""Storage faults in the operator's words: a damaged database, a full disk, a store that cannot
be opened or written. The CLI, the TUI and the job runner turn an exception into one of these
lines (storage_fault) instead of "internal error (DatabaseError)".

SQLite says what happened through its result code (sqlite3.Error.sqlite_errorcode); a full
disk elsewhere (evidence, exports) is an OSError with ENOSPC; PostgreSQL's is SQLSTATE 53100.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path
from typing import Iterator

from core.domain.errors import OperatorError
from core.domain.limits import size

CHECK = "compliance-tui store check"
SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 8, 10, 11, 13, 14, 26
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
NEARLY_FULL = 1 << 20  # an I/O error with less than this free is the disk being full


class StorageFault(OperatorError):
    """A fault of the disk or the database file, said with the way out."""


def free_space(directory: Path) -> str:
    """How much is free on the file system holding directory, for a message."""
    path = Path(directory)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return f"{size(shutil.disk_usage(path).free)} free"
    except OSError:
        return "free space unknown"


def _nearly_full(directory: Path) -> bool:
    try:
        return shutil.disk_usage(directory).free < NEARLY_FULL
    except OSError:
        return False


def disk_full(directory: Path, what: str = "nothing was stored") -> StorageFault:
    return StorageFault(f"the disk holding {directory} is full ({free_space(directory)}); {what}: "
                        "free some space there and try again")


def damaged(database: Path, reason: str) -> StorageFault:
    return StorageFault(f"the store {database} is damaged ({reason}); nothing more was read or written: "
                        f"check it with `{CHECK}`, then restore a backup (`compliance-tui store backup` "
                        "makes one) or move the file aside to start afresh")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """exc, its causes and contexts, and the members of exception groups."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen or len(seen) > 20:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]


def storage_fault(exc: BaseException, database: Path | None = None,
                  data_dir: Path | None = None) -> StorageFault | None:
    """The operator's line for a storage fault anywhere in exc's chain, or None when it is none.
    database: the SQLite file in use (None on PostgreSQL); data_dir: where the app writes files."""
    for error in _chain(exc):
        if isinstance(error, StorageFault):
            return error
        found = _sqlite(error, database) if isinstance(error, sqlite3.Error) else None
        if found is None and isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            where = Path(error.filename).parent if error.filename else (data_dir or Path.cwd())
            found = disk_full(where)
        if found is None and getattr(error, "sqlstate", None) == "53100":
            found = StorageFault("the PostgreSQL server's disk is full; nothing was stored: free space "
                                 "on the database server and try again")
        if found is not None:
            return found
    return None


def _sqlite(error: sqlite3.Error, database: Path | None) -> StorageFault | None:
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    name = database or Path("compliance.db")
    reason = " ".join(str(error).split())[:120]
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return damaged(name, reason)
    if code == SQLITE_FULL or (code == SQLITE_IOERR and _nearly_full(name.parent)):
        return disk_full(name.parent)  # a full disk while opening shows as an I/O error (-shm, -wal)
    if code == SQLITE_IOERR:
        return StorageFault(f"the disk failed reading or writing the store {name} ({reason}): check the disk "
                            f"(dmesg), then `{CHECK}`")
    if code == SQLITE_READONLY:
        return StorageFault(f"the store {name} cannot be written here ({reason}): check the file's owner and "
                            "mode, and that its file system is not mounted read-only")
    if code == SQLITE_CANTOPEN:
        return StorageFault(f"cannot open the store {name}: check that its directory exists and this user "
                            "may write there")
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return StorageFault(f"the store {name} stayed locked by another process for 30 s; nothing was "
                            "stored: try again (a `store check` or a backup may be running)")
    return None
