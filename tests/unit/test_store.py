"""The store on real SQLite files: schema, migrations, queries, consistency."""

from __future__ import annotations

import sqlite3

import pytest

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import Host, RuleInfo, RuleResult, Scan, ScanStatus
from core.store.sqlite import Store
from core.store.sqlite_migrations import MIGRATIONS


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "c.db")
    yield store
    await store.close()


async def add_scan(store, host, scan_id, created_at=None, status_after=None):
    scan = await store.create_scan(
        Scan(id=scan_id, host_id=host.id, host_name=host.name, profile="cis-level1-server",
             profile_id=None, created_at=created_at), runner="test:1")
    return scan


async def test_migrations_set_user_version_wal_and_foreign_keys(tmp_path):
    store = await Store.open(tmp_path / "c.db")
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    with sqlite3.connect(tmp_path / "c.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"hosts", "scans", "rule_results", "rules", "contents", "meta"} <= tables
    assert "scans_host_created" in indexes
    reopened = await Store.open(tmp_path / "c.db")  # a second open migrates nothing
    assert await reopened.schema_version() == len(MIGRATIONS)
    await reopened.close()


async def test_a_failing_migration_leaves_the_schema_untouched(tmp_path, monkeypatch):
    monkeypatch.setattr("core.store.sqlite.MIGRATIONS", MIGRATIONS + [["CREATE TABLE extra (x)", "NOT SQL"]])
    with pytest.raises(sqlite3.OperationalError):
        await Store.open(tmp_path / "c.db")
    with sqlite3.connect(tmp_path / "c.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name='extra'").fetchone()


async def test_hosts_roundtrip_and_duplicates(store):
    host = await store.add_host(Host(name="web1", address="10.0.0.1", port=2222, username="scan"))
    assert host.id and host.created_at
    assert (await store.require_host("web1")).port == 2222
    with pytest.raises(InvalidInput, match="exists already"):
        await store.add_host(Host(name="web1", address="10.0.0.2"))
    host.os_id, host.os_name = "ubuntu", "Ubuntu 22.04"
    await store.update_host(host)
    assert (await store.get_host("web1")).os_name == "Ubuntu 22.04"
    with pytest.raises(NotFound, match="hosts list"):
        await store.require_host("nope")


async def test_scan_lifecycle_results_and_rule_texts(store):
    host = await store.add_host(Host(name="web1", address="10.0.0.1"))
    await store.save_content("c" * 64, "ssg-x-ds.xml", "bench", "0.1.65", [
        RuleInfo("r_high", "High rule", "high", "desc", "why", "fix it", "echo fix"),
        RuleInfo("r_low", "Low rule", "low"),
    ])
    scan = await add_scan(store, host, "11111111-aaaa-4000-8000-000000000000")
    assert scan.status is ScanStatus.PENDING and scan.host_name == "web1"
    await store.assign_content(scan.id, "xccdf_p", "c" * 64, 3)
    await store.mark_running(scan.id)
    await store.set_progress(scan.id, 2)
    assert (await store.get_scan(scan.id[:8])).progress_done == 2
    results = [RuleResult("r_low", "pass", "low"), RuleResult("r_high", "fail", "high"),
               RuleResult("r_other", "notapplicable"), RuleResult("r_skip", "notselected")]
    counts = {"pass": 1, "fail": 1, "notapplicable": 1, "notselected": 1}
    await store.complete_scan(scan.id, results, counts, 50.0, None, "/x.gz")
    done = await store.get_scan(scan.id)
    assert done.status is ScanStatus.COMPLETED and done.score == 50.0
    assert done.total == 3 and done.content_file == "ssg-x-ds.xml" and done.duration_s is not None
    rows = await store.rule_results(scan.id, order="severity")
    assert [r.rule_id for r in rows] == ["r_high", "r_low", "r_other"]  # notselected is not kept
    assert rows[0].title == "High rule" and rows[0].severity == "high"
    assert [r.rule_id for r in await store.rule_results(scan.id, result="fail")] == ["r_high"]
    assert [r.rule_id for r in await store.rule_results(scan.id, search="low RULE")] == ["r_low"]
    assert [r.rule_id for r in await store.rule_results(scan.id, search="%")] == []
    assert (await store.rule_info("c" * 64, "r_high")).fix_script == "echo fix"
    # a finished scan cannot be failed afterwards
    await store.fail_scan(scan.id, "late")
    assert (await store.get_scan(scan.id)).status is ScanStatus.COMPLETED


async def test_scan_ids_prefixes_and_ranges(store):
    host = await store.add_host(Host(name="web1", address="10.0.0.1"))
    await add_scan(store, host, "abcdef01-0000-4000-8000-000000000001", "2026-01-01T00:00:00.000000Z")
    await add_scan(store, host, "abcdef01-0000-4000-8000-000000000002", "2026-02-01T00:00:00.000000Z")
    with pytest.raises(InvalidInput, match="ambiguous"):
        await store.get_scan("abcdef01")
    with pytest.raises(InvalidInput, match="too short"):
        await store.get_scan("abc")
    with pytest.raises(NotFound):
        await store.get_scan("99999999")
    in_january = await store.list_scans(host="web1", since="2026-01-01", until="2026-02-01")
    assert [s.id[-1] for s in in_january] == ["1"]
    assert [s.id[-1] for s in await store.list_scans()] == ["2", "1"]  # newest first


async def test_removing_a_host_removes_its_scans_and_results(store, tmp_path):
    host = await store.add_host(Host(name="web1", address="10.0.0.1"))
    scan = await add_scan(store, host, "22222222-0000-4000-8000-000000000000")
    await store.complete_scan(scan.id, [RuleResult("r", "pass")], {"pass": 1}, 100.0, None, None)
    assert await store.remove_host("web1") == 1
    with sqlite3.connect(tmp_path / "c.db") as db:
        assert db.execute("SELECT COUNT(*) FROM scans").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM rule_results").fetchone()[0] == 0


async def test_a_failed_write_is_rolled_back_whole(store):
    host = await store.add_host(Host(name="web1", address="10.0.0.1"))
    scan = await add_scan(store, host, "33333333-0000-4000-8000-000000000000")
    with pytest.raises(sqlite3.IntegrityError):  # an invalid result value violates the CHECK
        await store.complete_scan(scan.id, [RuleResult("a", "pass"), RuleResult("b", "bogus")],
                                  {"pass": 1}, 100.0, None, None)
    again = await store.get_scan(scan.id)
    assert again.status is ScanStatus.PENDING and again.counts.get("pass") is None
    assert await store.rule_results(scan.id) == []
