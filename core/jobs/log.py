"""A job's output log: the steps it took and what the target printed, capped in size.

Kept in memory by the process running the job and written to the store with its progress,
so only that process ever writes it. Past the cap the middle goes: the first steps and the
latest lines (where an error is) stay. And log_failure: how the loops around jobs (claims,
leases, progress writes, the worker's heartbeat) log a failure they will try again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from core.domain.errors import OperatorError
from core.domain.text import neutralise, one_line

log = logging.getLogger(__name__)

CAP = 256 * 1024  # characters
HEAD = 32 * 1024


class JobLog:
    def __init__(self, text: str = ""):
        self._head = text[:HEAD]
        self._tail = text[HEAD:]
        self._cut = 0

    def add(self, line: str) -> None:
        """One line, stamped with the UTC time; what came from a target is made harmless."""
        stamp = datetime.now(timezone.utc).strftime("%H:%M:%S")
        for part in neutralise(line).splitlines() or [""]:
            self._append(f"{stamp} {part}\n")

    def _append(self, text: str) -> None:
        if len(self._head) < HEAD:
            room = HEAD - len(self._head)
            self._head += text[:room]
            text = text[room:]
        self._tail += text
        excess = len(self._head) + len(self._tail) - CAP
        if excess > 0:
            self._tail = self._tail[excess:]
            self._cut += excess

    @property
    def text(self) -> str:
        if not self._cut:
            return self._head + self._tail
        return f"{self._head}[… {self._cut:,} characters left out …]\n{self._tail}"


def log_failure(what: str, exc: Exception) -> None:
    """A store that is away for a moment (a PostgreSQL restart, a lost link, a lock held long)
    is one line, and the loop tries again; anything else is a bug and gets its traceback."""
    if isinstance(exc, (OSError, TimeoutError, OperatorError)) or \
            type(exc).__module__.split(".")[0] in ("asyncpg", "sqlite3"):
        log.warning("%s failed: %s; trying again", what, one_line(str(exc) or type(exc).__name__, 300))
    else:
        log.exception("%s failed", what)
