"""`compliance-tui hosts import` (issue 23, item 15): a fleet loaded from ~/.ssh/config or an
Ansible inventory by a script, with the checks of the TUI's Import hosts."""

from __future__ import annotations

SSH_CONFIG = """\
Host *
    User scanner

Host web1 web2
    HostName %h.example.com
    Port 2222

Host v6
    HostName ::1
    Port 2401

Host bad
    HostName 300.1.1.1

Host noport
    HostName 10.0.0.9
    Port 70000

Match user root
    Port 1
"""

INVENTORY = """\
[web]
web1 ansible_host=10.0.0.11
web2 ansible_host=10.0.0.12 ansible_user=deploy
[db]
db1 ansible_host=10.0.0.21 ansible_port=2222
[prod:children]
web
db
"""

OUTCOMES = ("added", "would_add", "skipped", "failed")


def hosts(cli) -> dict[str, dict]:
    return {h["name"]: h for h in cli.ok("hosts", "list", "--json").json()}


def test_ssh_config_dry_run_adds_nothing_then_import_adds_what_passes(cli, tmp_path, home):
    config = tmp_path / "config"
    config.write_text(SSH_CONFIG)
    before = hosts(cli)
    dry = cli.ok("hosts", "import", str(config), "--dry-run")
    assert hosts(cli) == before  # --dry-run: nothing added
    lines = dry.stdout.splitlines()
    assert lines[0].split() == ["NAME", "ADDRESS", "USER", "TAGS", "FROM", "OUTCOME"]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == {"web1", "web2", "v6", "bad", "noport"}
    assert "web1.example.com:2222" in rows["web1"] and rows["web1"].endswith("would add")
    assert "[::1]:2401" in rows["v6"]
    assert rows["bad"].endswith("skipped: invalid address '300.1.1.1': give a DNS name or an IP address "
                                "(IPv4 as 10.0.0.5, each part 0 to 255; IPv6 as 2001:db8::5)")
    assert rows["noport"].endswith("skipped: invalid port '70000'")
    assert lines[-1] == f"3 host(s) of {config} would be added, 2 skipped; nothing added (--dry-run)"
    assert "note: line 19: Match blocks are not read; their options are ignored" in dry.stderr

    done = cli.ok("hosts", "import", str(config))
    assert done.stdout.splitlines()[-1].startswith(f"added 3 host(s) from {config}, 2 skipped; next: ")
    stored = hosts(cli)
    assert {n: (h["address"], h["port"], h["user"]) for n, h in stored.items() if n not in before} == {
        "web1": ("web1.example.com", 2222, "scanner"), "web2": ("web2.example.com", 2222, "scanner"),
        "v6": ("::1", 2401, "scanner")}

    again = cli.ok("hosts", "import", str(config), "--json").json()  # a script may run it again
    assert again["counts"] == {"added": 0, "would_add": 0, "skipped": 5, "failed": 0}
    assert {h["name"]: h["reason"] for h in again["hosts"]}["web1"] == "exists already"
    assert hosts(cli) == stored


def test_ansible_inventory_json_shape_and_groups_as_tags(cli, tmp_path):
    """Through ansible-inventory where it is installed (the virtualenv's), else the own parser
    (tests/unit/test_inventory.py covers both)."""
    path = tmp_path / "inventory"
    path.write_text(INVENTORY)
    dry = cli.ok("hosts", "import", str(path), "--kind", "ansible-ini", "--dry-run", "--json").json()
    assert set(dry) == {"file", "kind", "dry_run", "hosts", "counts", "warnings"}
    assert (dry["file"], dry["kind"], dry["dry_run"]) == (str(path), "ansible-ini", True)
    assert dry["counts"] == {"added": 0, "would_add": 3, "skipped": 0, "failed": 0}
    web2 = next(h for h in dry["hosts"] if h["name"] == "web2")
    assert web2 == {"name": "web2", "address": "10.0.0.12", "port": 22, "user": "deploy", "identity_file": None,
                    "transport": "ssh", "tags": ["prod", "web"], "origin": web2["origin"],
                    "outcome": "would_add", "reason": None}
    assert "localhost" in hosts(cli) and "web2" not in hosts(cli)

    done = cli.ok("hosts", "import", str(path), "--json").json()
    assert done["dry_run"] is False and done["counts"]["added"] == 3
    assert {h["name"]: h["outcome"] for h in done["hosts"]} == {"web1": "added", "web2": "added", "db1": "added"}
    stored = hosts(cli)
    assert {n: stored[n]["tags"] for n in ("web1", "web2", "db1")} == {
        "web1": ["prod", "web"], "web2": ["prod", "web"], "db1": ["db", "prod"]}
    assert stored["db1"]["port"] == 2222
    by_tag = cli.ok("schedules", "add", "--tag", "db", "--profile", "cis-level1-server", "--daily", "02:00",
                    "--json").json()  # the imported groups work as tags at once
    assert by_tag["target"]["tag"] == "db" and by_tag["hosts"] == 1


def test_what_cannot_be_read_is_one_line(cli, tmp_path):
    missing = cli("hosts", "import", str(tmp_path / "nope"))
    assert missing.returncode == 1 and missing.stderr == f"error: {tmp_path / 'nope'}: no such file\n"
    broken = tmp_path / "hosts.yml"
    broken.write_text("all:\n  hosts: [not, a, mapping\n")
    refused = cli("hosts", "import", str(broken))
    assert refused.returncode == 1 and refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert cli("hosts", "import", str(broken), "--kind", "nonsense").returncode == 2  # argparse: a usage error
