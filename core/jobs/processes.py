"""`compliance-tui worker --processes N`: one worker on all of a jump host's cores.

The worker this process runs is process 0 of N: it alone looks for due schedules, writes the
heartbeat and prunes evidence. It starts the other N-1 as child worker processes (the same
program, `worker --child-of PID`), which share the queue with it through the store (a claim
gives a job to one process; each process holds its own leases).

The children are started in a session of their own, so a Ctrl-C on the terminal reaches this
process only and it forwards every SIGTERM or SIGINT it gets: the first makes each process stop
claiming and finish within worker_grace, a second skips the grace, as with one process. A child
dies with this process (PR_SET_PDEATHSIG), so a killed worker leaves nothing running: the
leases of its jobs run out and the jobs are recovered, as ever. Secrets (PGPASSWORD, the sudo
password variables) reach the children through the environment, never their command line.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
from typing import Callable, Sequence

from core.domain.errors import InvalidInput

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def check_processes(text: str | int | None) -> int:
    """--processes: a whole number of worker processes, 1 or more (None: the usable cores)."""
    if text is None:
        return usable_cores()
    try:
        count = int(str(text).strip())
    except ValueError:
        count = 0
    if count < 1 or count > 1024:
        raise InvalidInput(f"invalid --processes {str(text)!r}: give a whole number of worker processes, "
                           f"1 or more (default: the {usable_cores()} usable core(s))")
    return count


def share(total: int, processes: int) -> int:
    """Each process's max_concurrent: the worker's total divided among its processes, at least 1."""
    return max(1, total // processes)


def die_with_parent(parent: int) -> bool:
    """In a child: be killed when the worker that started it ends (Linux); False when it has
    ended already (this process was started by it and reparented since)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker still forwards its signals
        pass
    return os.getppid() == parent


def exit_status(returncode: int) -> int:
    """A child's status as a shell shows it: killed by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


class Children:
    """The child worker processes of this one: started, sent this process's signals, awaited."""

    def __init__(self, argv: Sequence[str], count: int, *, once: bool = False,
                 say: Callable[[str], None] = lambda _line: None):
        self.argv = list(argv)
        self.count = count
        self.once = once  # `worker --once`: a child ending with 0 has done its part
        self.say = say
        self.processes: list[asyncio.subprocess.Process] = []
        self.signals = 0  # forwarded so far (a signal before the start: none are started)
        self._watches: list[asyncio.Task[int]] = []

    async def start(self) -> None:
        for _ in range(self.count if not self.signals else 0):
            process = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
            self.processes.append(process)
            self._watches.append(asyncio.create_task(self._watch(process)))

    async def _watch(self, process: asyncio.subprocess.Process) -> int:
        code = await process.wait()
        if code != 0 or not (self.signals or self.once):  # not asked to stop: say so, whatever its status
            self.say(f"worker process {process.pid} stopped ({describe(code)}); the jobs it was running "
                     "go back to the queue when their leases run out")
        return exit_status(code)

    def forward(self, sig: int) -> None:
        """This process got sig: so do the children (the first: stop claiming, finish within the
        grace; another: now)."""
        self.signals += 1
        for process in self.processes:
            if process.returncode is None:
                try:
                    process.send_signal(sig)
                except ProcessLookupError:
                    pass

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    async def wait(self) -> int:
        """When every child has ended: the worst exit status among them (0: none failed)."""
        codes = await asyncio.gather(*self._watches)
        return max(codes, default=0)
