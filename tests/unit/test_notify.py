"""Drift alerts without a store: the [notify] table, target names and where their URLs come
from, what is shown of a URL, what a failed try may say, and the digest's text."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from core.domain.errors import InvalidInput
from core.domain.models import Job, JobStatus, Scan, ScanStatus
from core.domain.notify_settings import NotifySettings, notify_settings
from core.domain.policy import RuleException, Schedule
from core.notify import targets
from core.notify.digest import RULES_SHOWN, digest
from core.notify.drift import HostDrift, RunDrift
from core.notify.send import scrub
from core.views.compare import Change
from tests.ai.helpers import MemoryKeyring

URL = "mailtos://ops:hunter2-pass@smtp.example.test:587/?to=sec%40example.test&token=t0ken-value"


def test_the_notify_table_is_checked_and_never_takes_a_url():
    read = notify_settings({"targets": ["ops", "mail", "ops"], "score_drop": 2, "score_floor": 80,
                            "heartbeat": True, "attempts": 2, "backoff": 1.5}, "config.toml")
    assert read == NotifySettings(("ops", "mail"), 2.0, 80.0, True, 2, 1.5)
    assert notify_settings({}, "f") == NotifySettings()
    with pytest.raises(InvalidInput, match="never read from a file") as refused:
        notify_settings({"urls": [URL]}, "config.toml")
    assert "hunter2" not in str(refused.value)
    for bad, words in (({"targets": "ops"}, "list of target names"), ({"targets": ["Ops!"]}, "not a target name"),
                       ({"attempts": 0}, "whole number from 1 to 10"), ({"attempts": 2.5}, "whole number"),
                       ({"score_drop": "5"}, "number from 0 to 100"), ({"heartbeat": "yes"}, "true or false"),
                       ({"color": 1}, "unknown setting notify.color")):
        with pytest.raises(InvalidInput, match=words):
            notify_settings(bad, "f")


def test_a_url_shows_its_scheme_and_host_only():
    assert targets.masked(URL) == "mailtos://smtp.example.test:587/••••"
    assert targets.masked("json://127.0.0.1:8080/hook/path?x=1") == "json://127.0.0.1:8080/••••"
    assert targets.masked("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnl") == "slack://t1jj3t3l2/••••"
    assert targets.masked("http://[bad") == "••••"
    found = targets.Target("ops", URL, "keyring")
    assert "hunter2" not in repr(found) and "t0ken" not in str(found)


def test_a_failed_try_says_nothing_secret():
    said = f"Failed to send to {URL} as ops with hunter2-pass (t0ken-value)\n\x1b[31mred"
    assert scrub(said, URL).count("hunter2") == 0 and "t0ken" not in scrub(said, URL)
    assert "\x1b" not in scrub(said, URL) and "\n" not in scrub(said, URL)


def test_urls_come_from_the_environment_first_then_the_keyring(monkeypatch):
    monkeypatch.setenv("COMPLIANCE_TUI_NOTIFY_OPS", "json://127.0.0.1:1/env")
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        assert targets.store("ops", " json://127.0.0.1:1/kept \n") == "MemoryKeyring"
        assert targets.store("mail", "mailto://127.0.0.1:25?from=ct@example.test&to=a@example.test")
        assert targets.find("ops") == targets.Target("ops", "json://127.0.0.1:1/env", "COMPLIANCE_TUI_NOTIFY_OPS")
        assert targets.find("mail").source == "keyring"
        assert memory.items[("compliance-tui", "notify:ops")] == "json://127.0.0.1:1/kept"
        assert targets.delete("mail") and not targets.delete("mail")
        assert targets.find("mail") == targets.Target("mail", None, "none")
        assert targets.names_in_environment() == ["ops"]
        with pytest.raises(InvalidInput, match="Apprise cannot use this nosuch:// URL"):
            targets.store("ops", "nosuch://x")
        with pytest.raises(InvalidInput, match="one line"):
            targets.store("ops", "json://a\njson://b")
    finally:
        keyring.set_keyring(fail.Keyring())
    with pytest.raises(InvalidInput, match="COMPLIANCE_TUI_NOTIFY_OPS in the environment"):
        targets.store("ops", "json://127.0.0.1:1/x")


def job(host: str, status: JobStatus = JobStatus.COMPLETED) -> Job:
    return Job(f"{host}-job-0000", "scan", 1, host, {"profile": "cis-level1-server"}, status=status)


def scan(host: str, score: float, scan_id: str) -> Scan:
    return Scan(scan_id, 1, host, "cis-level1-server", None, ScanStatus.COMPLETED, score=score)


def change(rule: str, severity: str = "medium", title: str = "A rule") -> Change:
    return Change(f"xccdf_org.ssgproject.content_rule_{rule}", title, severity, "pass", "fail")


def host_drift(host: str, before: float | None, after: float, failing=(), passing=()) -> HostDrift:
    return HostDrift(host, job(host), scan(host, after, f"{host}-new-1234"),
                     scan(host, before, f"{host}-old-5678") if before is not None else None,
                     list(failing), list(passing))


SCHEDULE = Schedule("tag", ("web",), "cis-level1-server", "daily 02:00", "UTC", id="0123456789abcdef")
SLOT = "2026-12-07T02:00:00.000000Z"


def test_a_run_where_nothing_changed_is_quiet():
    told = digest(RunDrift(SCHEDULE, SLOT, [host_drift("web1", 90.0, 90.0), host_drift("web2", None, 80.0)], []),
                  NotifySettings())
    assert not told.worth_telling
    assert told.title == "compliance-tui: CIS Level 1 Server on tag web: no changes"
    assert "No change: web1, web2" in told.body


def test_the_digest_puts_the_worst_first_and_bounds_what_it_lists():
    many = [change(f"rule_{i:02d}", "low") for i in range(RULES_SHOWN + 3)]
    hosts = [
        host_drift("better", 80.0, 82.0, passing=[change("fixed_one")]),
        host_drift("low-only", 90.0, 89.0, failing=many),
        host_drift("high", 90.0, 85.0, failing=[change("root_login", "high", "Disable root login")]),
        HostDrift("gone", job("gone", JobStatus.FAILED), failed="gone is unreachable\x1b[2J: refused",
                  overdue_since=""),
        host_drift("dropped", 90.0, 80.0),
        host_drift("calm", 90.0, 90.0),
    ]
    expiring = [(RuleException("tag", "xccdf_org.ssgproject.content_rule_root_login", "vendor", "alice",
                               "2026-12-10", tag="web", id="feedc0de-0000"), ["high"])]
    told = digest(RunDrift(SCHEDULE, SLOT, hosts, expiring), NotifySettings(score_drop=5.0))
    assert told.worth_telling
    assert told.title == ("compliance-tui: CIS Level 1 Server on tag web: 4 worse, 1 better, 1 scan(s) failed, "
                          "1 overdue, 1 exception(s) expiring within 7 days")
    heads = [line.split(":")[0] for line in told.body.splitlines() if line and not line.startswith((" ", "Run", "Sch"))]
    assert heads[:5] == ["gone", "high", "low-only", "dropped", "better"]
    # an escape sequence a target sent reaches nobody's terminal or mail reader as one
    assert "gone: the scan did not complete: gone is unreachable\\x1b[2J: refused" in told.body
    assert "\x1b" not in told.body + told.title
    assert "  overdue: no completed scan since ever" in told.body
    assert "high: score 85.0% (was 90.0%, -5.0): 1 newly failing, dropped 5 points or more" in told.body
    assert "  - newly failing [high] Disable root login (xccdf_org.ssgproject.content_rule_root_login)" in told.body
    assert "    and 3 more newly failing" in told.body
    assert told.body.count("newly failing [low]") == RULES_SHOWN
    assert "details: compliance-tui diff high-old high-new" in told.body
    assert "No change: calm" in told.body
    assert "  2026-12-10: xccdf_org.ssgproject.content_rule_root_login on high (exception feedc0de" in told.body
    assert told.body.endswith("Every run: compliance-tui schedules runs 01234567\n")


def test_a_score_below_the_floor_is_worth_telling():
    low = host_drift("web1", 60.0, 60.0)
    assert not digest(RunDrift(SCHEDULE, SLOT, [low], []), NotifySettings()).worth_telling
    told = digest(RunDrift(SCHEDULE, SLOT, [low], []), NotifySettings(score_floor=70.0))
    assert told.worth_telling and "web1: score 60.0% (was 60.0%, +0.0): below the floor of 70%" in told.body
