"""HTML report of a completed scan: one self-contained file, readable printed and without JS.

Built with lxml's element factory, never by gluing strings: every text that came from a
host or a datastream goes in as element text or an attribute value and is escaped on
output. Rule texts are the light Markdown of core.xccdf, rendered by core.report_markup.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree, html
from lxml.html import builder as E

from core.content.catalog import SHORT_NAME_TITLES
from core.domain.errors import InvalidInput
from core.domain.models import SEVERITIES, RuleInfo, RuleResult, Scan, ScanStatus, compute_score
from core.domain.policy import RuleException
from core.domain.timeutil import parse_iso
from core.results.exports import file_safe, stamp, write_atomically
from core.results.report_markup import CSS, clean, markdown
from core.views.exceptions import apply_to_scans, exceptions_for, load_book, mark_results

if TYPE_CHECKING:
    from core.domain.models import Host
    from core.store.base import Store
    from core.workspace import Workspace

FINDING_RESULTS = ("fail", "error", "unknown")  # shown in detail, in this order
RESULT_LABELS = {"pass": "Passed", "fail": "Failed", "error": "Error", "unknown": "Unknown",
                 "notapplicable": "Not applicable", "notchecked": "Not checked",
                 "informational": "Informational", "fixed": "Fixed", "notselected": "Not selected"}


@dataclass
class ReportData:
    scan: Scan
    os_name: str
    content: dict[str, Any] | None  # Store.get_content()
    results: list[RuleResult]  # failures an exception accepts carry it
    infos: dict[str, RuleInfo]
    expired: list[RuleException] = field(default_factory=list)  # expired ones of failing rules
    signature: str | None = None  # what checking the scan's seal found (save_report)

    @property
    def findings(self) -> list[RuleResult]:
        found = [r for r in self.results if r.result in FINDING_RESULTS]
        return sorted(found, key=lambda r: (severity_rank(r.severity),
                                            FINDING_RESULTS.index(r.result), r.rule_id))


def severity_rank(severity: str) -> int:
    """high, medium, low, info, then unknown (and anything unexpected) last."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def band(score: float | None) -> str:
    if score is None:
        return "none"
    return "green" if score >= 80 else "yellow" if score >= 60 else "red"


# --------------------------------------------------------------------------- gathering

async def load_report_data(store: Store, scan_id: str) -> ReportData:
    scan = await store.get_scan(scan_id)
    require_completed(scan)
    host = await store.get_host(scan.host_name)
    content = await store.get_content(scan.content_id) if scan.content_id else None
    book = await load_book(store)
    await apply_to_scans(store, [scan], book)
    accepted, expired = await exceptions_for(store, host, book)
    results = mark_results(await store.rule_results(scan.id, order="severity"), accepted)
    failing = {r.rule_id for r in results if r.result in FINDING_RESULTS}
    data = ReportData(scan, _os_name(host), content, results, {},
                      [e for rule, e in expired.items() if rule in failing])
    ids = [r.rule_id for r in data.findings]
    if scan.content_id and ids:
        # A few hundred ids fit one IN (...); past that fetch the content's rules whole.
        data.infos = await store.rule_infos(scan.content_id, ids if len(ids) <= 500 else None)
    return data


def require_completed(scan: Scan) -> None:
    if scan.status is not ScanStatus.COMPLETED:
        why = f" ({scan.error_message})" if scan.error_message else ""
        raise InvalidInput(
            f"scan {scan.short_id} is {scan.status.value}{why}: only a completed scan has a report"
        )


def _os_name(host: Host | None) -> str:
    if host is None or not (host.os_name or host.os_id):
        return "not detected"
    return host.os_name or f"{host.os_id} {host.os_version or ''}".strip()


# --------------------------------------------------------------------------- document

async def render_report(store: Store, scan_id: str, signature: str | None = None, by: str | None = None) -> str:
    """The whole HTML document of a completed scan; signature: what checking its seal found; by: a
    reference system whose controls get a section (core/results/report_controls.py)."""
    data = await load_report_data(store, scan_id)
    data.signature = signature
    by_control = []
    if by:
        from core.results.controls import control_view
        from core.results.report_controls import controls_section

        by_control.append(controls_section(await control_view(store, data.scan, by, data.results)))
    document = E.HTML(
        E.HEAD(
            E.META(charset="utf-8"),
            E.META(name="viewport", content="width=device-width, initial-scale=1"),
            E.TITLE(clean(f"Compliance report: {data.scan.host_name} ({data.scan.short_id})")),
            E.STYLE(CSS),
        ),
        E.BODY(_header(data), *_banners(data.scan), _summary(data), _details(data),
               _severity_table(data), *by_control, _failed_table(data), *_exceptions(data), _findings(data),
               *_slowest(data), _all_results(data), _footer(data)),
        lang="en",
    )
    text: str = html.tostring(document, doctype="<!DOCTYPE html>", encoding="unicode", method="html")
    return text


