"""core.hosts.inventory: hosts from ~/.ssh/config and Ansible inventories (INI, YAML, and
through the real ansible-inventory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.domain.errors import InvalidInput
from core.hosts import inventory
from core.hosts.inventory import (
    ANSIBLE_INI,
    ANSIBLE_YAML,
    SSH_CONFIG,
    InventoryError,
    detect_kind,
    expand_hosts,
    parse_ansible_ini,
    parse_ansible_yaml,
    parse_ssh_config,
    parse_yaml,
    read_file,
)

HOME = Path("/home/op")


def by_name(parsed):
    return {f.host.name: f for f in parsed.found}


# ---------------------------------------------------------------- ssh config

SSH_CONFIG_TEXT = """\
# jump host config
ServerAliveInterval 30

Host web1 web2
    HostName %h.example.com
    User deploy
    Port 2222
    IdentityFile ~/.ssh/id_web

Host db
    HostName=10.0.0.5
    User "dba"

Host *.internal bastion-?
    User nobody

Match host foo exec "true"
    User matched

Host !skip *
    User fallback
    IdentityFile ~/.ssh/id_default
    Port 22
"""


def test_ssh_config_reads_hosts_with_first_value_wins():
    parsed = parse_ssh_config(SSH_CONFIG_TEXT, home=HOME)
    hosts = by_name(parsed)
    assert list(hosts) == ["web1", "web2", "db"]  # patterns are not hosts
    web1 = hosts["web1"].host
    assert (web1.address, web1.port, web1.username) == ("web1.example.com", 2222, "deploy")
    assert web1.identity_file == "/home/op/.ssh/id_web"
    db = hosts["db"].host
    assert (db.address, db.port, db.username) == ("10.0.0.5", 22, "dba")
    assert db.identity_file == "/home/op/.ssh/id_default"  # from the later `Host *`
    assert hosts["db"].origin == "line 10"
    assert any("Match" in w for w in parsed.warnings)


def test_ssh_config_without_hostname_uses_the_alias_and_flags_a_bad_port():
    parsed = parse_ssh_config("Host plain\nHost broken\n  Port 99999\n")
    hosts = by_name(parsed)
    assert hosts["plain"].host.address == "plain" and hosts["plain"].problem is None
    assert "invalid port" in hosts["broken"].problem


def test_ssh_config_negated_pattern_excludes_a_host():
    parsed = parse_ssh_config("Host a b\nHost * !b\n  User star\n")
    hosts = by_name(parsed)
    assert hosts["a"].host.username == "star"
    assert hosts["b"].host.username is None


def test_ssh_config_include_is_reported_not_followed():
    parsed = parse_ssh_config("Include ~/.ssh/config.d/*\nHost x\n")
    assert [f.host.name for f in parsed.found] == ["x"]
    assert "Include" in parsed.warnings[0]


# ---------------------------------------------------------------- ranges

@pytest.mark.parametrize("pattern, expected", [
    ("web[01:03]", ["web01", "web02", "web03"]),
    ("db-[a:c].lan", ["db-a.lan", "db-b.lan", "db-c.lan"]),
    ("n[0:10:5]", ["n0", "n5", "n10"]),
    ("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"]),
    ("plain", ["plain"]),
])
def test_expand_hosts(pattern, expected):
    assert expand_hosts(pattern) == expected


def test_expand_hosts_rejects_a_mixed_range():
    with pytest.raises(InvalidInput):
        expand_hosts("x[1:c]")


# ---------------------------------------------------------------- ansible INI

INI = """\
; production
bare.example.com

[web]
web[01:02].example.com ansible_user=www
lb ansible_host=10.1.1.1 ansible_port=2200 ansible_ssh_private_key_file=~/.ssh/lb

[db]
db1 ansible_host="10.2.2.2"
local1 ansible_connection=local

[db:vars]
ansible_user=postgres
ansible_port=5022

[prod:children]
web
db

[prod:vars]
ansible_user=admin
ansible_ssh_private_key_file=/keys/prod

