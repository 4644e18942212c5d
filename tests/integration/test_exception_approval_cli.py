"""Exceptions with approval through the real CLI (issue 27): a request changes no score; the
requester cannot approve it; another person's approval does; revoked and expired ones count
again; a single operator's installation switches the two-person rule off in the config."""

from __future__ import annotations

import asyncio
import socket

import pytest

from core import paths
from core.domain.models import Host, RuleResult
from core.domain.policy import RuleException
from core.store.base import NewScanJob
from core.store.sqlite import SqliteStore

R = "xccdf_org.ssgproject.content_rule_"
RULE = "sshd_disable_root_login"
ME, FAR = "t:1:me", "2999-01-01T00:00:00.000000Z"
ALICE, BOB = {"LOGNAME": "alice"}, {"LOGNAME": "bob"}  # who the OS says runs the command
HOST = socket.gethostname()


async def seed(data_dir, *exceptions: RuleException) -> str:
    """web1 with one completed scan: 2 pass, RULE and one other rule fail (score 50.0)."""
    data_dir.mkdir(mode=0o700, exist_ok=True)
    store = await SqliteStore.open(paths.database(data_dir))
    try:
        web = await store.add_host(Host(name="web1", address="10.0.0.1", tags=("web",)))
        (job,) = await store.create_scan_jobs([NewScanJob(web, "cis-level1-server", {}, 5)], ME, FAR)
        await store.claim_job(ME, FAR, False)
        results = [RuleResult(R + RULE, "fail", "high", "root login"), RuleResult(R + "other", "fail", "low", "o"),
                   RuleResult(R + "p1", "pass", "low", "p1"), RuleResult(R + "p2", "pass", "low", "p2")]
        await store.complete_scan(job.scan_id, results, {"fail": 2, "pass": 2}, 50.0, None, None, job_id=job.id)
        for exc in exceptions:
            await store.add_exception(exc)
        return job.scan_id
    finally:
        await store.close()


@pytest.fixture
def scanned(cli, data_dir, tmp_path):
    cli.env["COMPLIANCE_TUI_CONFIG"] = str(tmp_path / "config.toml")  # none yet: the defaults
    return asyncio.run(seed(data_dir))


def score(cli) -> float:
    (scan,) = cli.ok("scans", "list", "--json").json()
    return scan["score"]


def excepted(cli, scan_id: str) -> dict | None:
    rows = {r["rule_id"]: r for r in cli.ok("results", scan_id, "--json").json()}
    return rows[R + RULE]["exception"]


def request(cli, *extra: str, env=ALICE, command="request"):
    return cli("exceptions", command, "--host", "web1", "--rule", RULE, "--reason", "jump host needs it",
               "--expires", "2099-12-31", *extra, env=env)


def test_a_request_changes_the_score_only_once_another_person_approves_it(cli, scanned):
    asked = request(cli, "--json")
    assert asked.returncode == 0, asked.stderr
    exc = asked.json()
    assert (exc["status"], exc["state"], exc["requested_by"], exc["accepted_by"]) == (
        "pending", "pending", f"alice@{HOST}", None)
    assert score(cli) == 50.0 and excepted(cli, scanned) is None  # pending: nothing changes

    listed = cli.ok("exceptions", "list", "--pending").stdout
    assert exc["id"][:8] in listed and "pending" in listed and f"alice@{HOST}" in listed

    own = cli("exceptions", "approve", exc["id"][:8], env=ALICE)
    assert own.returncode == 1 and own.stdout == ""
    assert own.stderr.strip().count("\n") == 0 and "two-person rule needs someone else" in own.stderr
    assert "Traceback" not in own.stderr
    assert cli("exceptions", "reject", exc["id"][:8], env=ALICE).returncode == 1
    assert score(cli) == 50.0

    approved = cli.ok("exceptions", "approve", exc["id"][:8], "--note", "until the upgrade", env=BOB)
    assert f"approved by bob@{HOST}" in approved.stdout
    assert score(cli) == 66.7  # 2 pass of 3 counted
    shown = excepted(cli, scanned)
    assert shown["accepted_by"] == f"bob@{HOST}" and shown["reason"] == "jump host needs it"
    (listed_json,) = cli.ok("exceptions", "list", "--json").json()
    assert (listed_json["status"], listed_json["state"], listed_json["decided_by"], listed_json["decision_note"]) == (
        "approved", "in force", f"bob@{HOST}", "until the upgrade")
    assert cli.ok("exceptions", "list", "--pending", "--json").json() == []

    again = cli("exceptions", "approve", exc["id"][:8], env=BOB)
    assert again.returncode == 1 and "is approved, not pending" in again.stderr

    revoked = cli.ok("exceptions", "revoke", exc["id"][:8], "--note", "upgraded", env=ALICE)
    assert "revoked" in revoked.stdout and "counts as failing again" in revoked.stdout
    assert score(cli) == 50.0 and excepted(cli, scanned) is None

    logged = cli.ok("audit", "log", "--action", "exception", "--json").json()[::-1]  # oldest first
    assert [(e["action"], e["actor"], e["details"]["status"]) for e in logged] == [
        ("exception.added", f"alice@{HOST}", "pending"), ("exception.approved", f"bob@{HOST}", "approved"),
        ("exception.revoked", f"alice@{HOST}", "revoked")]  # refusals change nothing: not logged
    assert logged[1]["details"]["note"] == "until the upgrade" and {e["subject"] for e in logged} == {exc["id"]}


