"""The action log through the real CLI (issue 27): what an operator does is logged with who
did it, `audit log` lists and filters it, and `audit verify` fails once an entry is deleted
or edited (on SQLite and PostgreSQL).

To tamper, the tests drop the append-only triggers first, as an attacker who owns the store's
file (or is the database's superuser) can: the triggers refuse the app's own role, the chain
catches the rest.
"""

from __future__ import annotations

import getpass
import socket
import sqlite3
from datetime import date, timedelta

import pytest

from core import paths
from core.domain.store_url import ENV_STORE
from tests.conftest import Cli

ME = f"{getpass.getuser()}@{socket.gethostname()}"


@pytest.fixture
def pg_cli(cli, pg_url, pg_server) -> Cli:
    cli.env |= {ENV_STORE: pg_url} | pg_server.env()
    return cli


def actions(cli) -> list[tuple[str, str]]:
    """(action, subject) of every entry, oldest first."""
    return [(e["action"], e["subject"]) for e in reversed(cli.ok("audit", "log", "--json").json())]


def tamper_sqlite(data_dir, *statements: str) -> None:
    with sqlite3.connect(paths.database(data_dir)) as db:
        db.execute("DROP TRIGGER audit_log_no_update")
        db.execute("DROP TRIGGER audit_log_no_delete")
        for statement in statements:
            db.execute(statement)


def test_operator_actions_are_logged_with_who_did_them(cli):
    cli.ok("hosts", "add", "web1", "--address", "10.0.0.5", "--user", "scanner", "--sudo-password-env", "WEB_SUDO")
    cli.ok("hosts", "edit", "web1", "--port", "2222")
    cli.ok("hosts", "tag", "web1", "web")
    cli.ok("scan", "web1", "--profile", "cis-level1-server", "--enqueue")
    schedule = cli.ok("schedules", "add", "--tag", "web", "--profile", "cis-level1-server", "--daily", "02:00",
                      "--tz", "UTC", "--json").json()["id"]
    cli.ok("schedules", "pause", schedule)
    cli.ok("schedules", "resume", schedule)
    cli.ok("schedules", "remove", schedule)
    cli.ok("hosts", "remove", "web1")
    assert actions(cli) == [
        ("host.added", "web1"), ("host.edited", "web1"), ("host.edited", "web1"), ("scan.started", "web1"),
        ("schedule.added", schedule), ("schedule.paused", schedule), ("schedule.resumed", schedule),
        ("schedule.removed", schedule), ("host.deleted", "web1"),
    ]
    entries = {e["seq"]: e for e in cli.ok("audit", "log", "--json").json()}
    assert all(e["actor"] == ME for e in entries.values())
    assert entries[1]["details"]["address"] == "10.0.0.5"
    assert entries[1]["details"]["sudo_password_env"] == "WEB_SUDO"  # the variable's name, never its value
    assert entries[2]["details"] == {"changed": {"port": [22, 2222]}}
    assert entries[3]["details"] == {"changed": {"tags": [[], ["web"]]}}
    assert entries[4]["details"]["profile"] == "cis-level1-server" and entries[4]["details"]["job"]
    assert entries[5]["details"]["cadence"] == "daily 02:00"

    text = cli.ok("audit", "log", "--host", "web1", "--action", "host").stdout
    assert "host.added" in text and "host.deleted" in text and "scan.started" not in text
    assert ME in text
    assert [e["action"] for e in cli.ok("audit", "log", "--action", "schedule", "--limit", "2", "--json").json()] \
        == ["schedule.removed", "schedule.resumed"]
    assert len(cli.ok("audit", "log", "--since", "1h", "--json").json()) == 9
    assert cli.ok("audit", "log", "--since", "2999-01-01").stdout.strip() == "no entries match"
    verified = cli.ok("audit", "verify")
    assert verified.stdout.startswith("intact: 9 entries; head seq 9, hash ")


def test_exceptions_are_logged(cli):
    cli.ok("hosts", "add", "web1", "--address", "10.0.0.5")
    expires = (date.today() + timedelta(days=30)).isoformat()
    exc = cli.ok("exceptions", "add", "--host", "web1", "--rule", "file_permissions_etc_issue", "--reason",
                 "kiosk banner rewritten by the signage agent", "--expires", expires, "--json").json()
    cli.ok("exceptions", "remove", exc["id"])
    added, removed = [e for e in cli.ok("audit", "log", "--action", "exception", "--json").json()][::-1]
    assert (added["action"], added["subject"]) == ("exception.added", exc["id"])
    assert added["details"]["rule"].endswith("file_permissions_etc_issue")
    assert added["details"]["reason"] == "kiosk banner rewritten by the signage agent"
    assert added["details"]["expires"] == expires and added["details"]["scope"] == "host web1"
    assert removed["action"] == "exception.removed" and removed["subject"] == exc["id"]


