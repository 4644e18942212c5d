"""What only the PostgreSQL backend has: its migrations, connection errors in one line without
the password, claims racing on separate connections (as workers on several machines do), and
LISTEN/NOTIFY. Against the session's real server (tests/pg_server.py)."""

from __future__ import annotations

import asyncio
import os

import pytest

from core.domain.audit import NewEntry
from core.domain.errors import OperatorError
from core.domain.models import Host, JobStatus
from core.domain.store_url import check_url, masked, where
from core.store.base import NewScanJob, StoreTooNew
from core.store.postgres import MIGRATIONS, PostgresStore

FAR = "2999-01-01T00:00:00.000000Z"


def scans(target: Host, count: int, priority: int = 5) -> list[NewScanJob]:
    return [NewScanJob(target, "cis-level1-server", {}, priority) for _ in range(count)]


async def test_migrations_run_once_and_a_newer_schema_is_refused(pg_url, pg_server):
    store = await PostgresStore.open(pg_url)
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    again = await PostgresStore.open(pg_url)  # a second open migrates nothing
    assert await again.schema_version() == len(MIGRATIONS)
    await again.close()
    pg_server.psql(f"INSERT INTO schema_migrations VALUES ({len(MIGRATIONS) + 2}, 'x')", pg_url.rsplit("/", 1)[1])
    with pytest.raises(StoreTooNew, match=rf"newer compliance-tui \(schema {len(MIGRATIONS) + 2}"):
        await PostgresStore.open(pg_url)


async def test_a_store_of_the_two_step_history_opens_upgraded_and_works(pg_url, pg_server):
    """A store earlier releases made (PostgreSQL's own migrations 1 and 2, now steps 1 and 2 of
    schema.py): steps 3 to 12 hold nothing for PostgreSQL and are only recorded; later ones run."""
    database = pg_url.rsplit("/", 1)[1]
    pg_server.psql("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)", database)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        for statement in script:
            pg_server.psql(statement, database)
        pg_server.psql(f"INSERT INTO schema_migrations VALUES ({number}, 'x')", database)
    pg_server.psql("INSERT INTO hosts (name, address, created_at, zone) VALUES ('web1', '10.0.0.1', 'x', 'dmz')",
                   database)
    pg_server.psql("INSERT INTO rule_exceptions (id, scope, rule_id, reason, accepted_by, expires, created_at) "
                   "VALUES ('e1', 'all', 'rule_a', 'vendor', 'alice', '2030-01-01', '2025-01-01T00:00:00Z')", database)
    assert not any(MIGRATIONS[2:12])  # later steps (the action log's, ...) create tables on PostgreSQL too
    store = await PostgresStore.open(pg_url)
    try:
        assert await store.schema_version() == len(MIGRATIONS)
        (old,) = await store.find_exceptions()
        assert (old.status, old.requested_by, old.decided_by, old.decided_at) == (
            "approved", "alice", "alice", "2025-01-01T00:00:00Z")  # it took effect when added, as before
        web = await store.require_host("web1")
        (job,) = await store.create_scan_jobs(scans(web, 1))
        assert (await store.claim_job("w:1", FAR, True, zone="dmz")).id == job.id
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()


async def test_processes_opening_a_new_store_at_once_migrate_it_once(pg_url):
    stores = await asyncio.gather(*(PostgresStore.open(pg_url) for _ in range(4)))
    try:
        assert {await s.schema_version() for s in stores} == {len(MIGRATIONS)}
    finally:
        for store in stores:
            await store.close()


async def test_connection_errors_are_one_line_and_never_show_the_password(pg_server, pg_url, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "s3cret-wrong-pw")
    with pytest.raises(OperatorError) as refused:
        await PostgresStore.open(pg_url)
    text = str(refused.value)
    assert "authentication failed" in text and '"postgres"' in text and "PGPASSWORD" in text
    assert "s3cret" not in text and "\n" not in text
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    with pytest.raises(OperatorError, match=r"cannot connect to the store at 127\.0\.0\.1:1/x: connection refused"):
        await PostgresStore.open("postgresql://postgres@127.0.0.1:1/x")
    with pytest.raises(OperatorError, match="no such database"):
        await PostgresStore.open(pg_server.url("no_such_db"))


def test_urls_are_masked_and_a_password_on_the_command_line_is_refused():
    url = "postgresql://app:hunter2@db.example.net:6432/ct?sslmode=verify-full"
    assert masked(url) == "postgresql://app:***@db.example.net:6432/ct?sslmode=verify-full"
    assert where(url) == "db.example.net:6432/ct"
    with pytest.raises(OperatorError, match="PGPASSWORD") as refused:
        check_url(url, "--store", password_allowed=False)
    assert "hunter2" not in str(refused.value)
    assert check_url(url, "COMPLIANCE_TUI_STORE", password_allowed=True) == url
    with pytest.raises(OperatorError, match="unknown store") as unknown:
        check_url("mysql://a:hunter2@b/c", "--store", password_allowed=True)
    assert "hunter2" not in str(unknown.value)


