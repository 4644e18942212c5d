"""The store methods the other contract suites leave out: content, imported scans, a job's own
scan and result, files in use, per-host counts, the schema version, and the lists longer than
one SQLite IN (...) holds. Each test runs against every backend of conftest.BACKENDS."""

from __future__ import annotations

import pytest

from core.domain.errors import InvalidInput
from core.domain.models import Host, JobStatus, RuleInfo, RuleResult, Scan, ScanStatus
from core.store.base import NewScanJob
from core.store.schema import STEPS

ME, FAR = "test:1:me", "2999-01-01T00:00:00.000000Z"
CONTENT = "c" * 64


async def host(store, name="web1") -> Host:
    return await store.add_host(Host(name=name, address="10.0.0.1"))


def imported(target: Host, n: int, key: str) -> tuple[Scan, list[RuleResult]]:
    scan = Scan(id=f"1a000000-0000-4000-8000-00000000000{n}", host_id=target.id, host_name=target.name,
                profile="cis", profile_id="xccdf_p", status=ScanStatus.COMPLETED, content_id=CONTENT,
                counts={"pass": 1, "fail": 1}, score=50.0, created_at=f"2026-01-0{n}T00:00:00.000000Z",
                started_at="2026-01-01T00:00:00.000000Z", finished_at="2026-01-01T00:01:00.000000Z",
                origin="import", source_file="r.xml", source_sha256="f" * 64, result_key=key, target="web1")
    return scan, [RuleResult("r_a", "pass", "low", 0.5), RuleResult("r_b", "fail", "high"),
                  RuleResult("r_c", "notselected")]


async def test_the_schema_is_at_the_last_step(store):
    assert await store.schema_version() == len(STEPS)


async def test_content_is_saved_once_and_its_rule_texts_replaced(store):
    assert not await store.has_rules(CONTENT) and await store.get_content(CONTENT) is None
    await store.save_content(CONTENT, "ssg-x-ds.xml", "bench", "0.1.70",
                             [RuleInfo("r_a", "A", "low"), RuleInfo("r_b", "B", "high", "desc", "why", "fix", "sh")])
    await store.save_content(CONTENT, "other-name.xml", "other", "0.2", [RuleInfo("r_a", "A again", "medium")])
    found = await store.get_content(CONTENT)
    assert {k: found[k] for k in ("id", "file_name", "benchmark_id", "version")} == {
        "id": CONTENT, "file_name": "ssg-x-ds.xml", "benchmark_id": "bench", "version": "0.1.70"}
    assert found["added_at"] and await store.has_rules(CONTENT)
    infos = await store.rule_infos(CONTENT)
    assert infos["r_a"] == RuleInfo("r_a", "A again", "medium")  # a rule saved again: its new texts
    assert infos["r_b"] == RuleInfo("r_b", "B", "high", "desc", "why", "fix", "sh")
    assert list(await store.rule_infos(CONTENT, ["r_b", "nope"])) == ["r_b"]
    assert await store.rule_infos(CONTENT, []) == {}
    assert (await store.rule_info(CONTENT, "r_b")).title == "B"


async def test_imported_scans_arrive_whole_with_their_host_and_only_once(store):
    await store.save_content(CONTENT, "ssg-x-ds.xml", None, None, [RuleInfo("r_b", "B rule", "high")])
    new = Host(name="air1", address="10.0.0.9")
    made = await store.add_imported_scans([imported(Host(name="air1", address="x", id=0), 1, "k1"),
                                           imported(Host(name="air1", address="x", id=0), 2, "k2")], new)
    assert made.name == "air1" and made.id and (await store.require_host("air1")).id == made.id
    scan = await store.find_imported(made.id, "k2")
    assert scan.origin == "import" and scan.host_name == "air1" and scan.progress_done == 2
    assert (scan.status, scan.score, scan.counts["fail"], scan.source_file) == (ScanStatus.COMPLETED, 50.0, 1, "r.xml")
    assert await store.find_imported(made.id, "k3") is None
    results = await store.rule_results(scan.id, search="B RULE")  # the title, whatever the case
    assert [(r.rule_id, r.result, r.title) for r in results] == [("r_b", "fail", "B rule")]
    again = imported(made, 3, "k1")  # the TestResult of k1 once more, another scan id
    with pytest.raises(InvalidInput, match="already imported"):
        await store.add_imported_scans([again])
    assert await store.find_scans(id_prefix=again[0].id) == []  # nothing of it stored
    assert await store.scan_counts_by_host() == {"air1": 2}


