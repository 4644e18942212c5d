"""The core services record what they do in the action log (issue 27), whoever calls them:
host keys trusted, scheduled scans enqueued, AI settings saved (never the key), and a failed
change records nothing. Real SQLite store, real key, real config file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncssh
import pytest

from core.ai import configure
from core.audit.verify import verify
from core.domain.errors import InvalidInput
from core.domain.models import Host
from core.domain.settings import ENV_CONFIG, AiSettings
from core.hosts import service as hosts
from core.hosts.service import PresentedKey
from core.schedules import cadence
from core.schedules import service as schedules
from core.targets import ssh
from core.workspace import Workspace


@pytest.fixture
async def workspace(data_dir):
    async with await Workspace.open(data_dir) as opened:
        yield opened


async def logged(workspace) -> list[tuple[str, str, dict]]:
    return [(e.action, e.subject, e.details_dict()) for e in reversed(await workspace.store.audit_entries())]


async def test_trusting_a_host_key_is_logged_with_its_fingerprint(workspace, tmp_path):
    host = await hosts.add_host(workspace, Host(name="web1", address="10.0.0.5",
                                                known_hosts=str(tmp_path / "known_hosts")))
    key = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()  # what a server presents
    presented = PresentedKey(host, key, trusted=False, changed=False)
    path = await hosts.trust_host_key(workspace, presented)
    assert path == tmp_path / "known_hosts"
    assert [k.export_public_key() for k in ssh.known_keys(host)] == [key.export_public_key()]
    *_, (action, subject, details) = await logged(workspace)
    assert (action, subject) == ("hostkey.trusted", "web1")
    assert details["fingerprint"] == ssh.fingerprint(key) and details["endpoint"] == "10.0.0.5:22"
    again = PresentedKey(host, key, trusted=True, changed=False)
    await hosts.trust_host_key(workspace, again)  # trusted already: nothing new happened
    assert [a for a, _s, _d in await logged(workspace)] == ["host.added", "hostkey.trusted"]


async def test_a_refused_change_logs_nothing(workspace):
    await hosts.add_host(workspace, Host(name="web1", address="10.0.0.5"))
    with pytest.raises(InvalidInput):
        await hosts.add_host(workspace, Host(name="web1", address="10.0.0.6"))
    with pytest.raises(InvalidInput):
        await hosts.edit_host(workspace, "web1", port="0")
    await hosts.edit_host(workspace, "web1", address="10.0.0.5")  # the same: no change to log
    assert [a for a, _s, _d in await logged(workspace)] == ["host.added"]


async def test_scheduled_scans_are_logged_with_their_schedule(workspace):
    await hosts.add_host(workspace, Host(name="web1", address="10.0.0.5"))
    added = await schedules.add_schedule(workspace, schedules.Target.of(hosts="web1"), "cis-level1-server",
                                         cadence.parse("daily 02:00"), "UTC")
    later = datetime.now(timezone.utc) + timedelta(days=2)
    (done,) = await schedules.enqueue_due(workspace, "worker:test", later)
    *_, (action, subject, details) = await logged(workspace)
    assert (action, subject) == ("scan.started", "web1")
    assert details["schedule"] == added.id and details["job"] == done.jobs[0].id and details["slot"] == done.slot
    await schedules.edit_schedule(workspace, added.id, cadence=cadence.parse("daily 03:00"))
    *_, (action, _subject, details) = await logged(workspace)
    assert action == "schedule.edited" and details["changed"] == {"cadence": ["daily 02:00", "daily 03:00"]}
    assert (await verify(workspace.store)).intact


async def test_ai_settings_changes_are_logged_without_secrets(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_CONFIG, str(tmp_path / "config.toml"))
    await configure.save_settings(workspace, AiSettings(base_url="https://user:s3cret@llm.example.com/v1",
                                                        model="llama3", timeout=30))
    (action, subject, details), = await logged(workspace)
    assert (action, subject) == ("settings.changed", "ai")
    assert details["changed"]["base_url"] == [None, "https://llm.example.com/v1"]
    assert details["changed"]["model"] == [None, "llama3"] and details["changed"]["timeout"] == [60.0, 30.0]
    assert "s3cret" not in str(await workspace.store.audit_entries())
    assert workspace.settings.ai.model == "llama3"
    await configure.save_settings(workspace, AiSettings(base_url="https://user:s3cret@llm.example.com/v1",
                                                        model="llama3", timeout=30))
    assert len(await logged(workspace)) == 1  # saved again unchanged: nothing to log


async def test_an_approved_exception_past_its_day_is_logged_expired_once(workspace, cli):
    from dataclasses import replace as changed

    from core.domain.policy import RuleException
    from core.policy.exceptions import log_expired

    await hosts.add_host(workspace, Host(name="web1", address="10.0.0.5"))
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    later = (datetime.now(timezone.utc) + timedelta(days=30)).date().isoformat()
    made = []
    for status, expires in (("approved", yesterday), ("approved", later), ("pending", yesterday)):
        exc = RuleException("host", f"rule_{status}_{expires}", "vendor", "alice@a", expires, host="web1")
        made.append(await workspace.store.add_exception(changed(exc, status=status, decided_by="bob@b")))
    assert await log_expired(workspace) == 1
    assert await log_expired(workspace) == 0  # once
    *_, (action, subject, details) = await logged(workspace)
    assert (action, subject) == ("exception.expired", made[0].id)
    assert details["rule"] == made[0].rule_id and details["expires"] == yesterday
    another = RuleException("all", "rule_gone_by", "vendor", "alice@a", yesterday)
    await workspace.store.add_exception(changed(another, status="approved", decided_by="bob@b"))
    done = cli("worker", "--once")  # the worker looks at start (then hourly)
    assert done.returncode == 0, done.stderr
    expired = [s for a, s, _d in await logged(workspace) if a == "exception.expired"]
    assert len(expired) == 2 and expired[0] == made[0].id
