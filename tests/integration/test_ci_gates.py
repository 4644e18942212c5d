"""This week's scan against last week's on a real played host: a change to its /etc makes a
rule newly fail; `diff` shows it; the CI gates (JUnit, SARIF 2.1.0, --fail-on-new) catch it,
validated against the real schemas; a documented exception then makes the score, the report,
the gates and an exported tailoring honour it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from core.content.tailoring import read_tailoring
from tests.conftest import add_fleet_host

SCHEMAS = Path(__file__).parent.parent / "fixtures" / "schemas"
XCCDF_XSD = Path("/usr/share/openscap/schemas/xccdf/1.2/xccdf_1.2.xsd")
RULE = "xccdf_org.ssgproject.content_rule_file_permissions_etc_issue"
L1 = "cis-level1-server"
BASE = "xccdf_org.ssgproject.content_profile_cis_level1_server"


def junit_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "junit-10.xsd")))


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((SCHEMAS / "sarif-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def loose_issue(fleet):
    """/etc/issue world-writable on the played host: CIS wants 0644 at most."""
    issue = fleet.hosts["u2204"].root / "etc" / "issue"
    mode = issue.stat().st_mode
    yield issue
    issue.chmod(mode)


def scan(cli, *extra, code: int = 0) -> tuple[dict, object]:
    done = cli("scan", "u2204", "--profile", L1, "--json", *extra)
    assert done.returncode == code, done.stderr
    (found,) = done.json()
    assert found["status"] == "completed", found["error_message"]
    return found, done


def test_a_newly_failing_rule_is_compared_gated_and_excepted(cli, fleet, known_hosts, loose_issue, tmp_path):
    add_fleet_host(cli, fleet, "u2204")
    cli.ok("hosts", "tag", "u2204", "web", "prod")
    first, done = scan(cli, "--fail-on-new")
    assert "no previous completed scan" in done.stderr  # nothing to compare with: not a failure

    loose_issue.chmod(0o666)
    junit, sarif = tmp_path / "junit.xml", tmp_path / "rules.sarif"
    second, done = scan(cli, "--fail-on-new", "--junit", str(junit), "--sarif", str(sarif), code=3)
    assert f"newly failing since {first['id'][:8]}: {RULE}" in done.stderr
    assert done.stderr.count("newly failing since") == 1  # old failures are not news

    # diff: the one rule newly failing, nothing else moved
    compared = cli.ok("diff", first["id"], second["id"], "--json").json()
    assert [c["rule_id"] for c in compared["newly_failing"]] == [RULE]
    assert compared["newly_failing"][0]["before"] == "pass" and compared["newly_passing"] == []
    assert compared["added"] == compared["removed"] == [] and compared["same_content"]
    assert len(compared["still_failing"]) == first["failed"] + first["error"] + first["unknown"]
    assert cli.ok("diff", second["id"][:8], "--json").json()["older"]["id"] == first["id"]  # with the previous
    assert "1 newly failing" in cli.ok("diff", second["id"], first["id"]).stdout  # any order

    # JUnit: valid against the schema CI servers read; one test case per evaluated rule
    tree = etree.parse(str(junit))
    junit_schema().assertValid(tree)
    suite = tree.getroot().find("testsuite")
    assert int(suite.get("tests")) == second["total"]
    assert int(suite.get("failures")) == second["failed"] + second["error"] + second["unknown"]
    assert int(suite.get("skipped")) == second["notapplicable"] + second["notchecked"] + second["informational"]
    case = suite.find(f"testcase[@name='{RULE}']")
    assert case.find("failure") is not None and case.get("classname") == "u2204"

    # SARIF 2.1.0: valid; one result per rule that did not pass, severity as the level, the rule's text
    log = json.loads(sarif.read_text())
    sarif_validator().validate(log)
    (run,) = log["runs"]
    assert len(run["results"]) == second["failed"] + second["error"] + second["unknown"]
    mine = next(r for r in run["results"] if r["ruleId"] == RULE)
    rule = run["tool"]["driver"]["rules"][mine["ruleIndex"]]
    assert mine["level"] == "warning" and rule["properties"]["severity"] == "medium"
    assert rule["shortDescription"]["text"] == "Verify permissions on System Login Banner"
    assert "/etc/issue" in rule["fullDescription"]["text"]

    # a documented exception for the tag: score, gates and the report honour it
    expires = (date.today() + timedelta(days=30)).isoformat()
    asked = cli.ok("exceptions", "add", "--tag", "web", "--rule", "file_permissions_etc_issue", "--reason",
                   "kiosk banner is rewritten by the signage agent", "--expires", expires, "--json").json()
    assert asked["rule_id"] == RULE and asked["status"] == "pending" and not asked["expired"]
    shown = next(s for s in cli.ok("scans", "list", "--json").json() if s["id"] == second["id"])
    assert shown["excepted"] == 0 and shown["score"] == second["score"]  # a request changes nothing yet
    added = cli.ok("exceptions", "approve", asked["id"], "--json", env={"LOGNAME": "reviewer"}).json()
    assert added["status"] == "approved" and added["accepted_by"].startswith("reviewer@")
    shown = next(s for s in cli.ok("scans", "list", "--json").json() if s["id"] == second["id"])
    assert shown["excepted"] == 1 and shown["score_before_exceptions"] == second["score"]
    assert shown["score"] > second["score"]
    third, done = scan(cli, "--fail-on-new", "--junit", str(junit), "--sarif", str(sarif))
    assert "newly failing" not in done.stderr and third["excepted"] == 1
    junit_schema().assertValid(etree.parse(str(junit)))
    skipped = etree.parse(str(junit)).getroot().find(f"testsuite/testcase[@name='{RULE}']/skipped")
    assert skipped.get("type") == "excepted" and "signage agent" in skipped.get("message")
    log = json.loads(sarif.read_text())
    sarif_validator().validate(log)
    suppressed = next(r for r in log["runs"][0]["results"] if r["ruleId"] == RULE)
    assert suppressed["suppressions"][0]["status"] == "accepted"
    results = {r["rule_id"]: r for r in cli.ok("results", third["id"], "--json").json()}
    assert results[RULE]["exception"]["reason"].startswith("kiosk banner")
    report = Path(cli.ok("report", third["id"], "-o", str(tmp_path / "r.html")).stdout.strip()).read_text()
    assert "Exceptions (1 excepted, 0 expired)" in report and "Failed (excepted)" in report
    assert "1 failed rules are excepted" in report and f"{third['score']:.1f}%" in report

    # exported as an XCCDF tailoring: valid XCCDF 1.2 that switches the rule off, and oscap runs it
    path = Path(cli.ok("exceptions", "export", added["id"][:8], "-o", str(tmp_path / "exc.xml")).stdout.strip())
    if XCCDF_XSD.is_file():
        etree.XMLSchema(etree.parse(str(XCCDF_XSD))).assertValid(etree.parse(str(path)))
    tailoring = read_tailoring(path)
    assert list(tailoring.profiles.values()) == [BASE]
    cli.ok("exceptions", "remove", added["id"])
    tailored, _ = scan(cli, "--tailoring", str(path))
    assert RULE not in {r["rule_id"] for r in cli.ok("results", tailored["id"], "--json").json()}
    assert tailored["total"] == third["total"] - 1
