"""What every store backend must do for drift alerts (issue 28): a schedule keeps its target
names and heartbeat; a run is offered for its notification once all its jobs have ended, one
process's claim wins however many race for it, a claim whose process stopped runs out, and
what happened is kept with the run and in its jobs' output."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from core.domain.models import JobStatus
from core.store.base import NewScanJob, RunToNotify
from tests.store.conftest import reopen
from tests.store.test_policy_contract import BEFORE, FAR, ME, SLOT_1, SLOT_2, host, weekly

NOW = "2025-01-06T03:00:00.000000Z"
LATER = "2025-01-06T04:00:00.000000Z"


async def test_a_schedule_keeps_its_targets_and_heartbeat(store):
    added = await store.add_schedule(weekly(notify=("ops", "mail"), heartbeat=True))
    assert (added.notify, added.heartbeat) == (("ops", "mail"), True)
    changed = await store.update_schedule(replace(added, notify=(), heartbeat=False))
    assert (changed.notify, changed.heartbeat) == ((), False)
    assert (await store.add_schedule(weekly())).notify == ()


async def run_with_jobs(store, hosts=("web1", "db1"), slot=SLOT_1):
    targets = [await host(store, name) for name in hosts]
    schedule = await store.add_schedule(weekly(not_before=BEFORE))
    jobs = await store.enqueue_schedule_slot(schedule.id, slot, [NewScanJob(t, "cis-level1-server", {}, 5)
                                                                 for t in targets], "proc-a")
    return RunToNotify(schedule.id, slot), jobs


async def test_a_run_is_offered_once_its_jobs_have_ended(store):
    run, jobs = await run_with_jobs(store)
    assert await store.runs_to_notify(NOW) == []  # both pending
    await store.finish_job(jobs[0].id, "failed", "unreachable")
    assert await store.runs_to_notify(NOW) == []  # one still pending
    await store.finish_job(jobs[1].id, "cancelled", "cancelled before it started")
    assert await store.runs_to_notify(NOW) == [run]
    assert [j.host_name for j in await store.slot_jobs(run)] == ["db1", "web1"]
    assert {j.status for j in await store.slot_jobs(run)} == {JobStatus.FAILED, JobStatus.CANCELLED}


async def test_one_claim_wins_and_a_stopped_claim_runs_out(store):
    run, jobs = await run_with_jobs(store, ("web1",))
    await store.finish_job(jobs[0].id, "failed", "unreachable")
    others = [await reopen(store) for _ in range(3)]
    try:
        won = await asyncio.gather(*[s.claim_run_notice(run, f"p{i}", NOW, BEFORE)
                                     for i, s in enumerate([store, *others]) for _ in range(2)])
    finally:
        for other in others:
            await other.close()
    assert sum(won) == 1
    assert await store.runs_to_notify(BEFORE) == []  # claimed until NOW
    assert await store.runs_to_notify(LATER) == [run]  # ... and that process never finished
    assert await store.claim_run_notice(run, "p-late", FAR, LATER)
    await store.finish_run_notice(run, "p0", "sent", "not the owner: ignored")
    await store.finish_run_notice(run, "p-late", "sent", "sent to ops")
    assert await store.runs_to_notify(FAR) == []
    assert not await store.claim_run_notice(run, "p-again", FAR, FAR)  # done is done
    (recorded,) = await store.schedule_runs(run.schedule_id)
    assert (recorded["notify_state"], recorded["notify_note"]) == ("sent", "sent to ops")


async def test_runs_are_offered_oldest_first_and_jobs_take_notes_once_ended(store):
    run, jobs = await run_with_jobs(store, ("web1",))
    second = await store.enqueue_schedule_slot(run.schedule_id, SLOT_2, [NewScanJob(
        await store.require_host("web1"), "cis-level1-server", {}, 5)], "proc-a", ME, FAR)
    for job in (*jobs, *second):
        await store.finish_job(job.id, "failed", "unreachable", output="12:00:00 connecting\n")
    assert await store.runs_to_notify(NOW) == [run, RunToNotify(run.schedule_id, SLOT_2)]
    running = (await store.create_scan_jobs([NewScanJob(await store.require_host("web1"), "cis-level1-server",
                                                        {}, 5)], ME, FAR))[0]
    await store.append_to_finished_jobs([jobs[0].id, running.id], "12:00:05 notify: sent to ops\n")
    assert (await store.get_job(jobs[0].id)).output == "12:00:00 connecting\n12:00:05 notify: sent to ops\n"
    assert (await store.get_job(running.id)).output == ""  # its own process writes it
