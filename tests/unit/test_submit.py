"""Who runs a submitted job (core/jobs/submit.py), on a real SQLite store: the operator's place
(a runner of this process, one of its own waited for, or the workers), a canary and its
followers, and the schedules' rule (here only while no worker is seen; a zone's host waits for
its zone's worker)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.domain.errors import InvalidInput
from core.domain.models import Host, JobStatus
from core.domain.policy import Schedule
from core.domain.timeutil import now_iso, to_iso
from core.jobs import submit
from core.jobs.runner import Runner
from core.jobs.worker import HEARTBEAT
from core.store.base import NewScanJob
from core.workspace import Workspace
from tests.conftest import free_port

NOW = datetime(2025, 3, 31, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
async def workspace(data_dir):
    async with await Workspace.open(data_dir) as opened:
        yield opened


async def nowhere(workspace: Workspace, name: str, zone: str | None = None) -> Host:
    """A host on loopback with nothing listening: a scan of it fails at once, going nowhere."""
    return await workspace.store.add_host(Host(name=name, address="127.0.0.1", port=free_port(), zone=zone))


def heard(workspace: Workspace) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    workspace.hub.subscribe(lambda event: events.append((event.kind, event.job.id)))
    return events


async def test_jobs_for_the_workers_are_pending_and_said_so(workspace):
    web1 = await nowhere(workspace, "web1")
    events = heard(workspace)
    (job,) = await submit.scans(workspace, [NewScanJob(web1, "cis-level1-server", {}, 5)], submit.WORKERS)
    stored = await workspace.store.get_job(job.id)
    assert (stored.status, stored.lease_owner) == (JobStatus.PENDING, None)
    assert events == [("created", job.id)]


async def test_jobs_for_a_runner_of_this_process_are_queued_to_it(workspace):
    web1 = await nowhere(workspace, "web1")
    runner = Runner(workspace)  # not started: the jobs wait for it
    (job,) = await submit.scans(workspace, [NewScanJob(web1, "cis-level1-server", {}, 5)], runner)
    stored = await workspace.store.get_job(job.id)
    assert (stored.status, stored.lease_owner) == (JobStatus.QUEUED, runner.owner)


async def test_wait_runs_the_jobs_here_and_returns_once_they_ended(workspace):
    web1, web2 = await nowhere(workspace, "web1"), await nowhere(workspace, "web2")
    seen = []
    wanted = [NewScanJob(host, "cis-level1-server", {}, 5) for host in (web1, web2)]
    ended = await submit.scans(workspace, wanted, submit.Wait(lambda event: seen.append(event.kind)))
    assert [job.host_name for job in ended] == ["web1", "web2"]
    assert {job.status for job in ended} == {JobStatus.FAILED}  # nothing listens there: ended all the same
    assert seen.count("created") == seen.count("started") == seen.count("finished") == 2
    listening = len(seen)
    await submit.scans(workspace, [wanted[0]], submit.WORKERS)
    assert len(seen) == listening  # the listener heard the jobs it waited for, and no more


async def test_a_canary_goes_first_and_its_followers_go_where_it_went(workspace):
    hosts = [await nowhere(workspace, name) for name in ("web1", "web2", "web3")]
    runner = Runner(workspace)
    (here,) = await submit.hardening(workspace, [(hosts[0], {"a": 1}), (hosts[1], {"b": 2})], 7, runner)
    assert here.lease_owner == runner.owner and here.priority == 7
    assert here.params == {"a": 1, "then": [{"host": "web2", "params": {"b": 2}}], "here": True}
    (left,) = await submit.hardening(workspace, [(hosts[2], {}), (hosts[1], {})], "3", submit.WORKERS)
    assert left.status is JobStatus.PENDING and left.params["here"] is False


async def test_without_a_canary_every_host_gets_its_job_at_once(workspace):
    hosts = [await nowhere(workspace, name) for name in ("web1", "web2")]
    jobs = await submit.hardening(workspace, [(host, {}) for host in hosts], 5, submit.WORKERS, canary=False)
    assert [(job.host_name, job.params) for job in jobs] == [("web1", {}), ("web2", {})]


async def test_a_priority_out_of_range_stores_nothing(workspace):
    web1 = await nowhere(workspace, "web1")
    with pytest.raises(InvalidInput, match="priority"):
        await submit.hardening(workspace, [(web1, {})], 11, submit.WORKERS)
    assert (await workspace.store.find_jobs())[1] == 0


async def schedule_both(workspace: Workspace) -> tuple[Runner, Host, Host]:
    web1, zoned = await nowhere(workspace, "web1"), await nowhere(workspace, "dmz1", zone="dmz")
    await workspace.store.add_schedule(Schedule("hosts", ("web1", "dmz1"), "cis-level1-server", "daily 11:00",
                                                "UTC", not_before=to_iso(NOW - timedelta(days=3))))
    return Runner(workspace), web1, zoned


async def test_due_schedules_run_here_while_no_worker_is_seen_but_a_zone_waits_for_its_worker(workspace):
    runner, _web1, _zoned = await schedule_both(workspace)
    assert not await submit.worker_seen(workspace)
    (done,), here = await submit.scheduled(workspace, runner, NOW)
    owners = {job.host_name: job.lease_owner for job in done.jobs}
    assert here and owners == {"web1": runner.owner, "dmz1": None}
    assert await submit.scheduled(workspace, runner, NOW) == ([], True)  # a slot is taken once


async def test_due_schedules_are_left_to_a_worker_seen_alive(workspace):
    runner, _web1, _zoned = await schedule_both(workspace)
    await workspace.store.set_meta(HEARTBEAT, f"{now_iso()} worker:elsewhere")
    assert await submit.worker_seen(workspace)
    (done,), here = await submit.scheduled(workspace, runner, NOW)
    assert not here and {job.lease_owner for job in done.jobs} == {None}