def _profile_title(scan: Scan) -> str:
    return SHORT_NAME_TITLES.get(scan.profile) or scan.profile_id or scan.profile


def _header(data: ReportData) -> etree._Element:
    scan = data.scan
    return E.HEADER(
        E.H1("Compliance report: ", E.SPAN(clean(scan.host_name), E.CLASS("host"))),
        E.P(clean(f"{_profile_title(scan)} · {data.os_name} · scanned {_when(scan.finished_at)}"),
            E.CLASS("sub")),
    )


def texts_from_file(scan: Scan) -> bool:
    """The rule texts came with an imported results file, not from content installed here."""
    return scan.origin == "import" and (scan.content_id or "").startswith("embedded-")


def _banners(scan: Scan) -> list[etree._Element]:
    found = []
    if texts_from_file(scan):
        found.append(E.DIV(E.STRONG("Rule texts from the results file: "), clean(
            f"descriptions, remediation and fix scripts come from the imported file "
            f"{scan.source_file or ''} itself, not from SCAP content installed here; whoever made "
            "the file wrote them. Check a fix script against the benchmark before running it."),
            E.CLASS("banner error")))
    if scan.notice:
        found.append(E.DIV(E.STRONG("Notice: "), clean(scan.notice), E.CLASS("banner notice")))
    if scan.error_message:
        found.append(E.DIV(E.STRONG("Error: "), clean(scan.error_message), E.CLASS("banner error")))
    return found


def _summary(data: ReportData) -> etree._Element:
    scan, counts = data.scan, data.scan.counts
    score = scan.score if scan.score is not None else compute_score(counts)
    label = {"green": "Good", "yellow": "Needs work", "red": "Poor", "none": "Not scored"}[band(score)]
    return E.SECTION(
        E.H2("Executive summary"),
        E.DIV(
            E.DIV(E.DIV("—" if score is None else f"{score:.1f}%", E.CLASS("value")),
                  E.DIV("Compliance score", E.CLASS("label")),
                  E.DIV(label, E.CLASS("band")),
                  E.CLASS(f"score band-{band(score)}")),
            E.DIV(*[E.P(clean(text)) for text in _summary_sentences(data, score)], E.CLASS("prose")),
            E.CLASS("summary"),
        ),
        E.UL(*[E.LI(E.SPAN(str(counts.get(r, 0)), E.CLASS("n")), RESULT_LABELS[r],
                    E.CLASS(f"card r-{r}"))
               for r in ("pass", "fail", "error", "unknown", "notapplicable", "notchecked")
               if counts.get(r) or r in ("pass", "fail")],
             E.LI(E.SPAN(str(scan.total), E.CLASS("n")), "Total", E.CLASS("card")),
             E.CLASS("cards")),
        id="summary",
    )


def _summary_sentences(data: ReportData, score: float | None) -> list[str]:
    scan, counts = data.scan, data.scan.counts
    good = counts.get("pass", 0) + counts.get("fixed", 0)
    bad = sum(counts.get(r, 0) for r in FINDING_RESULTS)
    first = (f"{scan.host_name} ({data.os_name}) was scanned against the {_profile_title(scan)} "
             f"profile on {_when(scan.finished_at)}.")
    if score is None:
        return [first, "No rule was scored: none passed or failed on this host."]
    by_severity = _count_by_severity([r for r in data.results if r.result == "fail"])
    split = ", ".join(f"{n} {sev}" for sev, n in by_severity.items())
    second = (f"Of {good + bad} scored rules, {good} passed and {bad} did not, for a compliance "
              f"score of {score:.1f}%.")
    failed = counts.get("fail", 0)
    third = (f"{failed} rule{'s' if failed != 1 else ''} failed (severity: {split}); {_advice(by_severity)}"
             if by_severity else "No rule failed.")
    sentences = [first, second, third]
    if scan.excepted:
        good_bad = f"{good} passed and {bad - scan.excepted} did not"
        sentences[1] = (f"Of {good + bad - scan.excepted} scored rules, {good_bad}, for a compliance score of "
                        f"{score:.1f}%.")
        sentences.append(f"{scan.excepted} failed rules are excepted (documented exceptions, listed below) and "
                         f"left out of the score; without them it would be {scan.score_before_exceptions:.1f}%.")
    if data.expired:
        sentences.append(f"{len(data.expired)} exceptions of failing rules have expired and count again.")
    if counts.get("notapplicable"):
        sentences.append(f"{counts['notapplicable']} rules did not apply to this host.")
    return sentences


