"""`compliance-tui worker`: runs the queue's jobs with no TUI open (a systemd service, or cron
with --once).

SIGTERM or SIGINT: stop claiming, let running jobs finish for settings.worker_grace seconds,
then hand the rest back to the queue (a scan is safe to run again) and exit. A second
signal skips the grace period.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime, timedelta, timezone
from typing import Callable

from core.domain.timeutil import now_iso, parse_iso
from core.jobs.runner import Runner
from core.workspace import Workspace

HEARTBEAT = "worker_heartbeat"  # meta key: "<time> <owner>" of the last worker seen alive
ALIVE = timedelta(seconds=60)  # a heartbeat younger than this: a worker runs


def worker_alive(heartbeat: str | None, now: datetime | None = None) -> bool:
    if not heartbeat:
        return False
    seen = parse_iso(heartbeat.split()[0])
    return (now or datetime.now(timezone.utc)) - seen < ALIVE


async def run_worker(workspace: Workspace, *, once: bool = False,
                     say: Callable[[str], None] = lambda _line: None) -> int:
    runner = Runner(workspace, take_pending=True)
    stopping = asyncio.Event()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        stopping.set()
        if signals > 1:
            say("stopping now: handing running jobs back to the queue")
            for task in runner.running.values():
                task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    beat = asyncio.create_task(_heartbeat(workspace, runner))
    try:
        await runner.start()
        say(f"worker {runner.owner}: running up to {workspace.settings.max_concurrent} jobs at once")
        waits = [asyncio.create_task(stopping.wait())]
        if once:
            waits.append(asyncio.create_task(runner.run_until_idle()))
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        if runner.running:
            say(f"stopping: {len(runner.running)} job(s) running; waiting up to "
                f"{workspace.settings.worker_grace:.0f} s for them")
        await runner.stop(grace=0 if signals > 1 else workspace.settings.worker_grace, release=True)
    finally:
        beat.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 0


async def _heartbeat(workspace: Workspace, runner: Runner) -> None:
    """Lets a TUI say whether any worker is alive when jobs sit pending."""
    while True:
        await workspace.store.set_meta(HEARTBEAT, f"{now_iso()} {runner.owner}")
        await asyncio.sleep(workspace.settings.renew_every() * 2)
