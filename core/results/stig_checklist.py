"""STIG checklists of a STIG-profile scan: CKL (STIG Viewer 2's XML) and CKLB (STIG Viewer 3's JSON).

A checklist lists each STIG rule the scan evaluated: its vulnerability id (V-), rule id (SV-),
STIG id (UBTU-22-...), CCIs, texts, and a status from the XCCDF result. SSG content cites these
as references of the rule (stigid, stigref, disa); a rule without a STIG id is not a STIG rule
and is left out. The asset section holds what the store knows of the host.

CKL is written with lxml (every text escaped, characters XML cannot hold dropped), CKLB with
json; both through core.files (private, whole or not at all).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from lxml import etree

from core.domain.errors import InvalidInput
from core.domain.models import Host, RuleInfo, RuleResult, Scan
from core.domain.text import json_safe
from core.results.controls import MET, NOT_APPLICABLE, group, status_of
from core.results.references import BY_NAME

CKLB_STATUS = {"NotAFinding": "not_a_finding", "Open": "open", "Not_Applicable": "not_applicable",
               "Not_Reviewed": "not_reviewed"}
SEVERITIES = ("high", "medium", "low")  # STIG's CAT I, II, III
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SV = re.compile(r"^SV-(\d+)(r\d+)?(_rule)?$")
STIG_EXAMPLE = "xccdf_org.ssgproject.content_profile_stig"
_NAMESPACE = uuid.UUID("0b7b9a43-77f1-4d0f-8f6c-0e4f8f1e4b2a")


@dataclass(frozen=True)
class StigRule:
    """One STIG requirement (a VULN): the XCCDF rules that check it, with one status."""

    vuln_id: str  # V-260582 (the group id)
    rule_id: str  # SV-260582r958944_rule
    stig_id: str  # UBTU-22-... (Rule_Ver)
    status: str  # CKL spelling: Open, NotAFinding, Not_Applicable, Not_Reviewed
    severity: str
    title: str
    discussion: str
    fix_text: str
    ccis: tuple[str, ...]
    xccdf_rules: tuple[str, ...]
    finding_details: str
    comments: str


def ckl_status(results: list[RuleResult] | tuple[RuleResult, ...]) -> str:
    """A STIG id checked by several XCCDF rules is open when any fails, not a finding when every
    rule with a verdict passes, not applicable when none applies, and not reviewed otherwise."""
    status = status_of(results)
    if status == MET:
        return "NotAFinding"
    if status == NOT_APPLICABLE:
        return "Not_Applicable"
    return "Open" if any(r.result == "fail" for r in results) else "Not_Reviewed"


def stig_rules(scan: Scan, results: list[RuleResult], infos: dict[str, RuleInfo],
               refs: dict[str, dict[str, list[str]]]) -> list[StigRule]:
    """The scan's STIG requirements (refs: system -> rule id -> ids, for stigid, stigref and cci),
    one per STIG id, in STIG id order: the control view by stigid, with the STIG's own ids."""
    if not is_stig_profile(scan):
        raise InvalidInput(f"scan {scan.short_id} is of {scan.profile_id or scan.profile}, not a STIG profile: "
                           "checklists are written for scans of a STIG profile (e.g. " + STIG_EXAMPLE + "); its "
                           "rules' STIG ids are in `results --by stigid`")
    view = group(BY_NAME["stigid"], results, refs["stigid"])
    if not view.controls:
        raise InvalidInput(f"scan {scan.short_id} ({scan.profile_id or scan.profile}) cites no STIG ids: "
                           "its content names none for the rules it evaluated")
    return [_requirement(scan, control.ref, control.rules, infos, refs) for control in view.controls]


