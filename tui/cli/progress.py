"""The CLI's view of running jobs, on stderr, fed by the core event hub.

On a terminal: one line per job (host, rules done, the rule now running, elapsed), redrawn
in place as apt and pip do. Without a terminal (cron, CI logs) or with --json: one line
when each job starts and one when it ends, nothing in between. A scan's line starts with its
scan id, the one `scan` prints in its table and `results`, `report` and `fix` take; other
jobs' (Quick Fix, hardening) with their job id.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from core.domain.events import JobEvent
from core.domain.models import Job
from core.domain.text import neutralise

REDRAW_EVERY = 0.25  # seconds
RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"


class JobProgress:
    def __init__(self, out: TextIO | None = None, live: bool | None = None):
        self.out = out or sys.stderr
        self.live = self.out.isatty() if live is None else live
        self.jobs: dict[str, Job] = {}
        self.started: dict[str, float] = {}
        self._drawn = 0  # lines drawn last time
        self._drawn_at = 0.0
        self._due: asyncio.TimerHandle | None = None  # a redraw of the latest state, soon

    def __call__(self, event: JobEvent) -> None:
        job = event.job
        if event.kind == "started":
            self.started[job.id] = time.monotonic()
        if event.kind in ("created", "started", "progress"):
            self.jobs[job.id] = job
        if event.kind == "finished":
            self.jobs[job.id] = job
        if self.live:
            self._redraw(force=event.kind != "progress")
        elif event.kind == "started":
            self._print(f"{_label(job)} {job.host_name}: started")
        elif event.kind == "finished":
            self._print(f"{_label(job)} {job.host_name}: {self._outcome(job)}")

    def _outcome(self, job: Job) -> str:
        return job.status.value + (f": {job.error}" if job.error else "")

    def _line(self, job: Job) -> str:
        if job.status.finished:
            state = self._outcome(job)
        elif job.started_at or job.id in self.started:
            elapsed = time.monotonic() - self.started.get(job.id, time.monotonic())
            rule = (job.current or "").removeprefix(RULE_PREFIX)
            state = f"{job.progress_line}  {elapsed:4.0f} s" + (f"  {rule}" if rule else "")
        else:
            state = "waiting"
        return f"{_label(job)} {job.host_name:<16} {state}"

    def _redraw(self, force: bool = False) -> None:
        """At most every REDRAW_EVERY; the latest state is drawn then even when no other event
        comes (a rule that runs for minutes right after a burst of quick ones)."""
        now = time.monotonic()
        wait = self._drawn_at + REDRAW_EVERY - now
        if not force and wait > 0:
            self._redraw_soon(wait)
            return
        if self._due is not None:
            self._due.cancel()
            self._due = None
        self._drawn_at = now
        width = _columns(self.out)
        lines = [neutralise(self._line(j))[: width - 1] for j in self.jobs.values()]
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self.out.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self.out.flush()
        self._drawn = len(lines)

    def _redraw_soon(self, wait: float) -> None:
        if self._due is None:
            try:
                self._due = asyncio.get_running_loop().call_later(wait, self._redraw, True)
            except RuntimeError:  # no event loop: the next event redraws
                pass

    def _print(self, line: str) -> None:
        print(neutralise(line), file=self.out, flush=True)


def wait_here(as_json: bool):
    """Where the CLI runs jobs without --enqueue (core/jobs/submit.py): in this process, waited
    for, their progress on stderr (a line at each start and end with --json)."""
    from core.jobs.submit import Wait

    return Wait(JobProgress(live=False if as_json else None))


def _label(job: Job) -> str:
    """A scan job goes by its scan's id: the id the table after it shows, that `results`,
    `report` and `fix` take; any other job by its own id."""
    return job.scan_id[:8] if job.kind == "scan" and job.scan_id else job.short_id


def _columns(out: TextIO) -> int:
    import os

    try:
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError):
        return 100
