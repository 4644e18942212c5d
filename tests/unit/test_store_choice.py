"""Which store a process opens (--store, $COMPLIANCE_TUI_STORE, [store] url, else SQLite), and
that a password never comes from a command line or the config file, nor shows in an error; the
CLI's zone and edit options (through the real command)."""

from __future__ import annotations

import pytest

from core.domain.errors import InvalidInput
from core.domain.settings import load_settings
from core.domain.store_url import ENV_STORE

URL = "postgresql://app@db.example.net/ct?sslmode=verify-full"


def test_the_config_file_names_a_store_and_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_STORE, raising=False)
    config = tmp_path / "config.toml"
    assert load_settings(config).store_url is None  # no file: the data dir's SQLite
    config.write_text(f'[store]\nurl = "{URL}"\n')
    assert load_settings(config).store_url == URL
    monkeypatch.setenv(ENV_STORE, "postgresql://other:pw-in-env@db2/ct")  # the environment may hold one
    assert load_settings(config).store_url == "postgresql://other:pw-in-env@db2/ct"
    assert load_settings(config, environment=False).store_url == URL


@pytest.mark.parametrize("text, message", [
    ('[store]\nurl = "postgresql://app:hunter2@db/ct"\n', "holds a password"),
    ('[store]\nurl = "mysql://db/ct"\n', "unknown store"),
    ('[store]\nhost = "db"\n', "takes one key"),
])
def test_a_bad_store_in_the_config_file_is_one_line_without_the_password(tmp_path, text, message):
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(InvalidInput, match=message) as refused:
        load_settings(config, environment=False)
    assert "hunter2" not in str(refused.value) and "\n" not in str(refused.value)


def test_the_cli_refuses_a_password_in_store_and_explains_an_unreachable_server(cli):
    given = cli("--store", "postgresql://app:hunter2@127.0.0.1:1/ct", "hosts", "list")
    assert given.returncode == 1 and "hunter2" not in given.stderr + given.stdout
    assert given.stderr.count("\n") == 1 and "PGPASSWORD" in given.stderr
    down = cli("--store", "postgresql://app@127.0.0.1:1/ct", "hosts", "list", env={"PGPASSWORD": "hunter2"})
    assert down.returncode == 1 and down.stderr.strip() == (
        "error: cannot connect to the store at 127.0.0.1:1/ct: connection refused: check the host and port, "
        "and that PostgreSQL runs and listens there")
    moved = cli("store", "migrate", "--to", "postgresql://app:hunter2@127.0.0.1:1/ct")
    assert moved.returncode == 1 and "hunter2" not in moved.stderr and "PGPASSWORD" in moved.stderr


def test_zones_through_hosts_add_edit_and_list(cli):
    cli.ok("hosts", "add", "web1", "--address", "10.0.0.5", "--zone", "DMZ")
    assert cli.ok("hosts", "list", "--json").json()[-1]["zone"] == "dmz"
    assert "dmz" in cli.ok("hosts", "list").stdout.splitlines()[-1]
    assert "zone lab" in cli.ok("hosts", "edit", "web1", "--zone", "lab", "--port", "2222").stdout
    edited = cli.ok("hosts", "list", "--json").json()[-1]
    assert (edited["zone"], edited["port"]) == ("lab", 2222)
    cli.ok("hosts", "edit", "web1", "--zone", "")
    assert cli.ok("hosts", "list", "--json").json()[-1]["zone"] is None
    for args, message in ((("hosts", "edit", "web1", "--zone", "no zone!"), "invalid zone"),
                          (("hosts", "edit", "web1"), "nothing to change"),
                          (("hosts", "edit", "nope", "--zone", "a"), "no host named"),
                          (("worker", "--once", "--zone", "a;b"), "invalid zone")):
        refused = cli(*args)
        assert refused.returncode == 1 and message in refused.stderr and refused.stderr.count("\n") == 1, args