def _requirement(scan: Scan, stig_id: str, rules: tuple[RuleResult, ...], infos: dict[str, RuleInfo],
                 refs: dict[str, dict[str, list[str]]]) -> StigRule:
    first = rules[0]
    info = infos.get(first.rule_id) or RuleInfo(first.rule_id)
    sv = next((r for rule in rules for r in refs["stigref"].get(rule.rule_id, []) if _SV.match(r)), "")
    number = _SV.match(sv).group(1) if sv else ""  # type: ignore[union-attr]  # matched just above
    severities = [r.severity for r in rules if r.severity in SEVERITIES]
    ccis = {cci: None for rule in rules for cci in refs["cci"].get(rule.rule_id, [])}
    excepted = [r for r in rules if r.exception is not None]
    return StigRule(
        vuln_id=f"V-{number}" if number else stig_id,
        rule_id=sv if not sv or sv.endswith("_rule") else f"{sv}_rule",
        stig_id=stig_id, status=ckl_status(rules),
        severity=min(severities, key=SEVERITIES.index) if severities else "medium",
        title=first.title or info.title or first.rule_id, discussion=info.description, fix_text=info.fixtext,
        ccis=tuple(ccis), xccdf_rules=tuple(r.rule_id for r in rules),
        finding_details=_details(scan, rules),
        comments="\n".join(f"{r.rule_id}: accepted by exception: {r.exception.reason}"  # type: ignore[union-attr]
                           for r in excepted),
    )


def is_stig_profile(scan: Scan) -> bool:
    """SSG names its STIG profiles stig, stig_gui...; a tailoring counts by the profile it extends."""
    return any("stig" in (profile or "").rpartition("_profile_")[2].lower()
               for profile in (scan.profile_id, scan.base_profile_id, scan.profile))


def _details(scan: Scan, rules: tuple[RuleResult, ...]) -> str:
    when = f", finished {scan.finished_at}" if scan.finished_at else ""
    lines = [f"OpenSCAP scan {scan.id}{when}:"]
    lines += [f"{r.rule_id}: {r.result}" for r in rules]
    return "\n".join(lines)


def check_content(rule: StigRule) -> str:
    return "Checked by OpenSCAP: XCCDF rule(s) " + " ".join(rule.xccdf_rules)