def test_a_rejected_request_never_counts(cli, scanned):
    exc = request(cli, "--json").json()
    rejected = cli.ok("exceptions", "reject", exc["id"], "--note", "fix it instead", "--json", env=BOB).json()
    assert (rejected["status"], rejected["decided_by"], rejected["decision_note"]) == (
        "rejected", f"bob@{HOST}", "fix it instead")
    assert score(cli) == 50.0
    assert cli("exceptions", "approve", exc["id"], env=BOB).returncode == 1  # decided once
    assert cli("exceptions", "revoke", exc["id"], env=BOB).returncode == 1
    assert cli("exceptions", "export", exc["id"]).returncode == 1  # no tailoring without an approval


def test_add_is_a_request_under_the_two_person_rule_and_applies_at_once_without_it(cli, scanned, tmp_path):
    added = request(cli, command="add")
    assert added.returncode == 0 and "pending" in added.stdout and "someone else approves it" in added.stdout
    assert score(cli) == 50.0

    (tmp_path / "config.toml").write_text("[exceptions]\ntwo_person = false\n")
    alone = request(cli, "--json", command="add").json()
    assert (alone["status"], alone["decided_by"]) == ("approved", f"alice@{HOST}")
    assert score(cli) == 66.7
    # the earlier request: its own requester may approve it once the rule is off
    pending = cli.ok("exceptions", "list", "--pending", "--json").json()
    assert cli.ok("exceptions", "approve", pending[0]["id"], env=ALICE).returncode == 0

    (tmp_path / "config.toml").write_text("[exceptions]\ntwo_person = \"no\"\n")
    wrong = cli("exceptions", "list")
    assert wrong.returncode == 1 and "exceptions.two_person must be true or false" in wrong.stderr


def test_an_expired_exception_counts_as_failing_again(cli, data_dir, tmp_path):
    cli.env["COMPLIANCE_TUI_CONFIG"] = str(tmp_path / "config.toml")
    scan_id = asyncio.run(seed(
        data_dir,
        RuleException("host", R + RULE, "was fine", f"alice@{HOST}", "2020-01-31", host="web1",
                      status="approved", decided_by=f"bob@{HOST}"),
        RuleException("all", R + "other", "too late", f"alice@{HOST}", "2020-01-31")))
    assert score(cli) == 50.0 and excepted(cli, scan_id) is None
    states = {e["rule_id"]: e["state"] for e in cli.ok("exceptions", "list", "--json").json()}
    assert states == {R + RULE: "expired", R + "other": "pending"}
    late = cli.ok("exceptions", "list", "--pending", "--json").json()[0]["id"]
    refused = cli("exceptions", "approve", late, env=BOB)
    assert refused.returncode == 1 and "expired on 2020-01-31 before anyone approved it" in refused.stderr