[all:vars]
ansible_port=22
"""


def test_ansible_ini_groups_vars_children_and_ranges():
    parsed = parse_ansible_ini(INI, home=HOME)
    hosts = by_name(parsed)
    assert set(hosts) == {"bare.example.com", "web01.example.com", "web02.example.com", "lb", "db1", "local1"}
    web = hosts["web01.example.com"].host
    assert (web.address, web.username, web.port, web.identity_file) == (
        "web01.example.com", "www", 22, "/keys/prod")  # host var beats group var
    lb = hosts["lb"].host
    assert (lb.address, lb.port, lb.username, lb.identity_file) == ("10.1.1.1", 2200, "admin", "/home/op/.ssh/lb")
    db1 = hosts["db1"].host
    assert (db1.address, db1.port, db1.username) == ("10.2.2.2", 5022, "postgres")  # child beats parent
    assert hosts["local1"].host.transport == "local"
    bare = hosts["bare.example.com"].host
    assert (bare.port, bare.username) == (22, None)
    assert hosts["lb"].origin == "line 6 [web]"


def test_ansible_ini_errors_name_the_line():
    with pytest.raises(InventoryError, match="line 2"):
        parse_ansible_ini("[web]\nhost1 not-a-var\n")
    with pytest.raises(InventoryError, match="line 1"):
        parse_ansible_ini("[web\n")


# ---------------------------------------------------------------- ansible YAML

YAML = """\
---
# inventory
all:
  vars:
    ansible_user: admin   # everyone
    ntp_servers:
      - 0.pool.ntp.org
      - 1.pool.ntp.org
    motd: |
      Welcome: be careful
      second: line
  hosts:
    solo.example.com:
  children:
    web:
      hosts:
        web[01:02].example.com:
        lb:
          ansible_host: 10.1.1.1
          ansible_port: 2200
          ansible_ssh_private_key_file: "~/.ssh/lb"
      vars:
        ansible_user: www
    db:
      hosts:
        db1: {ansible_host: 10.2.2.2, ansible_user: 'postgres'}
      children:
        replicas:
          hosts:
            db2:
              ansible_host: "10.2.2.3"
"""


def test_ansible_yaml_groups_vars_children_and_ranges():
    parsed = parse_ansible_yaml(YAML, home=HOME)
    hosts = by_name(parsed)
    assert set(hosts) == {"solo.example.com", "web01.example.com", "web02.example.com", "lb", "db1", "db2"}
    assert hosts["solo.example.com"].host.username == "admin"
    assert hosts["web02.example.com"].host.username == "www"
    lb = hosts["lb"].host
    assert (lb.address, lb.port, lb.username, lb.identity_file) == ("10.1.1.1", 2200, "www", "/home/op/.ssh/lb")
    db1 = hosts["db1"].host
    assert (db1.address, db1.username) == ("10.2.2.2", "postgres")
    db2 = hosts["db2"].host
    assert (db2.address, db2.username) == ("10.2.2.3", "admin")
    assert hosts["db2"].origin == "group replicas"


VAULTED = """\
all:
  vars:
    ansible_user: ops
    db_password: !vault |
      $ANSIBLE_VAULT;1.1;AES256
      62313365396662343061393464336163383764373764613633653634306231386433626436623361
  hosts:
    web1:
      ansible_host: 10.0.0.7
      ansible_become_password: !vault |
        $ANSIBLE_VAULT;1.1;AES256
        6162
      note: !unsafe '{{ not a template }}'
