"""What every store backend must do for issue 14: host tags, schedules (a slot enqueued once,
whoever asks), exceptions, and the Dashboard's lean reads."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import Host, JobStatus, RuleInfo, RuleResult
from core.domain.policy import RuleException, Schedule
from core.store.base import NewScanJob
from tests.store.conftest import reopen

ME = "test:1:me"
FAR = "2999-01-01T00:00:00.000000Z"
SLOT_1, SLOT_2 = "2025-01-06T02:00:00.000000Z", "2025-01-13T02:00:00.000000Z"
BEFORE = "2025-01-01T00:00:00.000000Z"


async def host(store, name="web1", **fields) -> Host:
    return await store.add_host(Host(name=name, address="10.0.0.1", **fields))


def weekly(**fields) -> Schedule:
    return Schedule("all", (), "cis-level1-server", "weekly mon@02:00", "UTC", **({"not_before": BEFORE} | fields))


async def completed(store, target: Host, results: dict[str, str], created: str | None = None) -> str:
    (job,) = await store.create_scan_jobs([NewScanJob(target, "cis-level1-server", {}, 5, created_at=created)], ME, FAR)
    await store.claim_job(ME, FAR, False)
    counts: dict[str, int] = {}
    for value in results.values():
        counts[value] = counts.get(value, 0) + 1
    await store.complete_scan(job.scan_id, [RuleResult(r, v) for r, v in results.items()], counts, 50.0, None, None,
                              job_id=job.id)
    return job.scan_id


async def test_host_tags_are_kept_and_updated(store):
    web = await host(store, tags=("prod", "web"))
    assert (await store.require_host("web1")).tags == ("prod", "web")
    await store.update_host(replace(web, tags=("db",)))
    assert (await store.find_hosts())[0].tags == ("db",)
    assert (await host(store, "bare")).tags == ()


async def test_schedules_roundtrip_pause_and_remove(store):
    added = await store.add_schedule(Schedule("hosts", ("web1", "db1"), "cis-level2-server", "daily 02:00",
                                              "Europe/Berlin", priority=7))
    assert added.id and added.not_before and added.last_slot is None and added.targets == ("web1", "db1")
    assert (await store.get_schedule(added.id[:8])).priority == 7
    paused = await store.update_schedule(replace(added, paused=True, cadence="cron */5 * * * *"))
    assert paused.paused and paused.cadence == "cron */5 * * * *"
    assert [s.id for s in await store.find_schedules()] == [added.id]
    with pytest.raises(InvalidInput, match="too short"):
        await store.get_schedule("abc")
    await store.remove_schedule(added.id)
    with pytest.raises(NotFound, match="schedules list"):
        await store.get_schedule(added.id)


async def test_a_slot_is_enqueued_once_with_its_jobs(store):
    web, db = await host(store), await host(store, "db1")
    schedule = await store.add_schedule(weekly())
    wanted = [NewScanJob(web, "cis-level1-server", {}, 5), NewScanJob(db, "cis-level1-server", {}, 5)]
    jobs = await store.enqueue_schedule_slot(schedule.id, SLOT_1, wanted, "proc-a")
    assert len(jobs) == 2 and {j.status for j in jobs} == {JobStatus.PENDING}
    assert all(j.params["schedule"] == schedule.id and j.params["slot"] == SLOT_1 for j in jobs)
    assert await store.enqueue_schedule_slot(schedule.id, SLOT_1, wanted, "proc-b") is None
    assert await store.enqueue_schedule_slot(schedule.id, BEFORE, wanted, "proc-b") is None  # older slot
    again = await store.get_schedule(schedule.id)
    assert (again.last_slot, again.last_jobs) == (SLOT_1, 2) and again.last_run_at
    assert (await store.find_jobs())[1] == 2
    assert await store.schedule_outcomes() == {schedule.id: {"pending": 2}}
    queued = await store.enqueue_schedule_slot(schedule.id, SLOT_2, wanted[:1], "proc-b", ME, FAR)
    assert [j.status for j in queued] == [JobStatus.QUEUED] and queued[0].lease_owner == ME
    assert [r["slot"] for r in await store.schedule_runs(schedule.id)] == [SLOT_1, SLOT_2]
    assert await store.schedule_outcomes() == {schedule.id: {"queued": 1}}


async def test_paused_or_not_yet_started_schedules_take_no_slot(store):
    paused = await store.add_schedule(weekly(paused=True))
    assert await store.enqueue_schedule_slot(paused.id, SLOT_1, [], "p") is None
    later = await store.add_schedule(weekly(not_before=SLOT_1))
    assert await store.enqueue_schedule_slot(later.id, SLOT_1, [], "p") is None
    assert await store.enqueue_schedule_slot(later.id, SLOT_2, [], "p") == []  # a run with no host to scan


async def test_two_connections_racing_for_one_slot_enqueue_it_once(store, tmp_path):
    web = await host(store)
    schedule = await store.add_schedule(weekly())
    others = [await reopen(store) for _ in range(3)]
    try:
        everyone = [store, *others]
        wanted = [NewScanJob(web, "cis-level1-server", {}, 5)]
        won = await asyncio.gather(*[s.enqueue_schedule_slot(schedule.id, SLOT_1, wanted, f"p{i}")
                                     for i, s in enumerate(everyone) for _ in range(3)])
    finally:
        for other in others:
            await other.close()
    assert sum(r is not None for r in won) == 1
    assert (await store.find_jobs())[1] == 1


async def test_exceptions_roundtrip_scopes_and_cascade(store):
    web = await host(store)
    exc = await store.add_exception(RuleException("host", "rule_a", "vendor needs it", "alice", "2025-12-31",
                                                  host="web1"))
    assert exc.id and exc.host == "web1" and exc.created_at
    tag = await store.add_exception(RuleException("tag", "rule_b", "legacy", "bob", "2025-06-30", tag="db"))
    everyone = await store.add_exception(RuleException("all", "rule_c", "accepted", "carol", "2026-01-01"))
    assert [e.scope for e in await store.find_exceptions()] == ["host", "tag", "all"]
    assert (await store.get_exception(tag.id[:8])).tag == "db" and everyone.host is None
    with pytest.raises(NotFound, match="hosts list"):
        await store.add_exception(RuleException("host", "r", "why", "me", "2025-01-01", host="nope"))
    await store.remove_exception(tag.id)
    assert len(await store.find_exceptions()) == 2
    await store.remove_host(web.name)  # a host's own exceptions go with it
    assert [e.scope for e in await store.find_exceptions()] == ["all"]


async def test_an_exception_is_requested_then_approved_or_rejected_once_and_revoked(store):
    await host(store)
    asked = await store.add_exception(RuleException("host", "rule_a", "vendor needs it", "alice@jump", "2030-12-31",
                                                    host="web1"))
    assert (asked.status, asked.requested_by, asked.decided_by, asked.accepted_by) == (
        "pending", "alice@jump", None, "")
    assert [e.id for e in await store.find_exceptions("pending")] == [asked.id]
    approved = await store.decide_exception(asked.id[:8], "approved", "bob@jump", "fine until the upgrade")
    assert (approved.status, approved.decided_by, approved.decision_note, approved.accepted_by) == (
        "approved", "bob@jump", "fine until the upgrade", "bob@jump")
    assert approved.decided_at and approved.requested_by == "alice@jump"
    with pytest.raises(InvalidInput, match="is approved, not pending"):  # decided once: a second decision loses
        await store.decide_exception(asked.id, "rejected", "carol@jump")
    assert await store.find_exceptions("pending") == []

    revoked = await store.revoke_exception(asked.id, "carol@jump", "upgrade done")
    assert (revoked.status, revoked.revoked_by, revoked.revoke_note, revoked.decided_by) == (
        "revoked", "carol@jump", "upgrade done", "bob@jump")  # who approved stays on record
    with pytest.raises(InvalidInput, match="is revoked, not approved"):
        await store.revoke_exception(asked.id, "carol@jump")

    other = await store.add_exception(RuleException("all", "rule_b", "legacy", "alice@jump", "2030-12-31"))
    rejected = await store.decide_exception(other.id, "rejected", "bob@jump", "no: fix it")
    assert (rejected.status, rejected.accepted_by) == ("rejected", "")
    with pytest.raises(InvalidInput, match="is rejected, not approved"):
        await store.revoke_exception(other.id, "bob@jump")
    at_once = await store.add_exception(RuleException("all", "rule_c", "single operator", "solo@box", "2030-12-31",
                                                      status="approved", decided_by="solo@box"))
    assert at_once.status == "approved" and at_once.decided_at == at_once.created_at
    assert [e.status for e in await store.find_exceptions()] == ["revoked", "rejected", "approved"]
    again = await reopen(store)
    try:
        assert (await again.get_exception(asked.id)).revoke_note == "upgrade done"
    finally:
        await again.close()


async def test_two_people_deciding_at_once_one_wins(store):
    asked = await store.add_exception(RuleException("all", "rule_a", "why not", "alice@jump", "2030-12-31"))
    other = await reopen(store)  # another process
    try:
        outcomes = await asyncio.gather(store.decide_exception(asked.id, "approved", "bob@jump"),
                                        other.decide_exception(asked.id, "rejected", "carol@jump"),
                                        return_exceptions=True)
    finally:
        await other.close()
    assert sum(isinstance(o, InvalidInput) for o in outcomes) == 1
    assert (await store.get_exception(asked.id)).status in ("approved", "rejected")


async def test_fleet_reads_points_failures_and_titles(store):
    web, db = await host(store), await host(store, "db1")
    await store.save_content("c" * 64, "ds.xml", "b", "0.1", [RuleInfo("rule_a", "Rule A", "high")])
    old = await completed(store, web, {"rule_a": "fail", "rule_b": "pass"}, "2025-01-01T00:00:00.000000Z")
    new = await completed(store, web, {"rule_a": "pass", "rule_b": "error", "rule_c": "fail"})
    other = await completed(store, db, {"rule_a": "fail"})
    points = await store.score_points("2025-01-01T00:00:00.000000Z")
    assert [p.scan_id for p in points] == [old, new, other]
    assert (points[1].good, points[1].bad, points[1].host) == (1, 2, "web1")
    assert [p.scan_id for p in await store.score_points(points[1].created_at, host="web1")] == [new]
    assert {(r[0], r[1]) for r in await store.failing_results([old, new], ["rule_a", "rule_b"])} == {
        (old, "rule_a"), (new, "rule_b")}
    assert {r[0] for r in await store.failing_results_since(points[1].created_at, ["rule_a"])} == {other}
    assert sorted(await store.results_of([new, other])) == sorted([(new, "rule_c"), (other, "rule_a")])
    assert await store.rule_titles(["rule_a", "nope"]) == {"rule_a": ("Rule A", "high")}
    assert {n: s.id for n, s in (await store.latest_completed_scans()).items()} == {"web1": new, "db1": other}


async def test_a_slot_run_by_a_tui_leaves_a_zone_hosts_job_to_its_zone_worker(store):
    here, far = await host(store), await host(store, "dmz1", zone="dmz")
    schedule = await store.add_schedule(weekly())
    wanted = [NewScanJob(here, "cis-level1-server", {}, 5), NewScanJob(far, "cis-level1-server", {}, 5, for_workers=True)]
    jobs = {j.host_name: j for j in await store.enqueue_schedule_slot(schedule.id, SLOT_1, wanted, "tui", ME, FAR)}
    assert (jobs["web1"].status, jobs["web1"].lease_owner) == (JobStatus.QUEUED, ME)
    assert (jobs["dmz1"].status, jobs["dmz1"].lease_owner) == (JobStatus.PENDING, None)
    assert (await store.claim_job("w:dmz", FAR, True, zone="dmz")).id == jobs["dmz1"].id
