"""Finding this test run's own processes, never another's: the machine may run other suites
(or other xdist workers) at the same time, so nothing here matches by pattern across it.

A played host's processes are those in its own mount namespace (its sshd's); a command's are
its descendants, remembered with their start times so that a reused pid is not mistaken.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def command_name(pid: int) -> str | None:
    """The process's command name (/proc/PID/comm), None when it has ended meanwhile."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _started(pid: int) -> str:
    """The start time in clock ticks (field 22 of /proc/PID/stat): a pid's identity with it."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]


def in_namespace_of(pid: int, needle: str) -> list[int]:
    """Pids in pid's mount namespace whose command line contains needle."""
    own = os.readlink(f"/proc/{pid}/ns/mnt")
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry.name}/ns/mnt") == own and needle in _cmdline(int(entry.name)):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below pid (children of each of its threads, recursively)."""
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                queue.append(child)
    return found


class Tracked:
    """Processes seen once (pid and start time): which of them still run, even after they
    were reparented away from the process that started them."""

    def __init__(self) -> None:
        self.seen: dict[int, str] = {}

    def add(self, pids: list[int]) -> list[int]:
        for pid in pids:
            try:
                self.seen.setdefault(pid, _started(pid))
            except OSError:
                pass
        return pids

    def alive(self) -> list[int]:
        running = []
        for pid, started in self.seen.items():
            try:
                if _started(pid) == started:
                    running.append(pid)
            except OSError:
                pass
        return running


def kill(pids: list[int], sig: int = signal.SIGKILL) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