def _xml(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


# --------------------------------------------------------------------------- CKL

_VULN_ATTRIBUTES = ("Vuln_Num", "Severity", "Group_Title", "Rule_ID", "Rule_Ver", "Rule_Title", "Vuln_Discuss",
                    "IA_Controls", "Check_Content", "Fix_Text", "False_Positives", "False_Negatives",
                    "Documentable", "Mitigations", "Potential_Impact", "Third_Party_Tools",
                    "Mitigation_Control", "Responsibility", "Security_Override_Guidance", "Check_Content_Ref",
                    "Weight", "Class", "STIGRef", "TargetKey", "STIG_UUID")


def ckl(scan: Scan, host: Host | None, rules: list[StigRule], stig_title: str, version: str) -> bytes:
    root = etree.Element("CHECKLIST")
    root.append(etree.Comment(" compliance-tui: STIG checklist of an OpenSCAP scan "))
    asset = etree.SubElement(root, "ASSET")
    facts = asset_facts(scan, host)
    for tag, value in (("ROLE", "None"), ("ASSET_TYPE", "Computing"), ("MARKING", "CUI"),
                       ("HOST_NAME", facts["host_name"]), ("HOST_IP", facts["ip"]), ("HOST_MAC", ""),
                       ("HOST_FQDN", facts["fqdn"]), ("TARGET_COMMENT", facts["comment"]), ("TECH_AREA", ""),
                       ("TARGET_KEY", ""), ("WEB_OR_DATABASE", "false"), ("WEB_DB_SITE", ""),
                       ("WEB_DB_INSTANCE", "")):
        etree.SubElement(asset, tag).text = _xml(value)
    stig = etree.SubElement(etree.SubElement(root, "STIGS"), "iSTIG")
    info = etree.SubElement(stig, "STIG_INFO")
    stig_uuid = str(uuid.uuid5(_NAMESPACE, f"{scan.id}/stig"))
    for name, value in (("version", version), ("classification", "UNCLASSIFIED"), ("customname", ""),
                        ("stigid", scan.profile_id or scan.profile), ("description", stig_title),
                        ("filename", scan.content_file or ""), ("releaseinfo", f"content {version}"),
                        ("title", stig_title), ("uuid", stig_uuid), ("notice", ""),
                        ("source", scan.content_file or "")):
        si = etree.SubElement(info, "SI_DATA")
        etree.SubElement(si, "SID_NAME").text = name
        if value:
            etree.SubElement(si, "SID_DATA").text = _xml(value)
    for rule in rules:
        _vuln(stig, rule, stig_title, stig_uuid)
    written: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return written


def _vuln(stig: etree._Element, rule: StigRule, stig_title: str, stig_uuid: str) -> None:
    vuln = etree.SubElement(stig, "VULN")
    values = {"Vuln_Num": rule.vuln_id, "Severity": rule.severity, "Group_Title": rule.stig_id,
              "Rule_ID": rule.rule_id, "Rule_Ver": rule.stig_id, "Rule_Title": rule.title,
              "Vuln_Discuss": rule.discussion, "Check_Content": check_content(rule),
              "Fix_Text": rule.fix_text, "Documentable": "false", "Weight": "10.0", "Class": "Unclass",
              "STIGRef": stig_title, "STIG_UUID": stig_uuid}
    for attribute in _VULN_ATTRIBUTES:
        _stig_data(vuln, attribute, values.get(attribute, ""))
    for cci in rule.ccis:
        _stig_data(vuln, "CCI_REF", cci)
    for tag, value in (("STATUS", rule.status), ("FINDING_DETAILS", rule.finding_details),
                       ("COMMENTS", rule.comments), ("SEVERITY_OVERRIDE", ""), ("SEVERITY_JUSTIFICATION", "")):
        etree.SubElement(vuln, tag).text = _xml(value)


def _stig_data(vuln: etree._Element, attribute: str, value: str) -> None:
    data = etree.SubElement(vuln, "STIG_DATA")
    etree.SubElement(data, "VULN_ATTRIBUTE").text = attribute
    etree.SubElement(data, "ATTRIBUTE_DATA").text = _xml(value)


# --------------------------------------------------------------------------- CKLB

def cklb(scan: Scan, host: Host | None, rules: list[StigRule], stig_title: str, version: str) -> str:
    stig_uuid = str(uuid.uuid5(_NAMESPACE, f"{scan.id}/stig"))
    facts = asset_facts(scan, host)
    document = {
        "title": f"{scan.host_name} - {stig_title}",
        "id": str(uuid.uuid5(_NAMESPACE, f"{scan.id}/checklist")),
        "active": False,
        "mode": 1,
        "has_path": False,
        "target_data": {
            "target_type": "Computing", "host_name": facts["host_name"], "ip_address": facts["ip"],
            "mac_address": "", "fqdn": facts["fqdn"], "comments": facts["comment"], "role": "None",
            "is_web_database": False, "technology_area": "", "web_db_site": "", "web_db_instance": "",
        },
        "stigs": [{
            "stig_name": stig_title, "display_name": stig_title, "stig_id": scan.profile_id or scan.profile,
            "release_info": f"content {version}", "version": version, "uuid": stig_uuid,
            "reference_identifier": "", "size": len(rules),
            "rules": [_cklb_rule(rule, stig_uuid) for rule in rules],
        }],
        "cklb_version": "1.0",
    }
    return json_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _cklb_rule(rule: StigRule, stig_uuid: str) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{stig_uuid}/{rule.stig_id}")),
        "stig_uuid": stig_uuid, "target_key": None, "stig_ref": None,
        "group_id": rule.vuln_id, "group_id_src": rule.vuln_id, "group_title": rule.stig_id,
        "group_tree": [{"id": rule.vuln_id, "title": rule.stig_id,
                        "description": "<GroupDescription></GroupDescription>"}],
        "rule_id": rule.rule_id.removesuffix("_rule"), "rule_id_src": rule.rule_id,
        "rule_version": rule.stig_id, "rule_title": rule.title, "severity": rule.severity,
        "weight": "10.0", "classification": "UNCLASSIFIED", "discussion": rule.discussion,
        "check_content": check_content(rule), "fix_text": rule.fix_text,
        "ccis": list(rule.ccis), "legacy_ids": [], "false_positives": "", "false_negatives": "",
        "documentable": "false", "mitigations": "", "potential_impacts": "", "third_party_tools": "",
        "mitigation_control": "", "responsibility": "", "security_override_guidance": "",
        "check_content_ref": {"href": "", "name": "M"},
        "status": CKLB_STATUS[rule.status], "overrides": {}, "comments": rule.comments,
        "finding_details": rule.finding_details,
    }


def asset_facts(scan: Scan, host: Host | None) -> dict[str, str]:
    """What the asset section says: the host's name, its address as an IP or a name, its OS."""
    address = host.address if host else (scan.target or "")
    is_ip = bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", address)) and any(c in address for c in ".:")
    os_name = host.os_name if host and host.os_name else ""
    return {"host_name": scan.host_name, "ip": address if is_ip else "", "fqdn": "" if is_ip else address,
            "comment": f"OS: {os_name}" if os_name else ""}
