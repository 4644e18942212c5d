"""The operator's SSH set-up is honoured: ~/.ssh/config, ProxyJump and the agent."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import free_port


def write_config(home, text: str) -> None:
    (home / ".ssh" / "config").write_text(text)
    (home / ".ssh" / "config").chmod(0o600)


def test_an_alias_from_ssh_config(cli, fleet, known_hosts, home):
    write_config(home, f"""Host web-alias
    HostName 127.0.0.1
    Port {fleet.hosts['u2204'].port}
    User scanner
    IdentityFile {fleet.client_key}
""")
    cli.ok("hosts", "add", "web", "--address", "web-alias")
    report = cli.ok("hosts", "check", "web", "--json").json()
    assert report["ready"] and report["os"].startswith("Ubuntu 22.04")


def test_proxy_jump(cli, fleet, known_hosts, home):
    jump, inner = fleet.hosts["u2204"], fleet.hosts["u2004"]
    config = f"""Host inner
    HostName 127.0.0.1
    Port {inner.port}
    User scanner
    IdentityFile {fleet.client_key}
    ProxyJump jump

Host jump
    HostName 127.0.0.1
    Port {{jump_port}}
    User scanner
    IdentityFile {fleet.client_key}
"""
    write_config(home, config.format(jump_port=jump.port))
    cli.ok("hosts", "add", "inner", "--address", "inner")
    assert cli.ok("hosts", "detect", "inner", "--json").json()["os"]["version"] == "20.04"
    write_config(home, config.format(jump_port=free_port()))  # the jump host is down: so is inner
    failed = cli("hosts", "check", "inner", "--json")
    assert failed.returncode == 1 and not failed.json()["reachable"]


def test_keys_from_the_agent(cli, fleet, known_hosts, tmp_path):
    socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL)
    try:
        env = {"SSH_AUTH_SOCK": str(socket)}
        for _ in range(50):
            if socket.exists():
                break
            subprocess.run(["sleep", "0.1"])
        subprocess.run(["ssh-add", "-q", str(fleet.client_key)], env=os.environ | env, check=True)
        cli.ok("hosts", "add", "u2204", "--address", "127.0.0.1", "--port",
               str(fleet.hosts["u2204"].port), "--user", "scanner")  # no identity file
        assert cli.ok("hosts", "check", "u2204", "--json", env=env).json()["ready"]
        without_agent = cli("hosts", "check", "u2204", "--json", env={"SSH_AUTH_SOCK": ""})
        assert "authentication failed" in without_agent.json()["error"]
    finally:
        agent.kill()
        agent.wait()