def test_verify_fails_once_an_entry_is_deleted(cli, data_dir):
    for name in ("a", "b", "c", "d"):
        cli.ok("hosts", "add", name, "--address", "10.0.0.9")
    assert cli("audit", "verify").returncode == 0
    tamper_sqlite(data_dir, "DELETE FROM audit_log WHERE seq = 2")
    broken = cli("audit", "verify")
    assert broken.returncode == 1
    assert broken.stdout.splitlines() == ["seq 3: entry 2 is missing (deleted: the chain has a gap before it)"]
    assert "NOT intact: 1 problem(s)" in broken.stderr and "Traceback" not in broken.stderr
    verdict = cli("audit", "verify", "--json")
    assert verdict.returncode == 1 and verdict.json()["intact"] is False and verdict.json()["entries"] == 3


def test_verify_fails_once_the_last_entry_is_deleted_or_one_is_edited(cli, data_dir):
    for name in ("a", "b", "c"):
        cli.ok("hosts", "add", name, "--address", "10.0.0.9")
    tamper_sqlite(data_dir, "DELETE FROM audit_log WHERE seq = 3",
                  "UPDATE audit_log SET actor = 'someone@else' WHERE seq = 1")
    broken = cli("audit", "verify")
    assert broken.returncode == 1
    assert broken.stdout.splitlines() == [
        "seq 1: its hash does not match what it holds (edited)",
        "head: the store recorded 3 entries but the chain ends at seq 2 (entries 3 to 3 were deleted)",
    ]


def test_the_app_itself_cannot_delete_an_entry(cli, data_dir):
    cli.ok("hosts", "add", "a", "--address", "10.0.0.9")
    with sqlite3.connect(paths.database(data_dir)) as db, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_log")
    assert cli("audit", "verify").returncode == 0


def test_a_bad_since_is_one_line(cli):
    bad = cli("audit", "log", "--since", "yesterday")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "--since 'yesterday': give a span back from now" in bad.stderr


def test_hostile_text_is_neutralised_in_the_table_and_exact_in_json(cli, data_dir):
    import asyncio

    from core.domain.audit import NewEntry
    from core.store.sqlite import SqliteStore

    hostile = "web\x1b[31m\u202e1"

    async def append() -> None:  # as a host name from an imported file could reach it
        store = await SqliteStore.open(paths.database(data_dir))
        try:
            await store.append_audit([NewEntry("host.added", hostile, {"address": "\x1b]0;owned\x07"}, ME)])
        finally:
            await store.close()

    cli.ok("audit", "log")  # the data dir as the app makes it
    asyncio.run(append())
    text = cli.ok("audit", "log").stdout
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text and "host.added" in text
    (entry,) = cli.ok("audit", "log", "--json").json()
    assert entry["subject"] == hostile and entry["details"] == {"address": "\x1b]0;owned\x07"}


def test_postgres_verify_fails_once_an_entry_is_deleted(pg_cli, pg_url):
    import asyncio

    import asyncpg

    for name in ("a", "b", "c"):
        pg_cli.ok("hosts", "add", name, "--address", "10.0.0.9")
    assert pg_cli.ok("audit", "verify").stdout.startswith("intact: 3 entries")

    async def delete_middle() -> None:
        connection = await asyncpg.connect(pg_url)
        try:
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await connection.execute("DELETE FROM audit_log WHERE seq = 2")
            await connection.execute("DROP TRIGGER audit_log_append_only ON audit_log")  # a superuser can
            await connection.execute("DELETE FROM audit_log WHERE seq = 2")
        finally:
            await connection.close()

    asyncio.run(delete_middle())
    broken = pg_cli("audit", "verify")
    assert broken.returncode == 1
    assert broken.stdout.splitlines() == ["seq 3: entry 2 is missing (deleted: the chain has a gap before it)"]


def test_store_migrate_carries_the_log_and_its_head(cli, pg_url, pg_server):
    for name in ("a", "b"):
        cli.ok("hosts", "add", name, "--address", "10.0.0.9")
    env = pg_server.env()
    for _run in range(2):  # a second run adds nothing and keeps the head
        moved = cli("store", "migrate", "--to", pg_url, "--json", env=env)
        assert moved.returncode == 0, moved.stderr
    on_pg = {ENV_STORE: pg_url} | env
    here, there = cli.ok("audit", "verify"), cli.ok("audit", "verify", env=on_pg)
    assert there.stdout == here.stdout and there.stdout.startswith("intact: 2 entries")
    assert cli.ok("audit", "log", "--json", env=on_pg).stdout == cli.ok("audit", "log", "--json").stdout
    cli.ok("hosts", "add", "c", "--address", "10.0.0.9", env=on_pg)  # the chain goes on in PostgreSQL
    assert cli.ok("audit", "verify", env=on_pg).stdout.startswith("intact: 3 entries")
    assert cli("store", "migrate", "--to", pg_url, env=env).returncode == 0  # again: the head is not set back
    assert cli.ok("audit", "verify", env=on_pg).stdout.startswith("intact: 3 entries")