async def test_claimers_on_separate_connections_take_each_job_once(pg_url):
    stores = [await PostgresStore.open(pg_url, max_size=2) for _ in range(6)]
    try:
        web = await stores[0].add_host(Host(name="web1", address="10.0.0.1"))
        jobs = await stores[0].create_scan_jobs(scans(web, 120))

        async def drain(store, owner):
            taken = []
            while (job := await store.claim_job(owner, FAR, True)) is not None:
                taken.append(job.id)
            return taken

        taken = await asyncio.gather(*(drain(s, f"w:{n}") for n, s in enumerate(stores) for _ in range(2)))
        flat = [j for part in taken for j in part]
        assert sorted(flat) == sorted(j.id for j in jobs), "every job claimed exactly once"
        assert sum(1 for part in taken if part) >= 3, "the claimers shared the work"
    finally:
        for store in stores:
            await store.close()


async def test_a_hardening_job_never_starts_beside_a_scan_of_its_host_however_claims_race(pg_url):
    stores = [await PostgresStore.open(pg_url, max_size=2) for _ in range(4)]
    try:
        web = await stores[0].add_host(Host(name="web1", address="10.0.0.1"))
        for _round in range(5):
            await stores[0].create_scan_jobs(scans(web, 3))
            await stores[0].create_harden_job(web, {"profile": "cis-level1-server"}, 5)
            claimed = await asyncio.gather(*(s.claim_job(f"w:{n}", FAR, True) for n, s in enumerate(stores)
                                             for _ in range(2)))
            kinds = {j.kind for j in claimed if j is not None}
            assert kinds in ({"scan"}, {"harden"}), f"ran together: {kinds}"
            running, _ = await stores[0].find_jobs(status="running")
            for job in running:
                await stores[0].finish_job(job.id, "completed")
            for job in (await stores[0].find_jobs(status="pending"))[0]:
                await stores[0].cancel_job(job.id)
    finally:
        for store in stores:
            await store.close()


async def test_wait_for_change_is_woken_by_another_process_changing_a_job(pg_url):
    listener, other = await PostgresStore.open(pg_url), await PostgresStore.open(pg_url)
    try:
        assert listener.notifies
        assert await listener.wait_for_change(0.3) is False  # nothing changed: the timeout
        web = await other.add_host(Host(name="web1", address="10.0.0.1"))
        waiting = asyncio.create_task(listener.wait_for_change(20))
        await asyncio.sleep(0.3)  # the listener is connected and waiting
        started = asyncio.get_running_loop().time()
        (job,) = await other.create_scan_jobs(scans(web, 1))
        assert await waiting is True
        assert asyncio.get_running_loop().time() - started < 2
        # a lease renewal or progress is no news (the jobs channel names state changes only)
        await other.claim_job("w:1", FAR, True)
        await listener.wait_for_change(0.5)  # the claim's own notice, which may come late on a busy machine
        quiet = asyncio.create_task(listener.wait_for_change(1.0))
        await asyncio.sleep(0.2)
        await other.renew_leases("w:1", FAR)
        await other.record_progress(job.id, 3, 10, "r", None, "log\n")
        assert await quiet is False
        assert (await listener.get_job(job.id)).status is JobStatus.RUNNING
    finally:
        await listener.close()
        await other.close()


async def test_a_least_privilege_role_runs_the_app_on_a_store_its_owner_made(pg_server):
    """docs/postgresql.md's roles and GRANTs, as written there: the owner migrates, the app role only
    reads and writes rows."""
    database = "ct_roles"
    try:
        grants = readme_grants()
        for statement in grants["server"]:
            pg_server.psql(statement)
        for statement in grants["database"]:
            pg_server.psql(statement, database)
        owner_url = pg_server.url(database, "compliance_owner")
        os.environ["PGPASSWORD"] = "owner-pw"
        owner = await PostgresStore.open(owner_url)
        await owner.close()
        # as a release before the one migration history left it (two steps): the steps since
        # create tables (the action log's), which the app role may not: said in one line
        pg_server.psql("DELETE FROM compliance.schema_migrations WHERE version > 2", database)
        os.environ["PGPASSWORD"] = "app-pw"
        with pytest.raises(OperatorError, match=r"needs its schema upgraded \(2 -> \d+\) and this role may not"):
            await PostgresStore.open(pg_server.url(database, "compliance_app"))
        pg_server.psql(f"INSERT INTO compliance.schema_migrations SELECT g, 'x' FROM generate_series(3, "
                       f"{len(MIGRATIONS)}) g", database)  # what the owner's run recorded
        app = await PostgresStore.open(pg_server.url(database, "compliance_app"))
        try:
            assert await app.schema_version() == len(MIGRATIONS)
            web = await app.add_host(Host(name="web1", address="10.0.0.1"))
            (job,) = await app.create_scan_jobs(scans(web, 1))
            assert (await app.claim_job("w:1", FAR, True)).id == job.id
            assert await app.wait_for_change(0.1) is False
            assert (await app.append_audit([NewEntry("host.added", "web1", {}, "app@test")]))[0].seq == 1
        finally:
            await app.close()
        with pytest.raises(Exception, match="must be owner|permission denied"):
            pg_server.psql("SET ROLE compliance_app; DROP TABLE compliance.jobs", database)
        with pytest.raises(Exception, match="must be owner"):  # the action log's guard stays (docs/audit.md)
            pg_server.psql("SET ROLE compliance_app; DROP TRIGGER audit_log_append_only ON compliance.audit_log",
                           database)
        with pytest.raises(Exception, match="append-only"):
            pg_server.psql("SET ROLE compliance_app; DELETE FROM compliance.audit_log", database)
    finally:
        os.environ["PGPASSWORD"] = pg_server.password
        pg_server.drop_database(database)
        for role in ("compliance_app", "compliance_owner"):
            pg_server.psql(f"DROP ROLE IF EXISTS {role}")


