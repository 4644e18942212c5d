"""What every store backend must do: hosts, content, scans and the job queue.

Each test runs against every backend of conftest.BACKENDS on a real database.
"""

from __future__ import annotations

import pytest

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import Host, JobStatus, RuleInfo, RuleResult, ScanStatus
from core.domain.timeutil import now_iso
from core.store.base import NewScanJob

ME, OTHER = "test:1:me", "test:2:other"
FAR = "2999-01-01T00:00:00.000000Z"
PAST = "2000-01-01T00:00:00.000000Z"


async def host(store, name="web1", **fields) -> Host:
    return await store.add_host(Host(name=name, address="10.0.0.1", **fields))


def wanted(target: Host, priority: int = 5, **kwargs) -> NewScanJob:
    return NewScanJob(target, "cis-level1-server", {}, priority, **kwargs)


# ------------------------------------------------------------------ hosts

async def test_hosts_roundtrip_duplicates_and_search(store):
    web = await host(store, port=2222, username="scan")
    assert web.id and web.created_at and (await store.require_host("web1")).port == 2222
    with pytest.raises(InvalidInput, match="exists already"):
        await store.add_host(Host(name="web1", address="10.0.0.2"))
    web.os_id, web.os_name = "ubuntu", "Ubuntu 22.04"
    await store.update_host(web)
    assert (await store.get_host("web1")).os_name == "Ubuntu 22.04"
    with pytest.raises(NotFound, match="hosts list"):
        await store.require_host("nope")
    await host(store, "db1")
    assert [h.name for h in await store.find_hosts()] == ["db1", "web1"]
    assert [h.name for h in await store.find_hosts("UBUNTU")] == ["web1"]
    assert await store.find_hosts("%") == []


async def test_get_or_add_host_creates_once(store):
    first, created = await store.get_or_add_host(Host(name="air1", address="10.0.0.9"))
    again, created_again = await store.get_or_add_host(Host(name="air1", address="10.0.0.8"))
    assert created and not created_again and again.id == first.id and again.address == "10.0.0.9"


async def test_removing_a_host_removes_its_scans_jobs_and_results(store):
    web = await host(store)
    (job,) = await store.create_scan_jobs([wanted(web)], ME, FAR)
    await store.claim_job(ME, FAR, False)
    await store.complete_scan(job.scan_id, [RuleResult("r", "pass")], {"pass": 1}, 100.0, None, None,
                              job_id=job.id)
    assert await store.remove_host("web1") == 1
    assert await store.find_scans() == [] and (await store.find_jobs())[1] == 0
    assert await store.rule_results(job.scan_id) == []


# ------------------------------------------------------------------ content and scans

async def test_scan_lifecycle_results_and_rule_texts(store):
    web = await host(store)
    await store.save_content("c" * 64, "ssg-x-ds.xml", "bench", "0.1.65", [
        RuleInfo("r_high", "High rule", "high", "desc", "why", "fix it", "echo fix"),
        RuleInfo("r_low", "Low rule", "low"),
    ])
    (job,) = await store.create_scan_jobs([wanted(web, scan_id="11111111-aaaa-4000-8000-000000000000")])
    scan = await store.get_scan(job.scan_id[:8])
    assert scan.status is ScanStatus.PENDING and scan.host_name == "web1"
    claimed = await store.claim_job(ME, FAR, take_pending=True)
    assert claimed.id == job.id and (await store.get_scan(scan.id)).status is ScanStatus.RUNNING
    await store.assign_content(scan.id, "xccdf_p", "c" * 64, 3)
    await store.record_progress(job.id, 2, None, "r_high", now_iso(), "log line\n")
    assert (await store.get_scan(scan.id)).progress_done == 2
    progressed = await store.get_job(job.id)
    assert (progressed.progress_done, progressed.progress_total, progressed.current) == (2, 3, "r_high")
    results = [RuleResult("r_low", "pass", "low", seconds=0.25), RuleResult("r_high", "fail", "high", seconds=3.5),
               RuleResult("r_other", "notapplicable"), RuleResult("r_skip", "notselected")]
    counts = {"pass": 1, "fail": 1, "notapplicable": 1, "notselected": 1}
    await store.complete_scan(scan.id, results, counts, 50.0, None, "/x.gz", job_id=job.id, output="all\n")
    done = await store.get_scan(scan.id)
    assert done.status is ScanStatus.COMPLETED and done.score == 50.0
    assert done.total == 3 and done.content_file == "ssg-x-ds.xml" and done.duration_s is not None
    finished = await store.get_job(job.id)
    assert finished.status is JobStatus.COMPLETED and finished.output == "all\n" and finished.lease_owner == ME
    rows = await store.rule_results(scan.id, order="severity")
    assert [r.rule_id for r in rows] == ["r_high", "r_low", "r_other"]  # notselected is not kept
    assert rows[0].title == "High rule" and rows[0].severity == "high" and rows[0].seconds == 3.5
    slowest = await store.rule_results(scan.id, order="time")  # untimed rules last
    assert [(r.rule_id, r.seconds) for r in slowest] == [("r_high", 3.5), ("r_low", 0.25), ("r_other", None)]
    assert [r.rule_id for r in await store.rule_results(scan.id, result="fail")] == ["r_high"]
    assert [r.rule_id for r in await store.rule_results(scan.id, search="low RULE")] == ["r_low"]
    assert [r.rule_id for r in await store.rule_results(scan.id, search="%")] == []
    assert (await store.rule_info("c" * 64, "r_high")).fix_script == "echo fix"
    # a finished job cannot be failed afterwards, nor its scan
    assert (await store.finish_job(job.id, "failed", "late")).status is JobStatus.COMPLETED
    assert (await store.get_scan(scan.id)).status is ScanStatus.COMPLETED
    assert await store.latest_completed_scans() == {"web1": await store.get_scan(scan.id)}
    assert await store.scan_status_counts("web1") == {"completed": 1}


