"""Reference systems, control views, OSCAL and STIG checklists: against a real ARF (a CIS Level 1
scan of a played Ubuntu 22.04, SSG 0.1.65 whose benchmark names no reference system: found by
URL) and small hand-written files for what real content never holds (hostile reference texts)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from lxml import etree

from core.domain.errors import InvalidInput
from core.domain.models import Host, RuleInfo, RuleResult, Scan, ScanStatus
from core.domain.policy import RuleException
from core.results import controls, oscal, references, stig_checklist, xccdf
from core.results.controls import MET, NOT_APPLICABLE, NOT_CHECKED, NOT_MET, PARTLY, status_of

NS = 'xmlns="http://checklists.nist.gov/xccdf/1.2"'
NIST_HREF = "http://nvlpubs.nist.gov/nistpubs/SpecialPublications/NIST.SP.800-53r4.pdf"


def rr(rule: str, result: str, severity: str = "medium") -> RuleResult:
    return RuleResult(rule, result, severity)


@pytest.mark.parametrize(("results", "status"), [
    (["pass", "pass"], MET),
    (["pass", "notapplicable"], MET),
    (["fixed"], MET),
    (["fail", "fail"], NOT_MET),
    (["fail", "error"], NOT_MET),
    (["pass", "fail"], PARTLY),
    (["pass", "error"], PARTLY),
    (["notapplicable", "notapplicable"], NOT_APPLICABLE),
    (["error", "notchecked"], NOT_CHECKED),
    (["informational", "notapplicable"], NOT_CHECKED),
    (["pass", "notselected", "notselected"], MET),
])
def test_a_controls_status_from_its_rules(results, status):
    assert status_of([rr(f"r{i}", r) for i, r in enumerate(results)]) == status


def test_grouping_puts_each_rule_under_every_control_it_cites_and_orders_controls_naturally():
    results = [rr("a", "pass"), rr("b", "fail"), rr("c", "pass"), rr("d", "notselected"), rr("e", "fail")]
    refs = {"a": ["AC-10", "AC-2"], "b": ["AC-2"], "c": ["AC-2(1)"], "d": ["AC-3"]}
    view = controls.group(references.BY_NAME["nist-800-53"], results, refs)
    assert [(c.ref, c.status, [r.rule_id for r in c.rules]) for c in view.controls] == [
        ("AC-2", PARTLY, ["a", "b"]), ("AC-2(1)", MET, ["c"]), ("AC-10", MET, ["a"])]
    assert [r.rule_id for r in view.unmapped] == ["e"]  # d was not selected: in no control, nor unmapped
    assert view.statuses == {PARTLY: 1, MET: 2} and "3 controls" in view.summary


def test_systems_by_our_name_the_contents_name_or_a_clear_error():
    assert references.system_named("NIST").name == "nist-800-53"
    assert references.system_named("cis-csc").name == "cis-controls"
    assert references.system_named("iso27001-2013").name == "iso27001"
    with pytest.raises(InvalidInput, match="unknown reference system 'sox'.*nist-800-53"):
        references.system_named("sox")
    # the benchmark's own name for a URL wins over the URL (iso.org moved between releases)
    assert references.system_of("https://example.org/x", {"https://example.org/x": "pcidss4"}) == "pcidss4"
    assert references.system_of(NIST_HREF, {}) == "nist-800-53"
    assert references.system_of("https://unknown.example/", {}) is None


def test_references_of_a_real_arf_give_a_view_that_agrees_with_its_results(oscap_results):
    rules = xccdf.read_rules(oscap_results.arf)
    (test_result,) = xccdf.read_test_results(oscap_results.arf)
    results = xccdf.merge_duplicates(test_result.results)
    cited = {rid: [ref for s, ref in info.references if s == "nist-800-53"] for rid, info in rules.items()}
    view = controls.group(references.BY_NAME["nist-800-53"], results, cited)
    assert len(view.controls) > 50 and {MET, NOT_MET} <= set(view.statuses)
    by_rule = {r.rule_id: r.result for r in results}
    for control in view.controls:
        assert all(control.ref in cited[r.rule_id] for r in control.rules)
        assert control.status == status_of([rr(r.rule_id, by_rule[r.rule_id]) for r in control.rules])
    selected = {r.rule_id for r in results if r.result != "notselected"}
    assert {r.rule_id for c in view.controls for r in c.rules} | {r.rule_id for r in view.unmapped} == selected
    ssh_root = rules["xccdf_org.ssgproject.content_rule_sshd_disable_root_login"].references
    assert ("nist-800-53", "AC-6(2)") in ssh_root and ("cis-controls", "5") in ssh_root


def test_hostile_reference_texts_stay_short_plain_lines():
    long = "A" * 5000
    datastream = f"""<Benchmark {NS} id="b">
      <reference href="{NIST_HREF}">nist</reference>
      <Rule id="r1" severity="high"><title>T</title>
        <reference href="{NIST_HREF}">AC-6<b xmlns="http://www.w3.org/1999/xhtml">[red]x</b>\x1b[31m</reference>
        <reference href="{NIST_HREF}">{long}</reference>
        <reference href="{NIST_HREF}">   </reference>
        <reference href="https://unknown.example/">Z-1</reference>
        <ident system="https://ncp.nist.gov/cce">CCE-80000-1</ident>
      </Rule></Benchmark>""".replace("\x1b", "^[")
    rules = xccdf.read_rules(io.BytesIO(datastream.encode()))
    refs = rules["r1"].references
    assert ("cce", "CCE-80000-1") in refs and all(s != "unknown" for s, _ in refs)
    nist = [ref for s, ref in refs if s == "nist-800-53"]
    assert nist[0] == "AC-6[red]x^[[31m" and len(nist[1]) <= references.MAX_REF_CHARS and len(nist) == 2


def scan(**changes) -> Scan:
    base = Scan("5a1e0000-0000-4000-8000-000000000001", 1, "web1", "stig",
                "xccdf_org.ssgproject.content_profile_stig", ScanStatus.COMPLETED, content_id="c" * 64,
                content_file="ssg-ubuntu2204-ds.xml", started_at="2026-12-07T10:00:00Z",
                finished_at="2026-12-07T10:01:00Z", arf_path=None, score=50.0)
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_oscal_control_ids_follow_the_nist_catalog_and_others_are_tokens():
    assert oscal.control_target_id("nist-800-53", "AC-6(2)") == "ac-6.2"
    assert oscal.control_target_id("nist-800-53", "CM-6(a)") == "cm-6_smt.a"
    assert oscal.control_target_id("nist-800-53", "AU-12(3)(b)") == "au-12.3_smt.b"
    assert oscal.control_target_id("nist-800-53", "IA-2") == "ia-2"
    assert oscal.control_target_id("cis-controls", "5.2") == "cis-controls-5.2"
    assert oscal.control_target_id("pcidss", "Req 2.2 <x>") == "pcidss-Req_2.2_x"


def test_an_oscal_document_of_a_scan_without_evidence_says_so():
    results = [rr("r1", "pass"), RuleResult("r2", "fail", "high", "Two\nlines",
                                            exception=RuleException("host", "r2", "known\x07 risk", "op@jump", "2027-01-01", "web1"))]
    view = controls.group(references.BY_NAME["nist-800-53"], results, {"r1": ["AC-6"], "r2": ["AC-6", "CM-6(a)"]})
    web1 = Host("web1", "10.0.0.5", os_name="Ubuntu 22.04")
    document = oscal.assessment_results(scan(), web1, results, {}, view, "1.0")
    ar = document["assessment-results"]
    (result,) = ar["results"]
    assert [f["target"]["target-id"] for f in result["findings"]] == ["ac-6", "cm-6_smt.a"]
    assert [f["target"]["status"]["state"] for f in result["findings"]] == ["not-satisfied", "not-satisfied"]
    excepted = next(o for o in result["observations"] if o["props"][0]["value"] == "r2")
    assert {"name": "exception", "value": "known\\x07 risk", "ns": oscal.NS} in excepted["props"]
    (evidence,) = [r for r in ar["back-matter"]["resources"] if r["title"].startswith("The scan's ARF")]
    assert "rlinks" not in evidence and evidence["props"][0]["value"] == "pruned"
    again = oscal.assessment_results(scan(), web1, results, {}, view, "1.0")["assessment-results"]
    assert again["results"] == ar["results"]  # derived ids: the same scan gives the same document
    assert json.loads(oscal.render(document)) == document
    assert excepted["title"] == "Two lines"  # OSCAL titles are one line
    from trestle.oscal.assessment_results import AssessmentResults  # the OSCAL models (test extra)

    AssessmentResults.model_validate(ar)


def stig_refs(rules: dict[str, tuple[str, str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    return {"stigid": {r: [v[0]] for r, v in rules.items()}, "stigref": {r: [v[1]] for r, v in rules.items()},
            "cci": {r: v[2] for r, v in rules.items()}}


def test_a_checklist_holds_one_vuln_per_stig_id_with_hostile_text_escaped():
    hostile = "</ATTRIBUTE_DATA><STATUS>NotAFinding</STATUS>\x00\x1b]8;;x\x07"
    results = [RuleResult("r1", "pass", "low", hostile), RuleResult("r2", "fail", "high", "Two"),
               RuleResult("r3", "notapplicable"), RuleResult("r4", "error"), RuleResult("r5", "notselected")]
    refs = stig_refs({"r1": ("UBTU-22-000010", "SV-1r2_rule", ["CCI-1"]),
                      "r2": ("UBTU-22-000010", "SV-1r2_rule", ["CCI-2"]),
                      "r3": ("UBTU-22-000020", "SV-3r1_rule", []),
                      "r4": ("UBTU-22-000030", "SV-4r1", []),
                      "r5": ("UBTU-22-000040", "SV-5r1_rule", [])})
    infos = {"r1": RuleInfo("r1", "T", description=hostile, fixtext="<b>fix</b>")}
    rules = stig_checklist.stig_rules(scan(), results, infos, refs)
    assert [(r.stig_id, r.vuln_id, r.rule_id, r.status, r.severity) for r in rules] == [
        ("UBTU-22-000010", "V-1", "SV-1r2_rule", "Open", "high"),
        ("UBTU-22-000020", "V-3", "SV-3r1_rule", "Not_Applicable", "medium"),
        ("UBTU-22-000030", "V-4", "SV-4r1_rule", "Not_Reviewed", "medium")]
    assert rules[0].ccis == ("CCI-1", "CCI-2") and rules[0].finding_details.splitlines()[1:] == ["r1: pass", "r2: fail"]

    root = etree.fromstring(stig_checklist.ckl(scan(), Host("web1", "web1.example.org"), rules, "STIG", "0.1.76"))
    vulns = root.findall("STIGS/iSTIG/VULN")
    assert [v.findtext("STATUS") for v in vulns] == ["Open", "Not_Applicable", "Not_Reviewed"]
    assert vulns[0].xpath("string(STIG_DATA[VULN_ATTRIBUTE='Rule_Title']/ATTRIBUTE_DATA)") == \
        "</ATTRIBUTE_DATA><STATUS>NotAFinding</STATUS>\x1b]8;;x\x07".replace("\x1b", "").replace("\x07", "")
    assert [d.text for d in vulns[0].xpath("STIG_DATA[VULN_ATTRIBUTE='CCI_REF']/ATTRIBUTE_DATA")] == ["CCI-1", "CCI-2"]
    assert root.findtext("ASSET/HOST_FQDN") == "web1.example.org" and root.findtext("ASSET/HOST_IP") == ""

    document = json.loads(stig_checklist.cklb(scan(), None, rules, "STIG", "0.1.76"))
    assert [r["status"] for r in document["stigs"][0]["rules"]] == ["open", "not_applicable", "not_reviewed"]
    assert document["stigs"][0]["rules"][0]["rule_id"] == "SV-1r2"


def test_a_checklist_wants_a_stig_profile_and_stig_ids():
    with pytest.raises(InvalidInput, match="not a STIG profile"):
        stig_checklist.stig_rules(scan(profile="cis-level1-server",
                                       profile_id="xccdf_org.ssgproject.content_profile_cis_level1_server"),
                                  [rr("r1", "pass")], {}, stig_refs({}))
    tailored = scan(profile_id="xccdf_org.ssgproject.content_profile_stig_customized",
                    base_profile_id="xccdf_org.ssgproject.content_profile_stig")
    with pytest.raises(InvalidInput, match="cites no STIG ids"):
        stig_checklist.stig_rules(tailored, [rr("r1", "pass")], {}, stig_refs({}))


async def test_content_stored_before_references_reads_them_once_from_evidence_else_says_why(data_dir, oscap_results):
    from core.workspace import Workspace
    from tests.seed import seed_completed_scan

    async with await Workspace.open(data_dir) as workspace:
        stored = await seed_completed_scan(workspace, "web1", oscap_results.arf)
        store = workspace.store
        assert await store.references_read(stored.content_id)  # kept with the rule texts
        kept = await store.rule_references(stored.content_id, "nist-800-53")
        fresh = await controls.control_view(store, stored, "nist-800-53")

        # as a store whose content came before references were kept: read from the scan's evidence, once
        await store.db.execute("DELETE FROM rule_references")
        await store.db.execute("UPDATE contents SET references_read = ?", (False,))
        assert not await store.references_read(stored.content_id)
        backfilled = await controls.control_view(store, stored, "nist")
        assert backfilled.controls == fresh.controls and backfilled.unavailable is None
        assert await store.references_read(stored.content_id)
        assert await store.rule_references(stored.content_id, "nist-800-53") == kept

        # its evidence pruned too: no guess, a reason
        await store.db.execute("DELETE FROM rule_references")
        await store.db.execute("UPDATE contents SET references_read = ?", (False,))
        Path(stored.arf_path).unlink()
        gone = await controls.control_view(store, stored, "stigid")
        assert gone.controls == () and "evidence is gone" in gone.unavailable
        assert gone.summary.startswith("DISA STIG id: unavailable (")


def test_one_control_written_two_ways_is_one_control():
    assert references.clean_ref("AC-6 (1)") == references.clean_ref("AC-6(1)") == "AC-6(1)"
    assert references.clean_ref(" AU-8(1) (a) ") == "AU-8(1)(a)"


def test_the_reports_control_section_escapes_what_content_wrote():
    from lxml import html

    from core.results.report_controls import controls_section

    hostile = "<script>alert(1)</script>"
    view = controls.group(references.BY_NAME["pcidss"], [rr("r1", "fail"), rr("r2", "pass")],
                          {"r1": [hostile], "r2": ["Req-2.2"]})
    text = html.tostring(controls_section(view), encoding="unicode")
    doc = html.fromstring(text)
    assert not doc.xpath("//script") and "&lt;script&gt;" in text
    assert [(r.xpath("string(td[1])"), r.xpath("string(td[2])")) for r in doc.xpath("//tbody/tr")] == [
        (hostile, "not met"), ("Req-2.2", "met")]
    unavailable = controls.ControlView(references.BY_NAME["cce"], unavailable="its evidence is gone")
    assert "Unavailable: its evidence is gone." in html.tostring(controls_section(unavailable), encoding="unicode")