def readme_grants() -> dict[str, list[str]]:
    """The SQL blocks of docs/postgresql.md's least-privilege section, passwords set for the test."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "postgresql.md").read_text()
    blocks = {}
    for label in ("server", "database"):
        marker = f"-- roles: {label}\n"
        start = text.index(marker) + len(marker)
        body = text[start:text.index("```", start)]
        body = body.replace("PASSWORD_OF_OWNER", "owner-pw").replace("PASSWORD_OF_APP", "app-pw")
        body = body.replace("\\c compliance\n", "").replace("DATABASE compliance", "DATABASE ct_roles")
        blocks[label] = [s.strip() for s in body.split(";") if s.strip() and not s.strip().startswith("--")]
    return blocks


async def test_four_worker_processes_on_postgres_run_each_job_exactly_once(pg_url, tmp_path):
    """The real Runner in four processes (tests/standin_worker.py) sharing one PostgreSQL store."""
    import subprocess
    import sys
    from pathlib import Path

    from core.domain.settings import Settings
    from core.domain.store_url import ENV_STORE
    from core.workspace import Workspace

    data, root = tmp_path / "data", Path(__file__).resolve().parents[2]
    async with await Workspace.open(data, content_dirs=[tmp_path / "none"],
                                    settings=Settings(store_url=pg_url)) as workspace:
        web = await workspace.store.add_host(Host(name="web1", address="10.0.0.1"))
        jobs = await workspace.store.create_scan_jobs(
            [NewScanJob(web, "cis-level1-server", {}, 1 + n % 10) for n in range(300)])
    outs = [tmp_path / f"ran-{n}.txt" for n in range(4)]
    workers = [subprocess.Popen([sys.executable, "-m", "tests.standin_worker", str(data), str(out), "4"], cwd=root,
                                env=os.environ | {ENV_STORE: pg_url}) for out in outs]
    assert await asyncio.gather(*(asyncio.to_thread(w.wait, 120) for w in workers)) == [0, 0, 0, 0]
    ran = [line for out in outs for line in out.read_text().splitlines() if not line.startswith("#")]
    assert sorted(ran) == sorted(j.id for j in jobs), "every job ran exactly once"
    assert sum(1 for out in outs if len(out.read_text().splitlines()) > 1) >= 2, "they shared the work"
    store = await PostgresStore.open(pg_url)
    try:
        assert await store.job_status_counts() == {"completed": 300}
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()


async def test_evidence_of_scans_is_listed_newest_first_and_forgotten(pg_url):
    """The two evidence operations issue 15 adds to the store interface (on main), ready here."""
    store = await PostgresStore.open(pg_url)
    try:
        web = await store.add_host(Host(name="web1", address="10.0.0.1"))
        old, new = await store.create_scan_jobs([
            NewScanJob(web, "p", {}, 5, created_at="2025-01-01T00:00:00.000000Z"),
            NewScanJob(web, "p", {}, 5, created_at="2025-02-01T00:00:00.000000Z")], "w:1", FAR)
        for job in (old, new):
            await store.claim_job("w:1", FAR, False)
            await store.complete_scan(job.scan_id, [], {}, None, None, f"/e/{job.scan_id}.gz", job_id=job.id)
        assert [row[0] for row in await store.evidence_scans()] == [new.scan_id, old.scan_id]
        await store.forget_evidence([old.scan_id])
        assert [row[4] for row in await store.evidence_scans()] == [f"/e/{new.scan_id}.gz"]
        assert (await store.get_scan(old.scan_id)).arf_path is None
    finally:
        await store.close()
