"""Control views, OSCAL and STIG checklists of a real STIG scan of a played Ubuntu 22.04 host.

One scan serves every check (a STIG scan is the slow part): the control views must agree with
the rule results, the OSCAL document must validate against the OSCAL models of
compliance-trestle (in the test extra; the structure is checked here too) and the checklists must have the structure STIG Viewer reads.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from collections import defaultdict
from pathlib import Path

from lxml import etree, html

from core.domain.models import RuleResult
from core.results.controls import status_of
from tests.conftest import add_fleet_host

STIG = "xccdf_org.ssgproject.content_profile_stig"
CKLB_STATUS = {"NotAFinding": "not_a_finding", "Open": "open", "Not_Applicable": "not_applicable",
               "Not_Reviewed": "not_reviewed"}


def expected_status(results: list[str]) -> str:
    """A STIG id's checklist status from its XCCDF rules' results, as STIG Viewer spells it."""
    if "fail" in results:
        return "Open"
    verdicts = [r for r in results if r != "notapplicable"]
    if not verdicts:
        return "Not_Applicable"
    return "NotAFinding" if all(r in ("pass", "fixed") for r in verdicts) else "Not_Reviewed"


def stig_scan(cli, fleet) -> tuple[dict, dict[str, dict]]:
    add_fleet_host(cli, fleet, "u2204")
    (done,) = cli("scan", "u2204", "--profile", STIG, "--json").json()
    assert done["status"] == "completed", done["error_message"]
    results = {r["rule_id"]: r for r in cli.ok("results", done["id"], "--json").json()}
    return done, results


def test_a_stig_scan_by_control_as_oscal_and_as_checklists(cli, fleet, known_hosts, data_dir, tmp_path):
    done, results = stig_scan(cli, fleet)
    assert done["passed"] and done["failed"]  # real verdicts both ways

    # --by: every control's status is the one its rules' results give, and each rule is where it says
    for system in ("stigid", "nist-800-53"):
        view = cli.ok("results", done["id"][:8], "--by", system, "--json").json()
        assert view["system"] == system and view["unavailable"] is None and view["controls"]
        for control in view["controls"]:
            rules = [RuleResult(r["rule_id"], results[r["rule_id"]]["result"]) for r in control["rules"]]
            assert control["status"] == status_of(rules)
            assert control["passed"] == sum(r.result in ("pass", "fixed") for r in rules)
        mapped = {r["rule_id"] for c in view["controls"] for r in c["rules"]}
        assert mapped | set(view["unmapped_rules"]) == {rid for rid, r in results.items()
                                                        if r["result"] != "notselected"}
    stig_view = cli.ok("results", done["id"], "--by", "stigid", "--json").json()
    assert all(c["control"].startswith("UBTU-22-") and len(c["rules"]) >= 1 for c in stig_view["controls"])

    shown = cli.ok("results", done["id"], "--by", "nist", "--sort", "rule")  # the content's own name works
    assert shown.stdout.splitlines()[0].split() == ["CONTROL", "STATUS", "PASS", "FAIL", "OTHER", "RULES"]
    assert "NIST SP 800-53:" in shown.stderr and "controls" in shown.stderr
    wrong = cli("results", done["id"], "--by", "nist-800-99")
    assert wrong.returncode == 2 and "unknown reference system 'nist-800-99'" in wrong.stderr

    # the CSV export: one row per control and rule, the same statuses
    out = tmp_path / "by.csv"
    assert cli.ok("export", "results", done["id"], "--by", "cis-controls", "--format", "csv",
                  "-o", str(out)).stdout.strip() == str(out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    by_control = defaultdict(list)
    for row in rows:
        assert row["result"] == results[row["rule_id"]]["result"]
        by_control[row["control"]].append(row)
    for control, its in by_control.items():
        assert {r["status"] for r in its} == {status_of([RuleResult(r["rule_id"], r["result"]) for r in its])}

    # the HTML report's section
    report = Path(cli.ok("report", done["id"], "--by", "nist-800-53").stdout.strip())
    doc = html.fromstring(report.read_text(encoding="utf-8"))
    assert doc.xpath("string(//section[@id='controls']/h2)") == "By control: NIST SP 800-53"
    nist = cli.ok("results", done["id"], "--by", "nist-800-53", "--json").json()
    shown_rows = doc.xpath("//section[@id='controls']//tbody/tr")
    assert [(r.xpath("string(td[1])"), r.xpath("string(td[2])")) for r in shown_rows] == \
        [(c["control"], c["status"]) for c in nist["controls"]]

    check_ckl(cli, done, results, stig_view, tmp_path)
    check_cklb(cli, done, results, stig_view)
    check_oscal(cli, done, results, nist, tmp_path)  # last: its validation is skipped without the OSCAL models


def check_oscal(cli, done, results, nist, tmp_path) -> None:
    path = Path(cli.ok("export", "oscal", done["id"]).stdout.strip())
    assert path.parent.name == "exports" and path.stat().st_mode & 0o777 == 0o600
    document = json.loads(path.read_text(encoding="utf-8"))
    ar = document["assessment-results"]
    assert ar["metadata"]["oscal-version"] == "1.1.2" and ar["import-ap"]["href"].startswith("#")
    (result,) = ar["results"]
    observations = {o["uuid"]: o for o in result["observations"]}
    evaluated = {rid for rid, r in results.items() if r["result"] != "notselected"}
    assert {next(p["value"] for p in o["props"] if p["name"] == "rule-id") for o in observations.values()} == evaluated
    evidence = {r["uuid"]: r for r in ar["back-matter"]["resources"]}
    for observation in observations.values():
        rule = next(p["value"] for p in observation["props"] if p["name"] == "rule-id")
        assert next(p["value"] for p in observation["props"] if p["name"] == "result") == results[rule]["result"]
        (evidence_ref,) = observation["relevant-evidence"]
        assert evidence_ref["href"][1:] in evidence
    (arf,) = [r for r in evidence.values() if "rlinks" in r]
    assert arf["rlinks"][0]["hashes"][0]["algorithm"] == "SHA-256"
    written = tmp_path / "arf.xml"  # the ARF an assessor is given: the digest is of its bytes
    cli.ok("evidence", "export", done["id"], "--output", str(tmp_path / "bundle.json"), "--arf", str(written))
    assert hashlib.sha256(written.read_bytes()).hexdigest() == arf["rlinks"][0]["hashes"][0]["value"]
    findings = result["findings"]
    assert len(findings) == len(nist["controls"])
    for finding, control in zip(findings, nist["controls"]):
        assert finding["target"]["status"]["state"] == ("satisfied" if control["status"] == "met" else "not-satisfied")
        related = {observations[o["observation-uuid"]]["props"][0]["value"] for o in finding["related-observations"]}
        assert related == {r["rule_id"] for r in control["rules"]}
    assert any(f["target"]["target-id"] == "cm-6_smt.a" for f in findings)  # CM-6(a), as OSCAL's catalog

    other = tmp_path / "by-stig.json"
    cli.ok("export", "oscal", done["id"], "--by", "stigid", "-o", str(other))
    by_stig = json.loads(other.read_text())["assessment-results"]
    assert by_stig["results"][0]["findings"][0]["target"]["target-id"].startswith("stigid-UBTU-22-")

    from trestle.oscal.assessment_results import AssessmentResults  # the OSCAL models (test extra)

    for checked in (ar, by_stig):
        AssessmentResults.model_validate(checked)  # raises on anything OSCAL does not allow


def check_ckl(cli, done, results, stig_view, tmp_path) -> None:
    out = tmp_path / "u2204.ckl"
    cli.ok("export", "ckl", done["id"], "-o", str(out))
    root = etree.fromstring(out.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == "CHECKLIST"
    assert root.findtext("ASSET/HOST_NAME") == "u2204" and root.findtext("ASSET/HOST_IP") == "127.0.0.1"
    assert root.findtext("ASSET/ASSET_TYPE") == "Computing"
    (stig,) = root.findall("STIGS/iSTIG")
    info = {si.findtext("SID_NAME"): si.findtext("SID_DATA") for si in stig.findall("STIG_INFO/SI_DATA")}
    assert info["stigid"] == STIG and info["title"]
    vulns = stig.findall("VULN")
    controls = {c["control"]: c for c in stig_view["controls"]}
    assert [v.xpath("string(STIG_DATA[VULN_ATTRIBUTE='Rule_Ver']/ATTRIBUTE_DATA)") for v in vulns] == list(controls)
    for vuln in vulns:
        data = {}
        for item in vuln.findall("STIG_DATA"):
            data.setdefault(item.findtext("VULN_ATTRIBUTE"), item.findtext("ATTRIBUTE_DATA"))
        assert data["Vuln_Num"].startswith("V-") and data["Rule_ID"].startswith("SV-")
        assert data["Rule_ID"].endswith("_rule") and data["Rule_Ver"].startswith("UBTU-22-")
        assert data["Severity"] in ("high", "medium", "low")
        rules = data["Check_Content"].partition("XCCDF rule(s) ")[2].split()
        assert rules == [r["rule_id"] for r in controls[data["Rule_Ver"]]["rules"]]
        assert vuln.findtext("STATUS") == expected_status([results[r]["result"] for r in rules])
        details = vuln.findtext("FINDING_DETAILS").splitlines()
        assert details[1:] == [f"{r}: {results[r]['result']}" for r in rules]
        assert vuln.find("COMMENTS") is not None
    statuses = {v.findtext("STATUS") for v in vulns}
    assert {"Open", "NotAFinding"} <= statuses <= {"Open", "NotAFinding", "Not_Applicable", "Not_Reviewed"}


def check_cklb(cli, done, results, stig_view) -> None:
    path = Path(cli.ok("export", "cklb", done["id"]).stdout.strip())
    assert path.suffix == ".cklb"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["target_data"]["host_name"] == "u2204" and document["title"] and document["id"]
    (stig,) = document["stigs"]
    assert stig["size"] == len(stig["rules"]) == len(stig_view["controls"])
    for rule in stig["rules"]:
        assert rule["group_id"].startswith("V-") and rule["rule_id_src"] == rule["rule_id"] + "_rule"
        assert rule["rule_version"].startswith("UBTU-22-") and rule["stig_uuid"] == stig["uuid"]
        rules = rule["check_content"].partition("XCCDF rule(s) ")[2].split()
        assert rule["status"] == CKLB_STATUS[expected_status([results[r]["result"] for r in rules])]
        assert isinstance(rule["finding_details"], str) and isinstance(rule["comments"], str)


def test_a_cis_scan_has_no_checklist_and_an_older_stores_scan_gets_its_references(cli, fleet, known_hosts, data_dir):
    add_fleet_host(cli, fleet, "u2204")
    (done,) = cli("scan", "u2204", "--profile", "cis-level1-server", "--json").json()
    refused = cli("export", "ckl", done["id"])
    assert refused.returncode == 1 and "not a STIG profile" in refused.stderr and "Traceback" not in refused.stderr
    before = cli.ok("results", done["id"], "--by", "nist-800-53", "--json").json()

    # a store made before references were kept, the scan's evidence pruned: said, exit 1, no guess
    with sqlite3.connect(data_dir / "compliance.db") as db:
        db.execute("DELETE FROM rule_references")
        db.execute("UPDATE contents SET references_read = 0")
        (arf,) = db.execute("SELECT arf_path FROM scans WHERE id = ?", (done["id"],)).fetchone()
    db.close()
    Path(arf).unlink()
    gone = cli("results", done["id"], "--by", "nist-800-53")
    assert gone.returncode == 1 and "unavailable" in gone.stderr and "evidence is gone" in gone.stderr
    assert cli.ok("results", done["id"], "--by", "nist-800-53", "--json").json()["unavailable"]

    # a new scan of the content reads them again, for the older scan too
    (again,) = cli("scan", "u2204", "--profile", "cis-level1-server", "--json").json()
    assert again["status"] == "completed"
    assert cli.ok("results", done["id"], "--by", "nist-800-53", "--json").json() == before
