"""`compliance-tui worker`: runs the queue's jobs with no TUI open (a systemd service, or cron
with --once).

SIGTERM or SIGINT: stop claiming, let running jobs finish for settings.worker_grace seconds,
then hand the rest back to the queue (a scan is safe to run again) and exit. A second
signal skips the grace period.

With --processes N this is process 0 of N (core/jobs/processes.py): it starts the others,
forwards its signals to them and waits for them; it alone enqueues due schedules, writes the
heartbeat and prunes evidence (lead=False in the others).
"""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime, timedelta, timezone
from typing import Callable

from core.domain.text import one_line
from core.domain.timeutil import now_iso, parse_iso
from core.jobs.log import log_failure
from core.jobs.processes import Children
from core.jobs.runner import Runner
from core.notify.service import Notifier
from core.schedules.service import enqueue_due
from core.workspace import Workspace

HEARTBEAT = "worker_heartbeat"  # meta key: "<time> <owner>" of the last worker seen alive
ALIVE = timedelta(seconds=60)  # a heartbeat younger than this: a worker runs
SCHEDULE_EVERY = 20.0  # seconds between looks for due schedules (slots are minutes apart at least)


def worker_alive(heartbeat: str | None, now: datetime | None = None) -> bool:
    if not heartbeat:
        return False
    seen = parse_iso(heartbeat.split()[0])
    return (now or datetime.now(timezone.utc)) - seen < ALIVE


async def run_worker(workspace: Workspace, *, once: bool = False, zone: str | None = None,
                     say: Callable[[str], None] = lambda _line: None, children: Children | None = None,
                     lead: bool = True) -> int:
    """zone: run the pending jobs of that zone's hosts; None: of hosts without a zone.
    children: worker processes to start once the due schedules are enqueued, sent this one's
    signals and waited for; the exit status is the worst of theirs. lead: this process looks
    for due schedules, writes the heartbeat and prunes evidence (one process of a worker does)."""
    runner = Runner(workspace, take_pending=True, zone=zone)
    stopping = asyncio.Event()
    signals = 0

    def on_signal(sig: int) -> None:
        nonlocal signals
        signals += 1
        stopping.set()
        if children is not None:
            children.forward(sig)
        if signals > 1:
            say("stopping now: handing running jobs back to the queue")
            for task in runner.running.values():
                task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    beat = asyncio.create_task(_heartbeat(workspace, runner)) if lead else None
    prunes = lead and workspace.settings.evidence.prunes
    pruning = asyncio.create_task(_prune_daily(workspace, say)) if prunes else None
    expiries = None
    ticks = None
    notifier = Notifier(workspace, runner.owner, say)  # the lead process tells of schedules' runs
    status = 0
    try:
        if lead:  # due and missed schedules first, so that --once runs them too (in any process)
            await enqueue_scheduled(workspace, runner, say)
            await _log_expired(workspace)
            expiries = asyncio.create_task(_log_expiries(workspace))
            ticks = asyncio.create_task(_schedule_loop(workspace, runner, notifier, say))
        if children is not None:
            await children.start()
        await runner.start()
        which = f"of zone {zone}" if zone else "of hosts without a zone"
        more = f" (and {len(children.pids)} more worker process(es))" if children is not None else ""
        say(f"worker {runner.owner}: running jobs {which}, up to {workspace.settings.max_concurrent} "
            f"at once{more}")
        waits: list[asyncio.Task[object]] = [asyncio.create_task(stopping.wait())]
        if once:
            waits.append(asyncio.create_task(runner.run_until_idle()))
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        if runner.running:
            say(f"stopping: {len(runner.running)} job(s) running; waiting up to "
                f"{workspace.settings.worker_grace:.0f} s for them")
        await runner.stop(grace=0 if signals > 1 else workspace.settings.worker_grace, release=True)
        if children is not None:  # they stop on their own (--once) or on the signals forwarded
            status = await children.wait()
        if lead and once and not signals:  # the runs this worker finished are told of before it exits
            await _notify(notifier)
            await notifier.drain()
    finally:
        if beat is not None:
            beat.cancel()
        if pruning is not None:
            pruning.cancel()
        if expiries is not None:
            expiries.cancel()
        if ticks is not None:
            ticks.cancel()
        for sending in list(notifier.sending):  # its claim runs out: another process sends it
            sending.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return status


async def enqueue_scheduled(workspace: Workspace, runner: Runner, say: Callable[[str], None]) -> int:
    """Enqueue the schedules' due slots (pending for any worker); a line for each."""
    done = await enqueue_due(workspace, runner.owner)
    for run in done:
        missing = f" ({', '.join(run.missing)}: no such host)" if run.missing else ""
        say(f"schedule {run.schedule.short_id}: slot {run.slot[:16].replace('T', ' ')} UTC, "
            f"{len(run.jobs)} scan job(s) enqueued{missing}")
    if done:
        runner.wake()
    return len(done)


async def _schedule_loop(workspace: Workspace, runner: Runner, notifier: Notifier,
                         say: Callable[[str], None]) -> None:
    while True:
        await asyncio.sleep(SCHEDULE_EVERY)
        try:
            await enqueue_scheduled(workspace, runner, say)
        except Exception as exc:  # e.g. the database locked for long: the next tick tries again
            log_failure("enqueueing scheduled scans", exc)
        await _notify(notifier)


async def _notify(notifier: Notifier) -> None:
    try:
        await notifier.look()
    except Exception as exc:  # as above: the next tick looks again
        log_failure("looking for schedules' runs to tell of", exc)


async def _heartbeat(workspace: Workspace, runner: Runner) -> None:
    """Lets a TUI say whether any worker is alive when jobs sit pending."""
    while True:
        try:
            await workspace.store.set_meta(HEARTBEAT, f"{now_iso()} {runner.owner}")
        except Exception as exc:  # a store away for a moment must not stop the heartbeat for good
            log_failure("the worker heartbeat", exc)
        await asyncio.sleep(workspace.settings.renew_every() * 2)


EXPIRIES_EVERY = 3600  # exceptions expire by the day: an hour late in the log at most


async def _log_expiries(workspace: Workspace) -> None:
    while True:
        await asyncio.sleep(EXPIRIES_EVERY)
        await _log_expired(workspace)


async def _log_expired(workspace: Workspace) -> None:
    """Exceptions that expired, into the action log (core/policy/exceptions.py log_expired)."""
    from core.policy.exceptions import log_expired

    try:
        await log_expired(workspace)
    except Exception as exc:  # the store away for a moment: the next hour logs them
        log_failure("logging expired exceptions", exc)


PRUNE_EVERY = 24 * 3600


async def _prune_daily(workspace: Workspace, say: Callable[[str], None]) -> None:
    """The [evidence] policy, at start and then daily: a worker is the process that runs for days."""
    from core.results.retention import prune

    policy = workspace.settings.evidence
    while True:
        try:
            done = await prune(workspace, policy.keep_days, policy.keep_last)
            if done.scans or done.blocks:
                say(f"evidence pruned: {done.scans} scan(s), {done.blocks} block(s), {done.bytes / 1e6:.1f} MB")
        except Exception as exc:  # a full disk or a locked store must not stop the worker
            say(f"evidence prune failed: {one_line(str(exc))}")
        await asyncio.sleep(PRUNE_EVERY)
