"""Operator input with shell metacharacters, newlines and option-like values in every field:
rejected before anything runs, or passed on quoted, never run. A canary file on each side
proves it: `touch $HOME/canary` would create one on the jump host (the CLI's HOME) or on the
target (the scanning user's HOME there)."""

from __future__ import annotations

import shlex
import shutil
import sqlite3

import pytest

from tests.fleet.hosts import PASSWORD_USER
from tests.security import documents
from tests.security.conftest import add, cli_many, trust

pytestmark = pytest.mark.fleet
L1 = "cis-level1-server"
TOUCH = "touch $HOME/canary"
PAYLOADS = [f"x;{TOUCH}", f"x$({TOUCH})", f"x`{TOUCH}`", f"x'$({TOUCH})'", f'x"$({TOUCH})"', f"x\n{TOUCH}",
            f"-oProxyCommand={TOUCH}", f"x|{TOUCH}", f"x&&{TOUCH}", "$(touch${IFS}$HOME/canary)"]
FIXTURE = "tests/fixtures/cis-l1-tailoring.xml"


@pytest.fixture
def target(cli, fleet, hostile, home):
    host = hostile("inputs")
    trust(home, host)
    add(cli, fleet, host)
    yield host
    (host.played.home / "canary").unlink(missing_ok=True)


def canaries(home, target) -> list[str]:
    found = [p for p in (home / "canary", target.played.home / "canary") if p.exists()]
    return [str(p) for p in found]


def file_name(payload: str) -> str:
    return payload.replace("/", "_")  # a file name cannot hold '/': everything else stays


def test_fields_refuse_or_quote_hostile_values(cli, target, home, tmp_path, data_dir, fleet):
    port = str(target.played.port)
    results = tmp_path / "results.xml"
    results.write_text(documents.results())
    commands, labels = [], []
    for payload in PAYLOADS:
        refused = {
            "name": ("hosts", "add", payload, "--address", "127.0.0.1"),
            "address": ("hosts", "add", "web", "--address", payload),
            "port": ("hosts", "add", "web", "--address", "127.0.0.1", "--port", payload),
            "user": ("hosts", "add", "web", "--address", "127.0.0.1", "--user", payload),
            "identity": ("hosts", "add", "web", "--address", "127.0.0.1", "--identity", payload),
            "sudo env": ("hosts", "add", "web", "--address", "127.0.0.1", "--sudo-password-env", payload),
            "tailoring": ("hosts", "tailor", "inputs", payload),
            "profile": ("scan", "inputs", "--profile", payload),
            "priority": ("scan", "inputs", "--profile", L1, "--priority", payload),
            "scan host": ("scan", payload, "--profile", L1),
            "scan id": ("results", payload),
            "job id": ("jobs", "show", payload),
            "report id": ("report", payload),
            "import host": ("import", str(results), "--host", payload, "--create-host"),
            "import file": ("import", payload, "--host", "inputs"),
            "content": ("content", "import", payload),
        }
        for field, args in refused.items():
            commands.append(list(args))
            labels.append((field, payload))
    for (field, payload), result in zip(labels, cli_many(cli, commands)):
        assert result.returncode != 0, (field, payload, result.stdout)
        assert result.stderr.count("\n") <= 2, (field, result.stderr)
        if field == "sudo env":
            assert TOUCH not in result.stderr, "the value (perhaps a password) was echoed"
    hosts = [h["name"] for h in cli.ok("hosts", "list", "--json").json()]
    assert hosts == ["inputs", "localhost"]

    # values that are files: the files exist under these names, and are used as they are
    for index, payload in enumerate(PAYLOADS[:6]):
        folder = tmp_path / f"f{index}" / file_name(payload)
        folder.mkdir(parents=True)
        key = folder / file_name(payload)
        shutil.copy(fleet.client_key, key)
        known = folder / f"known-{file_name(payload)}"
        shutil.copy(home / ".ssh" / "known_hosts", known)
        tailoring = folder / f"{file_name(payload)}.xml"
        shutil.copy(FIXTURE, tailoring)
        name = f"web{index}"
        cli.ok("hosts", "add", name, "--address", "127.0.0.1", "--port", port, "--user", "scanner",
               "--identity", str(key), "--known-hosts", str(known))
        cli.ok("hosts", "tailor", name, str(tailoring))
        (found,) = cli("scan", name, "--profile", L1, "--json").json()
        assert found["status"] == "completed", (payload, found["error_message"])
        report = folder / f"report-{file_name(payload)}.html"
        done = cli.ok("report", found["id"][:8], "-o", str(report))
        assert report.is_file()
        hint = done.stderr.split("copy it to your machine: ", 1)[1].strip()
        assert shlex.split(hint)[0] == "scp" and len(shlex.split(hint)) == 3, hint  # one quoted word
        cli.ok("export", "scans", "--format", "csv", "-o", str(folder / f"e-{file_name(payload)}.csv"))
    with sqlite3.connect(data_dir / "compliance.db") as db:
        stored = [row[0] for row in db.execute("SELECT identity_file FROM hosts WHERE name LIKE 'web%'")]
    assert any("\n" in path for path in stored)  # kept literally, newline and all
    assert canaries(home, target) == []


def test_a_sudo_password_with_metacharacters_goes_to_stdin_only(cli, target, home, fleet):
    """The password is fed to sudo -S on stdin: a hostile one is just a wrong password."""
    names = [f"pw{index}" for index in range(len(PAYLOADS))]
    env = {f"PW_{index}": payload for index, payload in enumerate(PAYLOADS)}
    added = cli_many(cli, [["hosts", "add", name, "--address", "127.0.0.1", "--port", str(target.played.port),
                            "--user", PASSWORD_USER, "--identity", str(fleet.client_key),
                            "--sudo-password-env", f"PW_{index}"] for index, name in enumerate(names)], env=env)
    assert all(r.returncode == 0 for r in added), [r.stderr for r in added]
    scans = cli("scan", *names, "--profile", L1, "--json", "--max-concurrent", "10", env=env).json()
    for found in scans:
        assert found["status"] == "failed" and "rejected the password" in found["error_message"], found
    assert canaries(home, target) == []


def test_sudo_password_env_refuses_what_may_be_a_secret(cli):
    """The NAME of a variable goes there; a value that looks like a password is refused and
    never stored or shown, a plausible name that is not set here gets a warning."""
    secret = "Hunter2-is-my-Password"
    for value, env in ((secret, {}), ("hunter2secret", {}), ("SUDO_PW", {"OTHER": "SUDO_PW"})):
        refused = cli("hosts", "add", "web", "--address", "10.0.0.1", "--sudo-password-env", value, env=env)
        assert refused.returncode == 1 and value not in refused.stderr, refused.stderr
    warned = cli("hosts", "add", "web", "--address", "10.0.0.1", "--sudo-password-env", "WEB_SUDO_PW")
    assert warned.returncode == 0 and "WEB_SUDO_PW is not set" in warned.stderr
    fine = cli("hosts", "add", "web2", "--address", "10.0.0.1", "--sudo-password-env", "lower_case_set",
               env={"lower_case_set": "x"})
    assert fine.returncode == 0 and fine.stderr == "", fine.stderr
    stored = {h["name"]: h for h in cli.ok("hosts", "list", "--json").json()}
    assert set(stored) == {"localhost", "web", "web2"}
