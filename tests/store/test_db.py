"""The database protocol's own parts (core/store/db.py and its adapters) and the one schema
history (core/store/schema.py): a step written once upgrades either backend."""

from __future__ import annotations

import pytest

from core.store.db import POSTGRES, SQLITE
from core.store.schema import STEPS, both, scripts
from tests.store.conftest import BACKENDS, open_backend


def test_postgres_parameters_are_numbered_outside_quotes():
    pytest.importorskip("asyncpg")
    from core.store.postgres_db import changed, numbered

    assert numbered("SELECT ? WHERE a LIKE ? ESCAPE '\\' AND b = '?' AND \"c?\" = ?") == \
        "SELECT $1 WHERE a LIKE $2 ESCAPE '\\' AND b = '?' AND \"c?\" = $3"
    assert numbered("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', $1"
    assert (changed("UPDATE 3"), changed("INSERT 0 1"), changed("CREATE TABLE")) == (3, 1, 0)


def test_dialect_words():
    assert SQLITE.lock("j", skip_locked=True) == "" and POSTGRES.lock() == " FOR UPDATE"
    assert POSTGRES.lock("j", skip_locked=True) == " FOR UPDATE OF j SKIP LOCKED"
    assert SQLITE.among("id", ["a", "b"]) == ("id IN (?, ?)", ["a", "b"])
    assert POSTGRES.among("id", ("a", "b")) == ("id = ANY(?::text[])", [["a", "b"]])
    assert len(scripts(SQLITE)) == len(scripts(POSTGRES)) == len(STEPS)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_step_written_once_upgrades_either_backend(request, tmp_path, monkeypatch, backend):
    where = request.getfixturevalue("pg_url") if backend == "postgres" else tmp_path
    await (await open_backend(backend, where)).close()  # a store at the last step that shipped
    step = both("ALTER TABLE hosts ADD COLUMN rack {text}",
                "CREATE TABLE notes (id {key}, body {text} NOT NULL, weight {double}, "
                "seen {boolean} NOT NULL DEFAULT FALSE)")
    module = __import__(f"core.store.{backend}", fromlist=["MIGRATIONS"])
    monkeypatch.setattr(module, "MIGRATIONS", [*module.MIGRATIONS, getattr(step, backend)])
    store = await open_backend(backend, where)
    try:
        assert await store.schema_version() == len(STEPS) + 1
        await store.db.execute("INSERT INTO notes (body, weight, seen) VALUES (?, ?, ?)", ("b", 0.5, True))
        await store.db.execute("INSERT INTO notes (body) VALUES (?)", ("c",))
        rows = await store.db.fetch("SELECT id, body, weight, seen FROM notes ORDER BY id")
        assert [(r["id"], r["body"], r["weight"], bool(r["seen"])) for r in rows] == [(1, "b", 0.5, True),
                                                                                       (2, "c", None, False)]
        assert await store.db.fetch_value("SELECT COUNT(rack) FROM hosts") == 0
    finally:
        await store.close()