async def test_a_running_job_makes_its_own_scan_and_keeps_its_result(store):
    web = await host(store)
    job = await store.create_harden_job(web, {"profile": "cis"}, 5, ME, FAR)
    with pytest.raises(InvalidInput, match="not running"):
        await store.add_job_scan(job.id, "cis")
    await store.claim_job(ME, FAR, False)
    scan_id = await store.add_job_scan(job.id, "cis")
    scan = await store.get_scan(scan_id)
    assert scan.status is ScanStatus.RUNNING and scan.host_name == "web1"
    await store.set_job_result(job.id, {"fixed": ["r_a"], "still_failing": []})
    done = await store.get_job(job.id)
    assert done.scan_id == scan_id and done.result == {"fixed": ["r_a"], "still_failing": []}
    assert (await store.job_for_scan(scan_id)).id == job.id
    assert await store.scan_counts_by_host() == {"web1": 1}


async def test_files_in_use_are_those_a_scan_or_a_host_refers_to(store):
    web = await host(store)
    web.tailoring_file = "/d/tailoring/web1.xml"
    await store.update_host(web)
    (job,) = await store.create_scan_jobs([NewScanJob(web, "cis", {}, 5)], ME, FAR)
    await store.claim_job(ME, FAR, False)
    await store.complete_scan(job.scan_id, [], {}, None, None, "/d/evidence/a.arf.gz", job_id=job.id)
    asked = [f"/d/other/{n}" for n in range(1200)] + ["/d/evidence/a.arf.gz", "/d/tailoring/web1.xml"]
    assert await store.files_in_use(asked) == {"/d/evidence/a.arf.gz", "/d/tailoring/web1.xml"}
    assert await store.files_in_use([]) == set()


async def test_lists_longer_than_one_sqlite_in_list(store):
    """Thousands of ids in one call (the Dashboard's scans, a schedule's jobs): read in parts
    where the backend needs it, answered whole."""
    web = await host(store)
    ids = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(1000, 0, -1)]  # not in creation order
    jobs = await store.create_scan_jobs([NewScanJob(web, "cis", {}, 5, job_id=i) for i in ids], ME, FAR)
    assert [j.id for j in jobs] == ids and {j.status for j in jobs} == {JobStatus.QUEUED}
    last = jobs[-1]
    await store.claim_job(ME, FAR, False)
    first = (await store.find_jobs(status="running"))[0][0]
    await store.complete_scan(first.scan_id, [RuleResult("r_x", "fail"), RuleResult("r_y", "pass")],
                              {"fail": 1, "pass": 1}, 50.0, None, None, job_id=first.id)
    scan_ids = [j.scan_id for j in jobs]
    assert await store.results_of(scan_ids) == [(first.scan_id, "r_x")]
    assert await store.failing_results(scan_ids, ["r_x", "r_y"]) == [(first.scan_id, "r_x", "fail")]
    await store.save_content(CONTENT, "x.xml", None, None, [RuleInfo("r_x", "X", "low")])
    assert await store.rule_titles([f"r_{n}" for n in range(1500)] + ["r_x"]) == {"r_x": ("X", "low")}
    assert await store.release_jobs(ME, [j.id for j in jobs[1:]]) == 999
    assert (await store.get_job(last.id)).status is JobStatus.PENDING
