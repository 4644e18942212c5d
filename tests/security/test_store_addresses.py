"""Store addresses (issue 22, item 3): a password is refused in every spelling of a store
address (user:PASSWORD@, password= in the query in any case or percent-encoded, a libpq keyword
string) from --store, `store migrate --to` and [store] url, and from $COMPLIANCE_TUI_STORE in
all but the one spelling docs/postgresql.md promises there (user:PASSWORD@); wherever an
address is shown (errors, `store migrate`, `store check`, --version, Settings, logs) its
password is ***. Real CLI processes; a real PostgreSQL for what is shown of a working store."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from core.domain.settings import Settings
from core.domain.store_url import ENV_STORE, masked
from tests.security.conftest import cli_many

SECRET = "Sup3r-S3cret-Pw"
BASE = "postgresql://app@127.0.0.1:1/ct"
SPELLINGS = {
    "userinfo": f"postgresql://app:{SECRET}@127.0.0.1:1/ct",
    "query": f"{BASE}?password={SECRET}",
    "query-upper": f"{BASE}?sslmode=disable&PASSWORD={SECRET}",
    "query-mixed": f"{BASE}?PassWord={SECRET}&sslmode=disable",
    "query-encoded": f"{BASE}?pass%77ord={SECRET}",
    "keywords": f"host=127.0.0.1 port=1 dbname=ct user=app password={SECRET}",
    "keywords-quoted": f"host=127.0.0.1 dbname=ct password='{SECRET} x'",
}


def refused(done, where: str) -> None:
    assert done.returncode == 1, (where, done.stdout, done.stderr)
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, (where, done.stderr)
    assert SECRET not in done.stdout + done.stderr, (where, done.stderr)


def test_22_3_a_password_is_refused_in_every_spelling_and_never_repeated(cli, tmp_path):
    config = tmp_path / "store.toml"
    commands, envs, labels = [], [], []
    for name, url in SPELLINGS.items():
        commands += [["--store", url, "hosts", "list"], ["store", "migrate", "--to", url]]
        labels += [f"--store {name}", f"migrate --to {name}"]
    results = cli_many(cli, commands)
    for label, done in zip(labels, results):
        refused(done, label)
        assert "PGPASSWORD" in done.stderr or "keyword string" in done.stderr, (label, done.stderr)
    for name, url in SPELLINGS.items():  # the config file and the environment: one process each
        config.write_text(f"[store]\nurl = {url!r}\n".replace("'", '"') if "'" not in url else
                          f"[store]\nurl = \"{url}\"\n")
        envs.append((f"[store] url {name}", cli("hosts", "list", env={"COMPLIANCE_TUI_CONFIG": str(config)})))
        if name != "userinfo":  # the one spelling the environment may carry (docs/postgresql.md)
            envs.append((f"{ENV_STORE} {name}", cli("hosts", "list", env={ENV_STORE: url})))
    for label, done in envs:
        refused(done, label)
        assert "PGPASSWORD" in done.stderr or "keyword string" in done.stderr, (label, done.stderr)
    allowed = cli("hosts", "list", env={ENV_STORE: SPELLINGS["userinfo"]})  # accepted; the server is down
    refused(allowed, "userinfo in the environment")
    assert "cannot connect to the store at 127.0.0.1:1/ct: connection refused" in allowed.stderr


def test_22_3_masked_covers_every_spelling():
    for name, url in SPELLINGS.items():
        shown = masked(url)
        assert SECRET not in shown and "***" in shown, (name, shown)
    assert masked(f"{BASE}?sslmode=verify-full&sslrootcert=/etc/ca.pem") == f"{BASE}?sslmode=verify-full&sslrootcert=/etc/ca.pem"
    unknown = "mysql://app:" + SECRET + "@db/ct?password=" + SECRET
    assert SECRET not in masked(unknown)


@pytest.fixture
def password_url(pg_server, pg_url) -> str:
    """The test database's address with the password in it, as $COMPLIANCE_TUI_STORE may hold it."""
    return pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{quote(pg_server.password, safe='')}@")


async def test_22_3_every_address_shown_is_masked(cli, data_dir, pg_server, pg_url, password_url, caplog):
    secret = pg_server.password
    env = {ENV_STORE: password_url, "PGPASSWORD": ""}  # the password only in the address
    outputs = [cli.ok("hosts", "list", env=env), cli.ok("--version", env=env), cli.ok("store", "check", env=env)]
    assert "***@" in outputs[1].stdout and "***@" in outputs[2].stdout
    assert "schema " in outputs[2].stdout and "consistency" in outputs[2].stdout
    backup = cli("store", "backup", str(data_dir / "b.db"), env=env)
    refused_pg = backup.returncode == 1 and "pg_dump --format=custom" in backup.stderr
    assert refused_pg, backup.stderr
    cli.ok("hosts", "list")  # a SQLite store to migrate from
    moved = cli.ok("store", "migrate", "--to", f"{pg_url}?sslmode=disable", env={"PGPASSWORD": secret})
    assert f"next: compliance-tui --store {pg_url}?sslmode=disable" in moved.stdout
    for done in (*outputs, backup, moved):
        assert secret not in done.stdout + done.stderr
    # the Settings screen and the log of a store that cannot be reached
    from textual.widgets import Static

    from tests.tui.helpers import make_app

    app = make_app(data_dir, settings=Settings(store_url=password_url), refresh_seconds=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)  # the app's LISTEN connection is up before it closes
        await pilot.press("6")
        await pilot.pause(0.5)
        shown = "\n".join(str(w.render()) for w in app.screen.query(Static))
        assert "***@127.0.0.1" in shown and secret not in shown
    with caplog.at_level(logging.DEBUG):
        down = cli("hosts", "list", env={ENV_STORE: password_url.replace(f":{pg_server.port}/", ":1/")})
        from core.store import open_store

        with pytest.raises(Exception) as failed:
            await open_store(data_dir / "unused.db", password_url.replace(f":{pg_server.port}/", ":1/"))
    assert secret not in down.stderr + str(failed.value) + caplog.text
