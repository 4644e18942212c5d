"""wait_for_change on every backend: another process's job news wakes it within about a second
(PostgreSQL by NOTIFY, SQLite by its change counter); progress and lease renewals do not."""

from __future__ import annotations

import asyncio

from core.domain.models import Host
from core.store.base import NewScanJob
from tests.store.conftest import reopen

FAR = "2999-01-01T00:00:00.000000Z"


async def _woken_by(store, change) -> float:
    """Seconds from change() (another store's write) until store.wait_for_change returns True."""
    waiting = asyncio.create_task(store.wait_for_change(10))
    await asyncio.sleep(0.3)  # waiting (PostgreSQL: listening) before the change
    loop = asyncio.get_running_loop()
    started = loop.time()
    await change()
    assert await waiting is True
    return loop.time() - started


async def test_another_process_creating_ending_or_cancelling_a_job_wakes_wait_for_change(store):
    other = await reopen(store)
    try:
        web = await other.add_host(Host(name="web1", address="10.0.0.1"))
        assert await store.wait_for_change(0.3) is False  # a host is no job news: the timeout
        jobs = []

        async def create():
            jobs.extend(await other.create_scan_jobs([NewScanJob(web, "cis-level1-server", {}, 5)] * 2))

        assert await _woken_by(store, create) < 2.5
        assert await _woken_by(store, lambda: other.claim_job("w:1", FAR, True)) < 2.5
        # the claimed job's progress and lease are no news
        quiet = asyncio.create_task(store.wait_for_change(1.5))
        await asyncio.sleep(0.2)
        await other.renew_leases("w:1", FAR)
        await other.record_progress(jobs[0].id, 3, 10, "rule_a", None, "log\n")
        assert await quiet is False
        assert await _woken_by(store, lambda: other.finish_job(jobs[0].id, "completed")) < 2.5
        assert await _woken_by(store, lambda: other.cancel_job(jobs[1].id)) < 2.5
    finally:
        await other.close()
