"""Drift alerts: once every job of a schedule's run has ended, one process claims the run's
notification (the store lets one claim win, however many workers look), builds the digest
and sends it to the schedule's targets and [notify]'s, each in the background: a slow or
failing target never holds up a scan, nor another run's notification.

A run where nothing changed is quiet unless the schedule (or [notify]) asks for a heartbeat.
How it went is a line of the run (`schedules runs ID`) and lines in the output of the run's
jobs; a process that stops while sending lets its claim run out, and another sends it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from core.domain.errors import NotFound
from core.domain.notify_settings import NotifySettings
from core.domain.text import one_line
from core.domain.timeutil import now_iso, to_iso
from core.notify import targets as notify_targets
from core.notify.digest import digest
from core.notify.drift import run_drift
from core.notify.send import TRY_TIMEOUT, deliver
from core.store.base import RunToNotify
from core.workspace import Workspace

log = logging.getLogger(__name__)


def claim_time(settings: NotifySettings) -> timedelta:
    """Long enough for every try and wait: a claim that runs out means its process stopped."""
    waits = settings.backoff * (2 ** (settings.attempts - 1) - 1)
    return timedelta(seconds=waits + settings.attempts * TRY_TIMEOUT + 120)


class Notifier:
    """The notifications of one process (a worker's lead process, or a TUI that runs the
    schedules' jobs itself)."""

    def __init__(self, workspace: Workspace, owner: str, say: Callable[[str], None] = lambda _line: None):
        self.workspace, self.owner, self.say = workspace, owner, say
        self.sending: set[asyncio.Task[str]] = set()

    async def look(self) -> int:
        """Claim the runs that have ended and start telling of each; how many were claimed."""
        store, settings = self.workspace.store, self.workspace.settings.notify
        claimed = 0
        for run in await store.runs_to_notify(now_iso()):
            until = datetime.now(timezone.utc) + claim_time(settings)
            if await store.claim_run_notice(run, self.owner, to_iso(until), now_iso()):
                claimed += 1
                task = asyncio.create_task(self._tell(run), name=f"notify {run.schedule_id[:8]} {run.slot}")
                self.sending.add(task)
                task.add_done_callback(self.sending.discard)
        return claimed

    async def drain(self) -> None:
        """Wait for the notifications under way (a worker started with --once, before it exits)."""
        if self.sending:
            await asyncio.gather(*self.sending, return_exceptions=True)

    async def _tell(self, run: RunToNotify) -> str:
        try:
            state, note = await tell(self.workspace, run)
        except NotFound:  # the schedule was deleted meanwhile, and its runs with it
            return "gone"
        except Exception as exc:  # e.g. the store away for a moment: said with the run, never lost
            log.warning("the alert of schedule %s's run %s failed: %s", run.schedule_id[:8], run.slot,
                        one_line(str(exc) or type(exc).__name__, 300))
            state, note = "failed", f"could not build or send it: {one_line(str(exc) or type(exc).__name__, 200)}"
        try:
            await self.workspace.store.finish_run_notice(run, self.owner, state, note)
        except Exception as exc:  # the claim runs out and another process tells of the run again
            log.warning("could not record the alert of schedule %s's run %s: %s", run.schedule_id[:8], run.slot,
                        one_line(str(exc) or type(exc).__name__, 300))
        self.say(f"schedule {run.schedule_id[:8]}: run {run.slot[:16].replace('T', ' ')} UTC: {note}")
        return state


async def tell(workspace: Workspace, run: RunToNotify) -> tuple[str, str]:
    """Build and send the run's digest; its state (sent, failed, quiet or none) and a line."""
    store, settings = workspace.store, workspace.settings.notify
    schedule = await store.get_schedule(run.schedule_id)
    jobs = await store.slot_jobs(run)
    names = list(dict.fromkeys(settings.targets + schedule.notify))
    if not names:
        return "none", "no notification targets"
    message = digest(await run_drift(store, schedule, run, jobs), settings)
    if not message.worth_telling and not (schedule.heartbeat or settings.heartbeat):
        return "quiet", "nothing changed: no message (no heartbeat asked for)"
    found = await asyncio.to_thread(lambda: [notify_targets.find(n) for n in names])
    lines: list[str] = []  # as the job logs stamp theirs

    def note(line: str) -> None:
        lines.append(f"{datetime.now(timezone.utc):%H:%M:%S} {line}\n")

    deliveries = await deliver(found, message.title, message.body, settings.attempts, settings.backoff, note)
    await store.append_to_finished_jobs([j.id for j in jobs], "".join(lines))
    failed = [d for d in deliveries if not d.sent]
    sent = [d.name for d in deliveries if d.sent]
    outcome = (f"sent to {', '.join(sent)}" if sent else "sent to none") + \
        (f"; failed: {', '.join(f'{d.name} ({d.error})' for d in failed)}" if failed else "")
    return ("failed" if failed else "sent"), one_line(outcome, 500)
