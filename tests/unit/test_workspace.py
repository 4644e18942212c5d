"""Opening a data dir: localhost on first start only, and no job left to a dead process."""

from __future__ import annotations

from core.domain.models import JobStatus
from core.store.base import NewScanJob
from core.workspace import LOCALHOST, Workspace


async def test_localhost_is_registered_once(tmp_path):
    async with await Workspace.open(tmp_path) as workspace:
        local = await workspace.store.require_host(LOCALHOST)
        assert local.transport == "local"
        await workspace.store.remove_host(LOCALHOST)
    async with await Workspace.open(tmp_path) as workspace:  # removed on purpose: stays removed
        assert await workspace.store.get_host(LOCALHOST) is None


async def test_opening_recovers_jobs_whose_process_stopped(tmp_path):
    """A process that stops renewing its leases (killed, or its machine gone): the next
    process to open the store re-queues its scan job; one still renewing is left alone."""
    async with await Workspace.open(tmp_path) as workspace:
        host = await workspace.store.require_host(LOCALHOST)
        wanted = [NewScanJob(host, "cis-level1-server", {}, 5)]
        (dead,) = await workspace.store.create_scan_jobs(wanted, "gone:1:x", "2000-01-01T00:00:00.000000Z")
        (alive,) = await workspace.store.create_scan_jobs(wanted, "alive:2:y", "2999-01-01T00:00:00.000000Z")
    async with await Workspace.open(tmp_path) as workspace:
        assert (await workspace.store.get_job(dead.id)).status is JobStatus.PENDING
        assert (await workspace.store.get_job(alive.id)).status is JobStatus.QUEUED