def _advice(by_severity: dict[str, int]) -> str:
    """What to fix first, from the failures there are (by_severity: the most severe first)."""
    top, count = next(iter(by_severity.items()))
    ones = "one" if count == 1 else "ones"
    if top == "high":
        return f"fix the high-severity {ones} first."
    if top == "medium":
        return f"none is high: fix the medium-severity {ones} first."
    if top == "low":
        return "all are low severity: fix them as time allows."
    return "the benchmark ranks none of them by severity: review each."


def _count_by_severity(results: list[RuleResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in sorted(results, key=lambda r: severity_rank(r.severity)):
        counts[r.severity] = counts.get(r.severity, 0) + 1
    return counts


def _details(data: ReportData) -> etree._Element:
    scan, content = data.scan, data.content or {}
    version = content.get("version")
    rows = [
        ("Host", scan.host_name), ("Operating system", data.os_name),
        ("Profile", f"{_profile_title(scan)} ({scan.profile})"),
        ("Profile id", scan.profile_id or "—"),
        ("Content", f"{scan.content_file or '—'}" + (f", version {version}" if version else "")
         + (f", derived from {scan.content_derived_from} content" if scan.content_derived_from else "")),
        ("Benchmark", content.get("benchmark_id") or "—"),
        ("Content sha256", scan.content_id or "—"),
        ("Scan id", scan.id), ("Created", _when(scan.created_at)),
        ("Started", _when(scan.started_at)), ("Finished", _when(scan.finished_at)),
        ("Duration", _duration(scan.duration_s)),
    ]
    if scan.tailoring_file:  # the profile as the site tailored it, not as the benchmark has it
        rows.append(("Tailoring", f"{scan.tailoring_file} (sha256 {scan.tailoring_sha256}), "
                                  f"extends {scan.base_profile_id}"))
    if scan.origin == "import":  # results brought in from a file
        rows.append(("Imported from", f"{scan.source_file or '—'} (target {scan.target or '—'})"))
    if data.signature or scan.seal:
        rows.append(("Signature", data.signature or f"Ed25519 key {scan.seal.key if scan.seal else '—'}"))
    return E.SECTION(
        E.H2("Scan details"),
        E.TABLE(*[E.TR(E.TH(k), E.TD(clean(v))) for k, v in rows], E.CLASS("details")),
        id="scan",
    )


def _severity_table(data: ReportData) -> etree._Element:
    """Rule counts per severity (rows) and result (columns), with totals."""
    columns = [r for r in RESULT_LABELS if any(x.result == r for x in data.results)]
    severities = sorted({r.severity for r in data.results}, key=severity_rank)
    grid = {(r.severity, r.result): 0 for r in data.results}
    for r in data.results:
        grid[(r.severity, r.result)] += 1

    def row(label: str, cells: list[int], total: int, cls: str = "") -> etree._Element:
        return E.TR(E.TH(label), *[E.TD(str(n or "")) for n in cells], E.TD(str(total)), E.CLASS(cls))

    body = [row(sev, [grid.get((sev, c), 0) for c in columns],
                sum(grid.get((sev, c), 0) for c in columns), f"sev-{_css(sev)}")
            for sev in severities]
    totals = [sum(grid.get((s, c), 0) for s in severities) for c in columns]
    return E.SECTION(
        E.H2("Results by severity"),
        E.TABLE(
            E.THEAD(E.TR(E.TH("Severity"), *[E.TH(RESULT_LABELS[c]) for c in columns], E.TH("Total"))),
            E.TBODY(*body), E.TFOOT(row("Total", totals, sum(totals))),
            E.CLASS("grid"),
        ),
        id="counts",
    )


def _failed_table(data: ReportData) -> etree._Element:
    findings = data.findings
    if not findings:
        return E.SECTION(E.H2("Failed rules"), E.P("No rule failed."), id="failed")
    rows = [E.TR(E.TD(_severity_badge(r.severity)), E.TD(_result_label(r)),
                 E.TD(E.A(clean(r.title or r.rule_id), href=f"#finding-{i}")),
                 E.TD(E.CODE(clean(_short_rule(r.rule_id))), E.CLASS("rid")))
            for i, r in enumerate(findings, 1)]
    return E.SECTION(
        E.H2(f"Failed rules ({len(findings)})"),
        E.P("Ordered by severity. Rules whose check gave error or unknown are listed too: "
            "they did not pass.", E.CLASS("hint")),
        E.TABLE(E.THEAD(E.TR(E.TH("Severity"), E.TH("Result"), E.TH("Rule"), E.TH("Rule id"))),
                E.TBODY(*rows), E.CLASS("list")),
        id="failed",
    )


def _result_label(result: RuleResult) -> str:
    label = RESULT_LABELS.get(result.result, result.result)
    return f"{label} (excepted)" if result.exception is not None else label


def _exception_text(exc: RuleException) -> str:
    return f"{exc.reason} (accepted by {exc.accepted_by} for {exc.scope_text()}, until {exc.expires})"


def _exceptions(data: ReportData) -> list[etree._Element]:
    """The documented exceptions this scan's score honours, and the expired ones that count again."""
    accepted = [(r, r.exception) for r in data.results if r.exception is not None]
    if not accepted and not data.expired:
        return []
    rows = [E.TR(E.TD(clean(r.title or r.rule_id)), E.TD(E.CODE(clean(_short_rule(r.rule_id))), E.CLASS("rid")),
                 E.TD(clean(exc.reason)), E.TD(clean(exc.accepted_by)),
                 E.TD(clean(exc.expires)), E.TD("in force")) for r, exc in accepted]
    rows += [E.TR(E.TD("—"), E.TD(E.CODE(clean(_short_rule(e.rule_id))), E.CLASS("rid")), E.TD(clean(e.reason)),
                  E.TD(clean(e.accepted_by)), E.TD(clean(e.expires)), E.TD("expired: counts again"))
             for e in data.expired]
    return [E.SECTION(
        E.H2(f"Exceptions ({len(accepted)} excepted, {len(data.expired)} expired)"),
        E.P("Failed rules accepted for a business reason are left out of the score until their "
            "exception expires.", E.CLASS("hint")),
        E.TABLE(E.THEAD(E.TR(E.TH("Rule"), E.TH("Rule id"), E.TH("Reason"), E.TH("Accepted by"),
                             E.TH("Until"), E.TH("State"))), E.TBODY(*rows), E.CLASS("list")),
        id="exceptions",
    )]


def _findings(data: ReportData) -> etree._Element:
    from_file = texts_from_file(data.scan)
    articles = [_finding(i, r, data.infos.get(r.rule_id), from_file) for i, r in enumerate(data.findings, 1)]
    return E.SECTION(E.H2("Detailed findings"), *(articles or [E.P("Nothing to report.")]),
                     id="findings")


def _finding(index: int, result: RuleResult, info: RuleInfo | None, from_file: bool = False) -> etree._Element:
    info = info or RuleInfo(result.rule_id, result.title, result.severity)
    body = [
        E.H3(clean(info.title or result.rule_id)),
        E.P(_severity_badge(result.severity), " ", _result_label(result),
            " · ", E.CODE(clean(result.rule_id)), E.CLASS("meta")),
    ]
    if result.exception is not None:
        body.append(E.P(E.STRONG("Excepted: "), clean(_exception_text(result.exception)), E.CLASS("hint")))
    for heading, text in (("Description", info.description), ("Rationale", info.rationale)):
        if text:
            body += [E.H4(heading), *markdown(text)]
    body += [E.H4("Remediation"), *_remediation(info, from_file)]
    return E.ARTICLE(*body, E.CLASS(f"finding sev-{_css(result.severity)}"), id=f"finding-{index}")


def _remediation(info: RuleInfo, from_file: bool = False) -> list[etree._Element]:
    parts = list(markdown(info.fixtext)) if info.fixtext else []
    if info.fix_script:
        source = "the imported results file (not content installed here)" if from_file else "the content"
        parts += [E.P(f"Fix script from {source} (shell); review it before running it as root:",
                      E.CLASS("hint")),
                  E.PRE(E.CODE(clean(info.fix_script)), E.CLASS("script"))]
    if not parts:
        parts.append(E.P("The content offers no remediation for this rule: follow the description.",
                         E.CLASS("hint")))
    return parts


SLOWEST = 10


def _slowest(data: ReportData) -> list[etree._Element]:
    """The rules that made the scan slow (timed from oscap's progress): what to tailor away."""
    timed = sorted((r for r in data.results if r.seconds is not None), key=lambda r: -(r.seconds or 0.0))[:SLOWEST]
    if not timed:
        return []
    total = sum(r.seconds for r in data.results if r.seconds is not None)
    rows = [E.TR(E.TD(f"{r.seconds:.1f} s", E.CLASS("num")), E.TD(RESULT_LABELS.get(r.result, r.result)),
                 E.TD(clean(r.title or "—")), E.TD(E.CODE(clean(_short_rule(r.rule_id))), E.CLASS("rid")))
            for r in timed]
    return [E.SECTION(
        E.H2(f"Slowest rules ({len(timed)})"),
        E.P(clean(f"Seconds oscap spent on each rule, of {total:.0f} s in all; a tailoring can leave "
                  "out a slow rule that does not apply to this host."), E.CLASS("hint")),
        E.TABLE(E.THEAD(E.TR(E.TH("Time"), E.TH("Result"), E.TH("Rule"), E.TH("Rule id"))),
                E.TBODY(*rows), E.CLASS("list")),
        id="slowest",
    )]


def _all_results(data: ReportData) -> etree._Element:
    order = [*FINDING_RESULTS, *(r for r in RESULT_LABELS if r not in FINDING_RESULTS)]
    ordered = sorted(data.results, key=lambda r: (order.index(r.result) if r.result in order
                                                  else len(order), severity_rank(r.severity), r.rule_id))
    rows = [E.TR(E.TD(_result_label(r), E.CLASS(f"res r-{_css(r.result)}")),
                 E.TD(clean(r.severity)), E.TD(clean(r.title or "—")),
                 E.TD(E.CODE(clean(_short_rule(r.rule_id))), E.CLASS("rid")))
            for r in ordered]
    return E.SECTION(
        E.H2(f"All rule results ({len(rows)})"),
        E.TABLE(E.THEAD(E.TR(E.TH("Result"), E.TH("Severity"), E.TH("Rule"), E.TH("Rule id"))),
                E.TBODY(*rows), E.CLASS("list compact")),
        id="all",
    )


def _footer(data: ReportData) -> etree._Element:
    return E.FOOTER(E.P(
        clean(f"Generated by compliance-tui on {_when(None)} from scan {data.scan.id}. "),
        "Score = 100 × (pass + fixed) / (pass + fixed + fail + error + unknown); "
        "not applicable and not checked rules, and failures accepted by a documented exception, are left out. "
        "Bands: green from 80, yellow from 60, red below.",
    ))


def _severity_badge(severity: str) -> etree._Element:
    return E.SPAN(clean(severity), E.CLASS(f"sev sev-{_css(severity)}"))


def _short_rule(rule_id: str) -> str:
    return rule_id.removeprefix("xccdf_org.ssgproject.content_rule_")


def _css(word: str) -> str:
    """A value used inside a class name: only known words pass, anything else is 'other'."""
    known = set(SEVERITIES) | set(RESULT_LABELS)
    return word if word in known else "other"


def _when(iso: str | None) -> str:
    value = parse_iso(iso) if iso else datetime.now(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


# --------------------------------------------------------------------------- files

def default_report_path(data_dir: Path, scan: Scan, suffix: str = "") -> Path:
    """<data_dir>/reports/<host>-<scan id first 8>-<scan created, UTC>[suffix].html"""
    created = parse_iso(scan.created_at) if scan.created_at else None
    name = f"{file_safe(scan.host_name)}-{scan.short_id}-{stamp(created)}{suffix}.html"
    return data_dir / "reports" / name


async def save_report(workspace: Workspace, scan_id: str, output: Path | None = None, by: str | None = None) -> Path:
    from core.results import verification as verify

    scan = await workspace.store.get_scan(scan_id)
    try:
        keys = await asyncio.to_thread(verify.installation_keys, workspace.data_dir,
                                       workspace.settings.evidence.signing_key)
        signature = verify.summary(await verify.verify_scan(workspace, scan.id, keys))
    except InvalidInput as exc:  # the key is unreachable (a keyring): the report still comes
        signature = f"not checked: {exc}"
    text = await render_report(workspace.store, scan.id, signature, by)
    path = output or default_report_path(workspace.data_dir, scan)
    return await asyncio.to_thread(write_atomically, path, text)
