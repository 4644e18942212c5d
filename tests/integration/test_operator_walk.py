"""An operator's walk through the CLI (issue 23, items 12 and 14): exceptions of rules nobody
knows, sudo password variables that are not set, addresses, IPv6 ports, reports without a
browser, and the host key `hosts trust` offers."""

from __future__ import annotations

import asyncio
import bz2
import os
import re
import signal
import subprocess

import pytest

from core.domain.models import RuleInfo
from core.workspace import Workspace
from tests.conftest import add_fleet_host, free_port, made_once
from tests.fleet.hosts import _start_sshd, _wait_for_port
from tests.oscap_results import produce_results
from tests.unit.test_content import make_ds

UNTIL = "2099-12-31"


def add_exception(cli, rule: str):
    return cli("exceptions", "add", "--all", "--rule", rule, "--reason", "vendor appliance", "--expires", UNTIL)


def one_line_error(result, starts: str) -> None:
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(starts), result.stderr


def test_an_exception_needs_a_rule_that_content_or_a_scan_knows(cli, data_dir, tmp_path):
    refused = add_exception(cli, "not_a_rule")
    one_line_error(refused, "error: unknown rule not_a_rule: no stored scan and no installed datastream has it")
    assert cli.ok("exceptions", "list", "--json").json() == []

    assert add_exception(cli, "sshd_disable_root_login").returncode == 0  # the system's SSG defines it

    # a rule only a stored scan knows (its content is not installed here)
    async def store_rule_texts():
        async with await Workspace.open(data_dir) as workspace:
            await workspace.store.save_content("sha-of-elsewhere", "ssg-custom-ds.xml", "bench", "9.9",
                                               [RuleInfo("xccdf_org.ssgproject.content_rule_site_only_rule")])
    asyncio.run(store_rule_texts())
    assert add_exception(cli, "site_only_rule").returncode == 0

    # a rule only an imported bz2 datastream defines
    plain = make_ds(tmp_path / "plain" / "ssg-sitelinux1-ds.xml", "0.1.99", {"cis_level1_server": ["in_bz2"]},
                    rules=("in_bz2",))
    packed = tmp_path / "packed" / "ssg-sitelinux1-ds.xml.bz2"
    packed.parent.mkdir()
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    assert add_exception(cli, "in_bz2").returncode == 1
    cli.ok("content", "import", str(packed.parent))
    assert add_exception(cli, "in_bz2").returncode == 0
    rules = {e["rule_id"].rpartition("_rule_")[2] for e in cli.ok("exceptions", "list", "--json").json()}
    assert rules == {"sshd_disable_root_login", "site_only_rule", "in_bz2"}


def test_an_unset_sudo_password_variable_is_warned_about_and_the_host_saved(cli):
    env = {"CT_TEST_SUDO_PW": ""}  # set (empty) in the second half only
    added = cli("hosts", "add", "web1", "--address", "10.0.0.5", "--sudo-password-env", "CT_UNSET_SUDO_PW")
    assert added.returncode == 0 and added.stdout.startswith("added web1")
    assert re.fullmatch(r"warning: CT_UNSET_SUDO_PW is not set in this environment; [^\n]*\n", added.stderr)
    edited = cli("hosts", "edit", "web1", "--sudo-password-env", "CT_UNSET_SUDO_PW2")
    assert edited.returncode == 0 and edited.stdout.startswith("changed web1")
    assert re.fullmatch(r"warning: CT_UNSET_SUDO_PW2 is not set in this environment; [^\n]*\n", edited.stderr)
    (host,) = [h for h in cli.ok("hosts", "list", "--json").json() if h["name"] == "web1"]
    assert host["address"] == "10.0.0.5"
    quiet = cli("hosts", "edit", "web1", "--sudo-password-env", "CT_TEST_SUDO_PW", env=env)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert cli("hosts", "edit", "web1", "--port", "2222").stderr == ""  # not about the variable: no word


def test_addresses_are_checked_and_ipv6_ports_bracketed(cli):
    for bad in ("300.1.1.1", "10.0.0.256", "1.2.3", "-oProxyCommand=x", "web..example.com", "bad-.example.com"):
        one_line_error(cli("hosts", "add", "x", f"--address={bad}"), f"error: invalid address '{bad}'")
    for good in ("10.0.0.5", "db-2.example.com", "host_1.local", "2001:db8::5"):
        cli.ok("hosts", "add", f"h{len(good)}", "--address", good)
    assert "added v6 ([::1]:2401)" in cli.ok("hosts", "add", "v6", "--address", "::1", "--port", "2401").stdout
    assert "changed v6 ([::1]:2402, no zone)" in cli.ok("hosts", "edit", "v6", "--port", "2402").stdout
    assert "changed v6 (10.0.0.9:2402" in cli.ok("hosts", "edit", "v6", "--address", "10.0.0.9").stdout


@pytest.fixture(scope="module")
def arf(tmp_path_factory):
    return made_once(tmp_path_factory, "oscap-l1", lambda d: produce_results(d)) / "arf.xml"


def test_report_open_without_a_browser_says_where_the_file_is(cli, arf):
    (scan,) = cli.ok("import", str(arf), "--host", "web1", "--create-host", "--yes", "--json").json()
    shown = cli("report", scan["id"][:8], "--open", env={"BROWSER": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert shown.returncode == 0
    path = shown.stdout.strip()
    assert shown.stderr.count("\n") == 1, shown.stderr
    assert shown.stderr.startswith(f"no browser found to open it (set $BROWSER, or use a desktop session): "
                                   f"the report is {path}; copy it to your machine: scp ")


def test_hosts_trust_offers_the_strongest_key_the_host_has(cli, fleet, home):
    """A host with RSA, ECDSA and ed25519 host keys: `hosts trust` shows and trusts ed25519."""
    played = fleet.hosts.get("allkeys") or fleet.add("allkeys", "ubuntu2204", free_port())
    ssh = played.root / "etc/ssh"
    if not (ssh / "ssh_host_rsa_key").exists():
        os.killpg(played.process.pid, signal.SIGTERM)  # as the fleet stops it
        played.process.wait(timeout=10)
        for kind, bits in (("rsa", "3072"), ("ecdsa", "521")):
            subprocess.run(["ssh-keygen", "-q", "-t", kind, "-b", bits, "-N", "", "-f", str(ssh / f"ssh_host_{kind}_key")],
                           check=True)
        config = (ssh / "sshd_config").read_text()  # RSA first: the server's order must not matter
        (ssh / "sshd_config").write_text("HostKey /etc/ssh/ssh_host_rsa_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n"
                                         + config)
        played.process = _start_sshd(played)
        _wait_for_port(played.port, played)
    add_fleet_host(cli, fleet, "allkeys")
    trusted = cli.ok("hosts", "trust", "allkeys", "--yes")
    assert trusted.stdout.startswith(f"allkeys (127.0.0.1:{played.port}) presents ssh-ed25519 SHA256:")
    line = (home / ".ssh" / "known_hosts").read_text().splitlines()[-1]
    assert line.split()[:2] == [f"[127.0.0.1]:{played.port}", "ssh-ed25519"]
    assert line.split()[2] == (ssh / "ssh_host_ed25519_key.pub").read_text().split()[1]
    assert cli.ok("hosts", "check", "allkeys").returncode == 0
