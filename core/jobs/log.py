"""A job's output log: the steps it took and what the target printed, capped in size.

Kept in memory by the process running the job and written to the store with its progress,
so only that process ever writes it. Past the cap the middle goes: the first steps and the
latest lines (where an error is) stay.
"""

from __future__ import annotations

from datetime import datetime, timezone

from core.domain.text import neutralise

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
