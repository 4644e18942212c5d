"""Drift alerts end to end, through real processes and real receivers: a worker sends one digest
per schedule run to a JSON webhook (a real HTTP server) and to mail (a real SMTP server), a
failing target is tried again and the tries are in the jobs' output, several workers send it
once, the URLs' secrets never reach the store; on a played host, a run that fixes one rule and
breaks another names both."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import add_fleet_host, free_port
from tests.integration.test_jobs import background
from tests.integration.test_schedules_fleet import backdate, runs_and_jobs
from tests.receivers import text_of

NOW = datetime.now(timezone.utc)
SECRET = "s3cret-hook-pass"
RULE = "xccdf_org.ssgproject.content_rule_file_permissions_etc_"


@pytest.fixture
def alerting(cli, tmp_path, webhook, mailbox):
    """The CLI with [notify] naming the webhook for every schedule, quick retries, and both
    targets' URLs in the environment, as a worker's EnvironmentFile would give them."""
    config = tmp_path / "config.toml"
    config.write_text('[notify]\ntargets = ["hook"]\nattempts = 3\nbackoff = 0.2\n')
    cli.env |= {"COMPLIANCE_TUI_CONFIG": str(config),
                "COMPLIANCE_TUI_NOTIFY_HOOK": webhook.url().replace("json://", f"json://ops:{SECRET}@"),
                "COMPLIANCE_TUI_NOTIFY_MAIL": mailbox.url()}
    return cli


def schedule(cli, *target: str) -> dict:
    earlier = NOW - timedelta(hours=1)
    return cli.ok("schedules", "add", *target, "--profile", "cis-level1-server", "--daily", f"{earlier:%H:%M}",
                  "--tz", "UTC", "--notify", "mail", "--json").json()


async def test_several_workers_send_one_digest_and_retry_a_failing_target(alerting, data_dir, webhook, mailbox):
    cli = alerting
    for name in ("gone1", "gone2"):  # nothing listens there: each scan fails at once
        cli.ok("hosts", "add", name, "--address", "127.0.0.1", "--port", str(free_port()), "--tag", "lab")
    added = schedule(cli, "--tag", "lab")
    await backdate(data_dir, added["id"], 3)
    webhook.statuses.append(500)  # the webhook's first answer: its server is away
    workers = [background(cli, "worker", "--once", "--processes", "1") for _ in range(2)]
    ended = [await asyncio.to_thread(w.communicate, timeout=120) for w in workers]
    said = "".join(err for _out, err in ended)
    assert [w.returncode for w in workers] == [0, 0], said

    (post,) = webhook.posts  # once, however many workers finished the run's jobs
    (mail,) = mailbox.mails
    assert post["path"] == "/hook" and mail["To"] == "ops@example.test"
    assert post["title"] == mail["Subject"]
    assert post["title"] == "compliance-tui: CIS Level 1 Server on tag lab: 2 worse, 0 better, 2 scan(s) failed"
    body = text_of(mail)
    assert post["message"].strip() == body.strip()
    assert f"Schedule {added['id'][:8]}: cis-level1-server on tag lab" in body
    assert "gone1: the scan did not complete:" in body and "gone2: the scan did not complete:" in body
    assert f"compliance-tui schedules runs {added['id'][:8]}" in body

    (run,) = cli.ok("schedules", "runs", added["id"][:8], "--json").json()
    assert (run["notify"], run["notify_note"]) == ("sent", "sent to hook, mail")
    assert f"run {run['slot'][:16].replace('T', ' ')} UTC: sent to hook, mail" in said
    _, jobs = await runs_and_jobs(data_dir, added["id"])
    for job in jobs:
        output = cli.ok("jobs", "show", job.id, "--json").json()["output"]
        assert f"notify: hook (json://127.0.0.1:{webhook.port}/••••) failed (try 1 of 3)" in output
        assert "trying again in 0.2 s" in output and "notify: sent to hook" in output
        assert "notify: sent to mail" in output

    assert cli("worker", "--once").returncode == 0  # the run was told of: never again
    assert len(webhook.posts) == len(mailbox.mails) == 1
    everything = said + "".join(p.read_bytes().decode("latin-1") for p in data_dir.rglob("*") if p.is_file())
    assert SECRET not in everything and f"127.0.0.1:{mailbox.port}?from" not in everything


def test_a_run_that_breaks_one_rule_and_fixes_another_names_both(alerting, fleet, known_hosts, data_dir,
                                                                   webhook, mailbox):
    cli = alerting
    etc = fleet.hosts["u2204"].root / "etc"
    modes = {name: (etc / name).stat().st_mode for name in ("issue", "motd")}
    try:
        add_fleet_host(cli, fleet, "u2204")
        (etc / "motd").chmod(0o666)  # fails before
        first = cli.ok("scan", "u2204", "--profile", "cis-level1-server", "--json").json()[0]
        (etc / "motd").chmod(0o644)  # passes now
        (etc / "issue").chmod(0o666)  # fails now
        added = schedule(cli, "--hosts", "u2204")
        asyncio.run(backdate(data_dir, added["id"], 2))
        done = cli("worker", "--once")
        assert done.returncode == 0, done.stderr
    finally:
        for name, mode in modes.items():
            (etc / name).chmod(mode)
    (post,) = webhook.posts
    (mail,) = mailbox.mails
    body = text_of(mail)
    assert post["message"].strip() == body.strip()
    assert "1 worse" in post["title"]
    assert f"{RULE}issue)" in body and f"{RULE}motd)" in body
    (worse,) = [line for line in body.splitlines() if line.startswith("u2204:")]
    assert "1 newly failing, 1 newly passing" in worse and f"(was {first['score']:.1f}%" in worse
    assert body.index("- newly failing") < body.index("+ newly passing")
    (scan,) = [s for s in cli.ok("scans", "list", "--json").json() if s["id"] != first["id"]]
    assert f"details: compliance-tui diff {first['id'][:8]} {scan['id'][:8]}" in body
    compared = cli.ok("diff", first["id"], scan["id"], "--json").json()  # the command it names says the same
    assert [c["rule_id"] for c in compared["newly_failing"]] == [f"{RULE}issue"]
    assert [c["rule_id"] for c in compared["newly_passing"]] == [f"{RULE}motd"]
    assert json.loads(cli.ok("schedules", "list", "--json").stdout)[0]["notify"] == ["mail"]


def test_notify_commands_keep_urls_off_the_command_line_and_show_them_masked(alerting, webhook):
    cli = alerting
    sent = cli.ok("notify", "test", "hook")
    assert sent.stdout.strip() == f"notify: sent to hook (json://127.0.0.1:{webhook.port}/••••)"
    assert webhook.posts[-1]["title"] == "compliance-tui: test message"
    read = cli.ok("notify", "test", "-", input=webhook.url("from-stdin") + "\n")  # a URL never in argv
    assert webhook.posts[-1]["path"] == "/from-stdin" and "from-stdin" not in read.stdout
    webhook.statuses.append(500)
    refused = cli("notify", "test", "hook")
    assert refused.returncode == 1 and refused.stderr.startswith("error: notify: hook (json://127.0.0.1:")
    assert SECRET not in refused.stderr + sent.stdout
    cli.ok("schedules", "add", "--all", "--profile", "cis-level1-server", "--daily", "02:00", "--notify", "mail,pager")
    listed = {t["name"]: t for t in cli.ok("notify", "list", "--json").json()}
    assert listed["hook"] == {"name": "hook", "url": f"json://127.0.0.1:{webhook.port}/••••",
                              "source": "COMPLIANCE_TUI_NOTIFY_HOOK", "used_by": ["[notify]"]}
    assert listed["pager"]["url"] == "not set" and listed["pager"]["used_by"][0].startswith("schedule ")
    no_keyring = cli("notify", "add", "pager", input="ntfy://alerts\n")
    assert no_keyring.returncode == 1 and "set COMPLIANCE_TUI_NOTIFY_PAGER in the environment" in no_keyring.stderr
    bad = cli("notify", "add", "pager", input="nosuch://x/y-secret\n")
    assert bad.returncode == 1 and "y-secret" not in bad.stderr and "this nosuch:// URL" in bad.stderr
    config_url = cli("notify", "list", env={"COMPLIANCE_TUI_CONFIG": str(write_config(cli, 'urls = ["json://x"]'))})
    assert config_url.returncode == 1 and "never read from a file" in config_url.stderr


def write_config(cli, line: str):
    path = cli.env["COMPLIANCE_TUI_CONFIG"] + ".other"
    with open(path, "w") as config:
        config.write(f"[notify]\n{line}\n")
    return path


async def test_a_tui_that_runs_the_schedules_itself_sends_their_alerts(alerting, data_dir, webhook, monkeypatch):
    from tests.tui.helpers import make_app

    cli = alerting
    for name in ("COMPLIANCE_TUI_CONFIG", "COMPLIANCE_TUI_NOTIFY_HOOK", "COMPLIANCE_TUI_NOTIFY_MAIL"):
        monkeypatch.setenv(name, cli.env[name])  # the app runs in this process
    cli.ok("hosts", "add", "gone1", "--address", "127.0.0.1", "--port", str(free_port()))
    added = schedule(cli, "--hosts", "gone1")
    cli.ok("schedules", "edit", added["id"], "--no-notify")  # [notify]'s webhook alone
    await backdate(data_dir, added["id"], 2)
    app = make_app(data_dir, clock=lambda: datetime.now(timezone.utc))
    async with app.run_test() as pilot:
        for _ in range(200):
            await app.schedules.run_once()
            if app.schedules.notifier is not None and not app.schedules.notifier.sending and webhook.posts:
                break
            await pilot.pause(0.1)
        assert app.schedules.enqueued == 1  # no worker seen: its jobs ran here (its own tick may be first)
    (post,) = webhook.posts
    assert "gone1: the scan did not complete" in post["message"]
    (run,) = cli.ok("schedules", "runs", added["id"], "--json").json()
    assert (run["notify"], run["notify_note"]) == ("sent", "sent to hook")