async def test_scan_ids_prefixes_and_ranges(store):
    web = await host(store)
    await store.create_scan_jobs([
        wanted(web, scan_id="abcdef01-0000-4000-8000-000000000001", created_at="2026-01-01T00:00:00.000000Z"),
        wanted(web, scan_id="abcdef01-0000-4000-8000-000000000002", created_at="2026-02-01T00:00:00.000000Z"),
    ])
    with pytest.raises(InvalidInput, match="ambiguous"):
        await store.get_scan("abcdef01")
    with pytest.raises(InvalidInput, match="too short"):
        await store.get_scan("abc")
    with pytest.raises(NotFound):
        await store.get_scan("99999999")
    january = await store.find_scans(host="web1", since="2026-01-01", until="2026-02-01")
    assert [s.id[-1] for s in january] == ["1"]
    assert [s.id[-1] for s in await store.find_scans()] == ["2", "1"]  # newest first
    assert [s.id[-1] for s in await store.find_scans(id_prefix="ABCDEF01-0000-4000-8000-00000000000")] == ["2", "1"]


async def test_evidence_is_listed_newest_first_and_forgotten_without_the_results(store):
    web = await host(store)
    ids = [f"e0000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3)]
    jobs = await store.create_scan_jobs([wanted(web, scan_id=i, created_at=f"2026-0{n}-01T00:00:00.000000Z")
                                         for n, i in enumerate(ids, start=1)], ME, FAR)
    for job in jobs:
        await store.claim_job(ME, FAR, take_pending=False)
        await store.complete_scan(job.scan_id, [RuleResult("r", "pass")], {"pass": 1}, 100.0, None,
                                  None if job.scan_id == ids[1] else f"/e/{job.scan_id}.arf.split", job_id=job.id)
    kept = await store.evidence_scans()
    assert [(r[0], r[1], r[4]) for r in kept] == [(i, web.id, f"/e/{i}.arf.split") for i in (ids[2], ids[0])]
    await store.forget_evidence([ids[0]])
    assert [r[0] for r in await store.evidence_scans()] == [ids[2]]
    forgotten = await store.get_scan(ids[0])
    assert forgotten.arf_path is None and forgotten.score == 100.0
    assert [r.rule_id for r in await store.rule_results(ids[0])] == ["r"]


async def test_a_failed_write_is_rolled_back_whole(store):
    web = await host(store)
    (job,) = await store.create_scan_jobs([wanted(web)], ME, FAR)
    await store.claim_job(ME, FAR, False)
    with pytest.raises(Exception):  # an invalid result value violates the schema
        await store.complete_scan(job.scan_id, [RuleResult("a", "pass"), RuleResult("b", "bogus")],
                                  {"pass": 1}, 100.0, None, None, job_id=job.id)
    again = await store.get_scan(job.scan_id)
    assert again.status is ScanStatus.RUNNING and again.counts.get("pass") is None
    assert await store.rule_results(job.scan_id) == []
    assert (await store.get_job(job.id)).status is JobStatus.RUNNING


# ------------------------------------------------------------------ the queue

async def test_jobs_are_claimed_by_priority_then_age_and_only_by_whom_they_wait_for(store):
    web, db, app = await host(store), await host(store, "db1"), await host(store, "app1")
    low = (await store.create_scan_jobs([wanted(web, 2)]))[0]
    high = (await store.create_scan_jobs([wanted(db, 9)]))[0]
    normal = (await store.create_scan_jobs([wanted(app)]))[0]
    mine = (await store.create_scan_jobs([wanted(web, 1)], ME, FAR))[0]
    assert mine.status is JobStatus.QUEUED and low.status is JobStatus.PENDING
    assert await store.claim_job(OTHER, FAR, take_pending=False) is None  # queued for ME, not OTHER
    assert (await store.claim_job(ME, FAR, take_pending=False)).id == mine.id
    order = [(await store.claim_job(OTHER, FAR, take_pending=True)).id for _ in range(3)]
    assert order == [high.id, normal.id, low.id]
    assert await store.claim_job(OTHER, FAR, take_pending=True) is None
    claimed = await store.get_job(high.id)
    assert claimed.status is JobStatus.RUNNING and claimed.attempts == 1 and claimed.lease_owner == OTHER


async def test_two_scans_of_one_host_may_run_at_once(store):
    web = await host(store)
    first, second = await store.create_scan_jobs([wanted(web), wanted(web)])
    assert (await store.claim_job(ME, FAR, True)).id == first.id
    assert (await store.claim_job(ME, FAR, True)).id == second.id


async def test_priority_changes_the_order_and_is_checked(store):
    web = await host(store)
    a, b = await store.create_scan_jobs([wanted(web), wanted(web)])
    await store.set_job_priority(b.id, 10)
    assert (await store.claim_job(ME, FAR, True)).id == b.id
    for bad in (0, 11, "x"):
        with pytest.raises(InvalidInput, match="priority"):
            await store.set_job_priority(a.id, bad)
    await store.finish_job(b.id, "completed")
    with pytest.raises(InvalidInput, match="waiting jobs"):
        await store.set_job_priority(b.id, 3)
    with pytest.raises(NotFound):
        await store.get_job("00000000-dead")


async def test_cancel_waiting_running_and_finished_jobs(store):
    web = await host(store)
    waiting, running = await store.create_scan_jobs([wanted(web), wanted(web)], ME, FAR)
    cancelled = await store.cancel_job(waiting.id)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.error == "cancelled before it started"
    assert (await store.get_scan(waiting.scan_id)).status is ScanStatus.FAILED
    assert (await store.claim_job(ME, FAR, False)).id == running.id
    asked = await store.cancel_job(running.id)
    assert asked.status is JobStatus.RUNNING and asked.cancel_requested
    assert await store.renew_leases(ME, FAR) == {running.id}
    await store.finish_job(running.id, "cancelled", "cancelled by the operator")
    assert (await store.get_scan(running.scan_id)).error_message == "cancelled by the operator"
    again = await store.cancel_job(running.id)  # a job that ended already: a clear no-op
    assert again.status is JobStatus.CANCELLED and again.finished_at == (await store.get_job(running.id)).finished_at


async def test_expired_leases_requeue_a_scan_once_then_fail_it(store):
    web = await host(store)
    job, waiting = await store.create_scan_jobs([wanted(web), wanted(web)], ME, PAST)
    assert (await store.claim_job(ME, PAST, False)).id == job.id  # claimed with a lease already run out
    expired = {e.job.id: e.requeued for e in await store.expire_leases(now_iso())}
    assert expired == {job.id: True, waiting.id: True}
    again = await store.get_job(job.id)
    assert again.status is JobStatus.PENDING and again.lease_owner is None and "re-queued" in again.output
    assert (await store.get_scan(job.scan_id)).status is ScanStatus.PENDING
    assert (await store.claim_job(OTHER, PAST, True)).id == job.id  # second attempt, its lease runs out too
    (second,) = [e for e in await store.expire_leases(now_iso()) if e.job.id == job.id]
    assert not second.requeued
    failed = await store.get_job(job.id)
    assert failed.status is JobStatus.FAILED and failed.error == "worker stopped (lease expired)"
    assert failed.attempts == 2
    assert (await store.get_scan(job.scan_id)).error_message == "worker stopped (lease expired)"
    assert await store.expire_leases(now_iso()) == []  # renewed or finished jobs are left alone


async def test_renewed_leases_do_not_expire_and_release_hands_jobs_back(store):
    web = await host(store)
    a, b = await store.create_scan_jobs([wanted(web), wanted(web)], ME, PAST)
    await store.claim_job(ME, PAST, False)
    assert await store.renew_leases(ME, FAR) == set()
    assert await store.expire_leases(now_iso()) == []
    assert await store.release_jobs(ME) == 1  # the queued one
    assert await store.release_jobs(ME, [a.id]) == 1  # the running one
    for job_id in (a.id, b.id):
        released = await store.get_job(job_id)
        assert released.status is JobStatus.PENDING and released.lease_owner is None


async def test_finding_jobs_pages_and_counts(store):
    web, db = await host(store), await host(store, "db1")
    jobs = await store.create_scan_jobs([wanted(web) for _ in range(5)] + [wanted(db)])
    await store.cancel_job(jobs[0].id)
    page, total = await store.find_jobs(limit=2, offset=2)
    assert total == 6 and len(page) == 2
    assert [j.id for j in (await store.find_jobs(host="db1"))[0]] == [jobs[5].id]
    assert (await store.find_jobs(status="cancelled"))[1] == 1
    assert await store.job_status_counts() == {"pending": 5, "cancelled": 1}
    assert (await store.job_for_scan(jobs[1].scan_id)).id == jobs[1].id


async def test_scan_jobs_are_those_of_a_kind_and_of_unfinished_scans(store):
    web, db = await host(store), await host(store, "db1")
    harden = await store.create_harden_job(web, {"profile": "cis"}, 5, ME, FAR)
    await store.claim_job(ME, FAR, False)
    hardened = await store.add_job_scan(harden.id, "cis")
    await store.complete_scan(hardened, [], {}, None, None, None, job_id=harden.id)
    done, failed, running, waiting = await store.create_scan_jobs([wanted(web) for _ in range(4)], ME, FAR)
    assert (await store.claim_job(ME, FAR, False)).id == done.id
    await store.complete_scan(done.scan_id, [], {}, None, None, None, job_id=done.id)
    assert (await store.claim_job(ME, FAR, False)).id == failed.id
    await store.finish_job(failed.id, "failed", "unreachable")
    assert (await store.claim_job(ME, FAR, False)).id == running.id
    other = (await store.create_scan_jobs([wanted(db)]))[0]
    found = await store.scan_jobs("web1", "harden")
    assert {scan_id: job.id for scan_id, job in found.items()} == {
        hardened: harden.id, running.scan_id: running.id, waiting.scan_id: waiting.id}
    assert found[running.scan_id].status is JobStatus.RUNNING and found[waiting.scan_id].lease_owner == ME
    assert found[hardened].kind == "harden" and found[hardened].status is JobStatus.COMPLETED
    assert list(await store.scan_jobs("db1", "harden")) == [other.scan_id]
    newest_first = [waiting.scan_id, running.scan_id, failed.scan_id, done.scan_id]
    assert list(await store.scan_jobs("web1", "scan")) == newest_first  # not the hardening job's scan
    assert await store.scan_jobs("nobody", "harden") == {}


async def test_meta_and_integrity(store):
    assert await store.get_meta("k") is None
    await store.set_meta("k", "v")
    assert await store.get_meta("k") == "v"
    assert await store.integrity_check() == "ok"


# ------------------------------------------------------------------ zones (issue 17)

async def test_a_zone_worker_claims_only_its_zone_and_no_zone_only_hosts_without_one(store):
    dmz, lab, plain = await host(store, "dmz1", zone="dmz"), await host(store, "lab1", zone="lab"), await host(store)
    assert (await store.get_host("dmz1")).zone == "dmz" and (await store.get_host("web1")).zone is None
    jobs = {h.name: (await store.create_scan_jobs([wanted(h)]))[0] for h in (dmz, lab, plain)}
    mine = (await store.create_scan_jobs([wanted(dmz)], ME, FAR))[0]
    assert (await store.claim_job(OTHER, FAR, True, zone="dmz")).id == jobs["dmz1"].id
    assert await store.claim_job(OTHER, FAR, True, zone="dmz") is None
    assert (await store.claim_job(OTHER, FAR, True)).id == jobs["web1"].id  # no zone: unzoned hosts
    assert await store.claim_job(OTHER, FAR, True) is None
    assert (await store.claim_job(ME, FAR, False, zone="lab")).id == mine.id  # its own queued job: any zone
    assert (await store.claim_job(OTHER, FAR, True, zone="lab")).id == jobs["lab1"].id
    lab.zone = None
    await store.update_host(lab)
    assert (await store.get_host("lab1")).zone is None


async def test_an_expired_hardening_job_is_failed_with_the_reason_not_requeued(store):
    web = await host(store, zone="dmz")
    harden = await store.create_harden_job(web, {"profile": "cis-level1-server"}, 5, ME, PAST)
    with pytest.raises(InvalidInput, match="one at a time"):
        await store.create_harden_job(web, {}, 5)
    assert (await store.claim_job(ME, PAST, False)).id == harden.id
    (expired,) = await store.expire_leases(now_iso())
    assert expired.job.id == harden.id and not expired.requeued
    failed = await store.get_job(harden.id)
    assert failed.status is JobStatus.FAILED and failed.attempts == 1
    assert failed.error == "worker stopped (lease expired); the host's dead man's switch restores /etc"
