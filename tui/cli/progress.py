"""The CLI's view of running jobs, on stderr, fed by the core event hub.

On a terminal: one line per job (host, rules done, the rule now running, elapsed), redrawn
in place as apt and pip do. Without a terminal (cron, CI logs) or with --json: one line
when each job starts and one when it ends, nothing in between.
"""

from __future__ import annotations

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
            self._print(f"{job.short_id} {job.host_name}: started")
        elif event.kind == "finished":
            self._print(f"{job.short_id} {job.host_name}: {self._outcome(job)}")

    def _outcome(self, job: Job) -> str:
        return job.status.value + (f": {job.error}" if job.error else "")

    def _line(self, job: Job) -> str:
        total = job.progress_total or "?"
        if job.status.finished:
            state = self._outcome(job)
        elif job.started_at or job.id in self.started:
            elapsed = time.monotonic() - self.started.get(job.id, time.monotonic())
            rule = (job.current or "").removeprefix(RULE_PREFIX)
            state = f"{job.progress_done} / {total} rules  {elapsed:4.0f} s" + (f"  {rule}" if rule else "")
        else:
            state = "waiting"
        return f"{job.short_id} {job.host_name:<16} {state}"

    def _redraw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn_at < REDRAW_EVERY:
            return
        self._drawn_at = now
        width = _columns(self.out)
        lines = [neutralise(self._line(j))[: width - 1] for j in self.jobs.values()]
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self.out.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self.out.flush()
        self._drawn = len(lines)

    def _print(self, line: str) -> None:
        print(neutralise(line), file=self.out, flush=True)


def _columns(out: TextIO) -> int:
    import os

    try:
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError):
        return 100