"""


def test_yaml_values_tags_and_vault():
    hosts = by_name(parse_ansible_yaml(VAULTED))
    assert hosts["web1"].host.address == "10.0.0.7" and hosts["web1"].host.username == "ops"
    assert "ANSIBLE_VAULT" not in repr(hosts["web1"])  # vaulted values are never read, and not fatal
    assert parse_yaml("a: [1, two]\nb: !unsafe x\n") == {"a": [1, "two"], "b": "x"}


def test_yaml_errors_name_the_line_and_python_tags_are_refused():
    with pytest.raises(InventoryError, match="line 4"):
        parse_yaml("all:\n  hosts:\n      - bad\n    x: 1\n")
    with pytest.raises(InventoryError, match="line 2: not valid YAML: found unexpected end of stream"):
        parse_yaml("a: 'open\n")
    with pytest.raises(InventoryError, match="not valid YAML"):
        parse_yaml("a: !!python/object/apply:os.system ['touch /tmp/pwned']\n")


def test_aliases_that_repeat_a_group_endlessly_are_refused():
    laughs = "all:\n  children:\n    g0: &g0\n      hosts: {a: {}}\n"
    for n in range(1, 12):
        laughs += f"    g{n}: &g{n}\n      children: {{x{n}a: *g{n - 1}, x{n}b: *g{n - 1}, x{n}c: *g{n - 1}}}\n"
    with pytest.raises(InventoryError, match="refusing the file"):
        parse_ansible_yaml(laughs)


def test_yaml_inventory_must_be_a_mapping():
    with pytest.raises(InventoryError):
        parse_ansible_yaml("- a\n- b\n")
    assert parse_ansible_yaml("# nothing\n").found == []


# ---------------------------------------------------------------- files and detection

def test_detect_kind():
    assert detect_kind(Path("/home/op/.ssh/config"), "") == SSH_CONFIG
    assert detect_kind(Path("inv.yml"), "") == ANSIBLE_YAML
    assert detect_kind(Path("hosts"), "") == ANSIBLE_INI
    assert detect_kind(Path("x"), "# c\n[web]\na\n") == ANSIBLE_INI
    assert detect_kind(Path("x"), "Host a\n") == SSH_CONFIG
    assert detect_kind(Path("x"), "---\nall:\n") == ANSIBLE_YAML


def test_read_file(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text("all:\n  hosts:\n    a:\n      ansible_host: 1.2.3.4\n")
    parsed = read_file(path, use_ansible=False)
    assert parsed.kind == ANSIBLE_YAML and parsed.found[0].host.address == "1.2.3.4"
    with pytest.raises(InvalidInput, match="no such file"):
        read_file(tmp_path / "missing")
    assert inventory.parse("Host z\n", SSH_CONFIG).found[0].host.name == "z"


# ---------------------------------------------------------------- the real ansible-inventory

needs_ansible = pytest.mark.skipif(inventory.ansible_inventory() is None,
                                   reason="ansible-core is not installed (make test installs it)")


@needs_ansible
def test_ansible_inventory_applies_group_vars_and_leaves_vault_values_unread(tmp_path):
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yml").write_text("ansible_user: deploy\nansible_port: 2202\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "web1.yml").write_text("ansible_host: 10.9.9.1\n")
    path = tmp_path / "hosts.yml"
    path.write_text(VAULTED.replace("  hosts:\n    web1:", "  children:\n    web:\n      hosts:\n        web1:")
                    .replace("      ansible_host: 10.0.0.7\n", "          x: 1\n")
                    .replace("      ansible_become_password: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6162\n", "")
                    .replace("      note: !unsafe '{{ not a template }}'\n", ""))
    parsed = read_file(path, home=HOME)
    web1 = by_name(parsed)["web1"]
    assert (web1.host.address, web1.host.port, web1.host.username) == ("10.9.9.1", 2202, "deploy")
    assert web1.origin == "group web" and "ansible-inventory" in parsed.warnings[0]
    assert by_name(read_file(path, use_ansible=False))["web1"].host.username == "ops"  # no group_vars


@needs_ansible
def test_ansible_inventory_reads_ini_and_reports_its_refusal_in_one_line(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("[web]\nweb[1:2] ansible_user=scan\n")
    assert sorted(by_name(read_file(path))) == ["web1", "web2"]
    broken = tmp_path / "broken.yml"
    broken.write_text("all:\n  hosts: [not, a, mapping]\n")
    with pytest.raises(InventoryError, match='Invalid "hosts" entry for "all" group') as caught:
        read_file(broken)
    assert "\n" not in str(caught.value)



# ---------------------------------------------------------------- groups become tags (issue 23)

TAGGED_INI = """\
loose.example.com
[web]
web1 ansible_host=10.0.0.1
[db]
db1
[Prod_EU:children]
web
db
[this-group-name-is-far-too-long-to-be-a-tag]
db1
"""

TAGGED_YAML = """\
all:
  hosts:
    loose.example.com:
  children:
    Prod_EU:
      children:
        web:
          hosts:
            web1: {ansible_host: 10.0.0.1}
        db:
          hosts:
            db1:
    this-group-name-is-far-too-long-to-be-a-tag:
      hosts:
        db1:
"""

TAGS = {"web1": ("prod_eu", "web"), "db1": ("db", "prod_eu"), "loose.example.com": ()}


def test_a_hosts_groups_become_its_tags():
    for parsed in (parse_ansible_ini(TAGGED_INI), parse_ansible_yaml(TAGGED_YAML)):
        assert {name: f.host.tags for name, f in by_name(parsed).items()} == TAGS
        assert parsed.warnings == ["group 'this-group-name-is-far-too-long-to-be-a-tag' is not used as a tag "
                                   "(tags: lowercase letters, digits, '.', '_' and '-', at most 32)"]
    assert by_name(parse_ssh_config("Host a\n"))["a"].host.tags == ()


@needs_ansible
def test_groups_become_tags_through_ansible_inventory(tmp_path):
    for name, text in (("hosts.ini", TAGGED_INI), ("hosts.yml", TAGGED_YAML)):
        (tmp_path / name).write_text(text)
        parsed = read_file(tmp_path / name)
        assert {n: f.host.tags for n, f in by_name(parsed).items()} == TAGS, name
        assert any("is not used as a tag" in w for w in parsed.warnings)


def test_listed_groups_are_bounded():
    listing = {f"g{i}": {"children": [f"g{i + 1}"], "hosts": [f"h{i}"]} for i in range(3000)}
    with pytest.raises(InventoryError, match="group memberships"):
        inventory.parse_ansible_list(listing, ANSIBLE_INI)
