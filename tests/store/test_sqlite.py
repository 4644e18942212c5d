"""What only the SQLite backend has: its file, its migrations, old and new stores."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from core.domain.models import JobStatus, RuleResult, ScanStatus
from core.store.base import NewScanJob, StoreTooNew
from core.store.sqlite import MIGRATIONS, SqliteStore


async def test_migrations_set_user_version_wal_foreign_keys_and_a_private_file(tmp_path):
    store = await SqliteStore.open(tmp_path / "c.db")
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    assert stat.S_IMODE((tmp_path / "c.db").stat().st_mode) == 0o600
    with sqlite3.connect(tmp_path / "c.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        views = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='view'")}
    assert {"hosts", "scans", "results", "rule_names", "rules", "contents", "meta", "jobs"} <= tables
    assert views == {"rule_results"}  # the compact results in their old shape
    assert {"scans_host_created", "jobs_waiting", "jobs_running"} <= indexes
    reopened = await SqliteStore.open(tmp_path / "c.db")  # a second open migrates nothing
    assert await reopened.schema_version() == len(MIGRATIONS)
    await reopened.close()


async def test_a_failing_migration_leaves_the_schema_untouched(tmp_path, monkeypatch):
    monkeypatch.setattr("core.store.sqlite.MIGRATIONS", MIGRATIONS + [["CREATE TABLE extra (x)", "NOT SQL"]])
    with pytest.raises(sqlite3.OperationalError):
        await SqliteStore.open(tmp_path / "c.db")
    with sqlite3.connect(tmp_path / "c.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name='extra'").fetchone()


async def test_a_store_from_a_newer_version_is_refused(tmp_path):
    await (await SqliteStore.open(tmp_path / "c.db")).close()
    with sqlite3.connect(tmp_path / "c.db") as db:
        db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 3}")
    with pytest.raises(StoreTooNew, match=rf"newer compliance-tui \(schema {len(MIGRATIONS) + 3}; this one knows"):
        await SqliteStore.open(tmp_path / "c.db")


def old_store(path, version: int) -> None:
    """A store as an older release left it: its migrations only, and scans in it."""
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:version]:
            for statement in script:
                db.execute(statement)
        db.execute(f"PRAGMA user_version={version}")
        db.execute("INSERT INTO hosts (id, name, address, created_at) VALUES (1, 'web1', '10.0.0.1', 'x')")
        for scan_id, status in (("a" * 8 + "-0000-4000-8000-000000000001", "completed"),
                                ("b" * 8 + "-0000-4000-8000-000000000002", "running"),
                                ("c" * 8 + "-0000-4000-8000-000000000003", "failed")):
            db.execute("INSERT INTO scans (id, host_id, profile, status, created_at, error_message) "
                       "VALUES (?, 1, 'cis-level1-server', ?, '2025-01-01T00:00:00.000000Z', ?)",
                       (scan_id, status, "boom" if status == "failed" else None))
        db.execute("INSERT INTO scans (id, host_id, profile, status, created_at, origin) VALUES "
                   "('dddddddd-0000-4000-8000-000000000004', 1, 'x', 'completed', 'y', 'import')")


async def test_an_older_store_is_migrated_and_its_scans_get_their_jobs(tmp_path):
    old_store(tmp_path / "c.db", 4)
    store = await SqliteStore.open(tmp_path / "c.db")
    try:
        jobs, total = await store.find_jobs()
        assert total == 3  # the imported scan has no job
        by_scan = {j.scan_id[0]: j for j in jobs}
        assert by_scan["a"].status is JobStatus.COMPLETED and by_scan["a"].profile == "cis-level1-server"
        assert by_scan["c"].error == "boom"
        interrupted = await store.get_scan("bbbbbbbb")
        assert interrupted.status is ScanStatus.FAILED and "upgraded" in interrupted.error_message
        assert by_scan["b"].status is JobStatus.FAILED
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()


async def test_rule_results_of_an_older_store_are_compacted_exactly(tmp_path):
    old_store(tmp_path / "c.db", 9)
    kept = [("r_a", "pass", "low", 0.25), ("r_b", "fail", "high", 3.5), ("r_c", "notapplicable", None, None),
            ("r_d", "fixed", "unknown", 12.0)]
    first = "a" * 8 + "-0000-4000-8000-000000000001"
    with sqlite3.connect(tmp_path / "c.db") as db:
        db.executemany("INSERT INTO rule_results (scan_id, rule_id, result, severity, seconds) VALUES (?, ?, ?, ?, ?)",
                       [(first, *row) for row in kept])
        db.execute("INSERT INTO rule_results VALUES (?, 'r_a', 'error', 'medium', NULL)",
                   ("c" * 8 + "-0000-4000-8000-000000000003",))
    store = await SqliteStore.open(tmp_path / "c.db")
    try:
        rows = await store.rule_results(first)
        assert [(r.rule_id, r.result, r.severity, r.seconds) for r in rows] == [
            (rule, result, severity or "unknown", seconds) for rule, result, severity, seconds in kept]
        assert [r.result for r in await store.rule_results("c" * 8 + "-0000-4000-8000-000000000003")] == ["error"]
        later = (await store.create_scan_jobs([NewScanJob(await store.require_host("web1"), "p", {}, 5)]))[0]
        await store.complete_scan(later.scan_id, [RuleResult("r_a", "pass"), RuleResult("r_new", "fail")],
                                  {"pass": 1, "fail": 1}, 50.0, None, None, job_id=later.id)
        assert [r.rule_id for r in await store.rule_results(later.scan_id)] == ["r_a", "r_new"]
        await store.remove_host("web1")  # results go with their scans
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "c.db") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone() == (0,)
        assert db.execute("SELECT COUNT(DISTINCT rule_id) FROM rule_names").fetchone() == (5,)  # interned once


@pytest.mark.parametrize("version", range(2, len(MIGRATIONS)))
async def test_a_store_of_every_older_schema_opens_upgraded_and_works(tmp_path, version):
    """Stores that earlier releases left at each step (schema.py's numbers are SQLite's own)."""
    old_store(tmp_path / "c.db", version)
    store = await SqliteStore.open(tmp_path / "c.db")
    try:
        assert await store.schema_version() == len(MIGRATIONS)
        web = await store.require_host("web1")
        assert not await store.wait_for_change(0)
        (job,) = await store.create_scan_jobs([NewScanJob(web, "p", {}, 5)])
        assert await store.wait_for_change(0)  # step 12's counter counts jobs made after the upgrade
        assert (await store.claim_job("w:1", "2999-01-01T00:00:00.000000Z", True)).id == job.id
        await store.complete_scan(job.scan_id, [RuleResult("r_a", "fail")], {"fail": 1}, 0.0, None, None,
                                  job_id=job.id)
        assert [r.rule_id for r in await store.rule_results(job.scan_id)] == ["r_a"]
        assert (await store.get_scan("aaaaaaaa")).status is ScanStatus.COMPLETED
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()


async def test_exceptions_of_an_older_store_stay_in_force_approved_by_who_added_them(tmp_path):
    """Before issue 27 an exception took effect once added: such exceptions are approved, by
    whoever added them, when they did (the step that adds approvals)."""
    old_store(tmp_path / "c.db", 12)
    with sqlite3.connect(tmp_path / "c.db") as db:
        db.execute("INSERT INTO rule_exceptions (id, scope, host_id, rule_id, reason, accepted_by, expires, created_at) "
                   "VALUES ('e0000000-0000-4000-8000-000000000001', 'host', 1, 'r_a', 'vendor', 'alice', "
                   "'2030-01-01', '2025-01-01T00:00:00.000000Z')")
    store = await SqliteStore.open(tmp_path / "c.db")
    try:
        (old,) = await store.find_exceptions()
        assert (old.status, old.requested_by, old.decided_by, old.decided_at, old.host) == (
            "approved", "alice", "alice", "2025-01-01T00:00:00.000000Z", "web1")
        assert old.accepted_by == "alice" and await store.find_exceptions("pending") == []
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()
