"""HTML reports from a store holding a real oscap scan: content, safety, files, browser, oscap."""

from __future__ import annotations

import getpass
import os
import re
import stat
import time
from dataclasses import replace

import pytest
from lxml import html

from core.domain.errors import InvalidInput, NotFound, OscapMissing
from core.domain.models import MISMATCH_NOTICE
from core.results import handover, oscap_report, report
from core.results.report_markup import markdown
from core.workspace import Workspace
from tests.seed import data_dir_with_index, mismatched_arf, seed_completed_scan, seed_host, seed_job

RULE = "xccdf_org.ssgproject.content_rule_"
HOSTILE_HOST = "<script>alert(1)</script>"
HOSTILE_TITLE = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
async def seeded(tmp_path_factory, content_index, oscap_results):
    directory = data_dir_with_index(tmp_path_factory.mktemp("report") / "data", content_index)
    workspace = await Workspace.open(directory)
    scan = await seed_completed_scan(workspace, "web1", oscap_results.arf)
    yield workspace, scan
    await workspace.close()


@pytest.fixture
async def workspace(data_dir):
    async with await Workspace.open(data_dir) as opened:
        yield opened


def parse(text: str):
    return html.fromstring(text)


def texts(doc, xpath: str) -> list[str]:
    return [e.text_content().strip() for e in doc.xpath(xpath)]


def section(doc, name: str):
    (found,) = doc.xpath(f"//section[@id='{name}']")
    return found


# --------------------------------------------------------------------------- content

async def test_report_of_real_scan_has_score_counts_and_details(seeded):
    workspace, scan = seeded
    text = await report.render_report(workspace.store, scan.id)
    assert text.startswith("<!DOCTYPE html>")
    doc = parse(text)
    assert doc.xpath("//meta/@charset") == ["utf-8"]
    (score,) = doc.xpath("//div[contains(@class, 'score')]")
    assert score.xpath("string(div[@class='value'])") == f"{scan.score:.1f}%"
    assert scan.score < 60 and "band-red" in score.get("class")  # 95 pass, 68 fail here

    cards = {e.xpath("string(text()[last()])"): int(e.xpath("string(span)"))
             for e in doc.xpath("//ul[@class='cards']/li")}
    assert cards["Passed"] == scan.counts["pass"] and cards["Failed"] == scan.counts["fail"]
    assert cards["Not applicable"] == scan.counts["notapplicable"] and cards["Total"] == scan.total

    grid = section(doc, "counts")
    headers = texts(grid, ".//thead//th")
    footer = [int(v) if v else 0 for v in texts(grid, ".//tfoot//td")]
    totals = dict(zip(headers[1:], footer))
    assert totals["Passed"] == scan.counts["pass"] and totals["Failed"] == scan.counts["fail"]
    assert totals["Total"] == scan.total
    assert texts(grid, ".//tbody/tr/th") == ["high", "medium", "low", "unknown"]

    details = dict(zip(texts(doc, "//table[@class='details']//th"),
                       texts(doc, "//table[@class='details']//td")))
    assert details["Host"] == "web1" and details["Operating system"] == "Ubuntu 22.04.4 LTS"
    assert details["Profile"] == "CIS Level 1 Server (cis-level1-server)"
    assert details["Profile id"] == "xccdf_org.ssgproject.content_profile_cis_level1_server"
    assert details["Content"] == "ssg-ubuntu2204-ds.xml, version 0.1.65"  # from the contents table
    assert details["Benchmark"] == "xccdf_org.ssgproject.content_benchmark_UBUNTU_22-04"
    assert details["Content sha256"] == scan.content_id and details["Scan id"] == scan.id
    for key in ("Created", "Started", "Finished"):
        assert details[key].endswith(" UTC")
    assert details["Duration"].endswith(" s")


async def test_report_lists_every_failed_rule_by_severity_with_remediation(seeded):
    workspace, scan = seeded
    doc = parse(await report.render_report(workspace.store, scan.id))
    failed = await workspace.store.rule_results(scan.id, "fail")
    assert len(failed) == scan.counts["fail"] == 68

    articles = doc.xpath("//article[contains(@class, 'finding')]")
    shown = [a.xpath("string(p[@class='meta']/code)") for a in articles]
    assert sorted(shown) == sorted(r.rule_id for r in failed)
    order = ["high", "medium", "low", "info", "unknown"]
    severities = texts(section(doc, "failed"), ".//tbody/tr/td[1]")
    assert severities == sorted(severities, key=order.index) and severities[0] == "high"
    assert [a.xpath("string(p[@class='meta']/span)") for a in articles] == severities
    # every row links to its finding
    links = section(doc, "failed").xpath(".//tbody//a/@href")
    assert links == [f"#{a.get('id')}" for a in articles]

    infos = await workspace.store.rule_infos(scan.content_id, shown)
    for article, rule_id in zip(articles, shown):
        info = infos[rule_id]
        assert article.xpath("string(h3)") == info.title
        script = article.xpath("pre[@class='script']/code")
        assert [c.text for c in script] == ([info.fix_script] if info.fix_script else [])
    tmout = articles[shown.index(RULE + "accounts_tmout")]
    assert "declare -xr TMOUT=600" in tmout.xpath(".//pre/code/text()")  # description code block
    assert "var_accounts_tmout='600'" in tmout.xpath("string(pre[@class='script'])")
    assert "Setting the TMOUT option" in tmout.xpath("string(p[2])")
    assert tmout.xpath("p[2]/code/text()")[:2] == ["TMOUT", "/etc/profile"]
    no_fix = articles[shown.index(RULE + "partition_for_tmp")]
    assert "offers no remediation" in no_fix.text_content()

    everything = section(doc, "all").xpath(".//tbody/tr")
    assert len(everything) == scan.total


async def test_report_is_self_contained_and_printable(seeded):
    workspace, scan = seeded
    text = await report.render_report(workspace.store, scan.id)
    doc = parse(text)
    assert not doc.xpath("//script | //link | //img | //iframe | //object | //embed | //@src")
    assert all(h.startswith(("#", "http://", "https://")) for h in doc.xpath("//@href"))
    (style,) = doc.xpath("//style")
    css = style.text
    assert "@media print" in css and "@page" in css and "print-color-adjust" in css
    assert "@import" not in css and "url(" not in css


async def test_mismatched_content_notice_is_shown(workspace, tmp_path):
    scan = await seed_completed_scan(workspace, "old", mismatched_arf(tmp_path))
    assert scan.notice == MISMATCH_NOTICE and scan.score is None
    doc = parse(await report.render_report(workspace.store, scan.id))
    (banner,) = doc.xpath("//div[contains(@class, 'banner')]")
    assert banner.text_content() == f"Notice: {MISMATCH_NOTICE}"
    assert "band-none" in doc.xpath("string(//div[contains(@class, 'score')]/@class)")
    assert "No rule was scored" in section(doc, "summary").text_content()
    assert section(doc, "failed").xpath("string(p)") == "No rule failed."


# --------------------------------------------------------------------------- hostile input

async def test_markup_from_hosts_and_datastreams_comes_out_as_text(workspace, oscap_results):
    scan = await seed_completed_scan(workspace, HOSTILE_HOST, oscap_results.arf)
    store = workspace.store
    victim = RULE + "accounts_tmout"
    info = await store.rule_info(scan.content_id, victim)
    hostile = replace(
        info, title=HOSTILE_TITLE,
        description="Text <script>alert(3)</script> and [click](javascript:alert(4)) and "
                    "[docs](https://example.org/a?b=1&c=2) and `<b>code</b>`\n\n"
                    "```\n</code></pre><script>alert(5)</script>\n```",
        rationale='"><svg onload=alert(6)>', fixtext="- <iframe src=//evil>",
        fix_script="echo '</pre><img src=x onerror=alert(7)>'",
    )
    await store.save_content(scan.content_id, "x", None, None, [hostile])
    text = await report.render_report(store, scan.id)
    doc = parse(text)

    assert not doc.xpath("//script | //img | //svg | //iframe | //@onerror | //@onload | //@src")
    assert doc.xpath("string(//h1/span)") == HOSTILE_HOST
    assert HOSTILE_HOST in doc.xpath("string(//title)")
    (article,) = [a for a in doc.xpath("//article") if a.xpath("string(p/code)") == victim]
    assert article.xpath("string(h3)") == HOSTILE_TITLE
    first = article.xpath("p[2]")[0]  # p[1] is the meta line
    assert "<script>alert(3)</script>" in first.text_content()
    assert "click (javascript:alert(4))" in first.text_content()
    assert first.xpath("a/@href") == ["https://example.org/a?b=1&c=2"]
    assert first.xpath("code/text()") == ["<b>code</b>"]
    assert "</code></pre><script>alert(5)</script>" in article.xpath(".//pre/code/text()")
    assert article.xpath("string(pre[@class='script'])") == hostile.fix_script
    assert "<script>" not in text and "<img" not in text and "<svg" not in text


def test_markdown_subset_renders_to_safe_elements():
    source = (
        "Intro with `inline`, **bold**, *em*, `` a`b `` and a [link](https://example.org/x).\n"
        "After a break [local](file:///etc/passwd) and [](ftp://x).\n"
        "\n"
        "- first\n"
        "- second `item`\n"
        "  - nested\n"
        "\n"
        "```\n  echo 42\n    indented   line\n```\n"
        "\n"
        "~~~\nuses ``` inside\n~~~\n"
        "Tail with a * star and 2*3*4 maths and ctrl\x01char."
    )
    parts = markdown(source)
    assert [p.tag for p in parts] == ["p", "ul", "pre", "pre", "p"]
    intro = parts[0]
    assert [c.tag for c in intro] == ["code", "strong", "em", "code", "a", "br", "span", "span"]
    assert intro[0].text == "inline" and intro[3].text == "a`b"
    assert intro[4].get("href") == "https://example.org/x" and intro[4].text == "link"
    assert intro[6].text_content() == "local (file:///etc/passwd)" and intro[6].get("href") is None
    assert intro[7].text_content() == "ftp://x"
    items = parts[1]
    assert [li.xpath("string(text())") for li in items] == ["first", "second "]
    assert items[1].xpath("code/text()") == ["item"] and items[1].xpath("ul/li/text()") == ["nested"]
    assert parts[2][0].tag == "code" and parts[2][0].text == "  echo 42\n    indented   line"
    assert parts[3][0].text == "uses ``` inside"
    assert parts[4].text_content() == "Tail with a * star and 2*3*4 maths and ctrl\\x01char."
    assert markdown("") == []


# --------------------------------------------------------------------------- refusals

async def test_only_a_completed_scan_has_a_report(workspace):
    host = await seed_host(workspace, "web2")
    job = await seed_job(workspace.store, host, start=False)
    with pytest.raises(InvalidInput, match=r"is pending: only a completed scan has a report"):
        await report.render_report(workspace.store, job.scan_id)
    await workspace.store.finish_job(job.id, "failed", "web2: oscap is not installed")
    pending = await workspace.store.get_scan(job.scan_id)
    with pytest.raises(InvalidInput, match=r"is failed \(web2: oscap is not installed\)"):
        await report.save_report(workspace, pending.short_id)
    with pytest.raises(NotFound, match="has no stored OpenSCAP results"):
        await oscap_report.save_oscap_report(workspace, pending.id)
    assert not (workspace.data_dir / "reports").exists()


# --------------------------------------------------------------------------- files

async def test_save_report_default_path_and_output(seeded, tmp_path):
    workspace, scan = seeded
    path = await report.save_report(workspace, scan.short_id)
    stamp = scan.created_at[:19].replace("-", "").replace(":", "").replace("T", "-")
    assert path == workspace.data_dir / "reports" / f"web1-{scan.short_id}-{stamp}.html"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a report lists a host's weaknesses
    unsigned = "unsigned (stored before signing existed, or without a signing key)"  # a seeded scan
    rendered = await report.render_report(workspace.store, scan.id, unsigned)
    generated = re.compile(r"\d\d:\d\d:\d\d UTC")  # the time the report was made: a second may pass
    assert generated.sub("", path.read_text(encoding="utf-8")) == generated.sub("", rendered)
    chosen = await report.save_report(workspace, scan.id, tmp_path / "new" / "r.html")
    assert chosen == tmp_path / "new" / "r.html" and chosen.is_file()
    assert sorted(p.name for p in chosen.parent.iterdir()) == ["r.html"]  # no temp file left


async def test_oscap_report_from_stored_arf(seeded, tmp_path, monkeypatch):
    workspace, scan = seeded
    path = await oscap_report.save_oscap_report(workspace, scan.id)
    assert path.parent == workspace.data_dir / "reports" and path.name.endswith("-oscap.html")
    text = path.read_text(encoding="utf-8")
    assert "OpenSCAP Evaluation Report" in text and RULE + "accounts_tmout" in text
    monkeypatch.setenv("PATH", str(tmp_path))  # no oscap here
    with pytest.raises(OscapMissing, match="oscap is not installed on this machine"):
        await oscap_report.save_oscap_report(workspace, scan.id, tmp_path / "o.html")
    assert not (tmp_path / "o.html").exists()


def test_copy_hint_names_this_machine_and_the_file(tmp_path):
    hint = handover.copy_hint(tmp_path / "r.html")
    assert hint.startswith(f"scp {getpass.getuser()}@") and hint.endswith(f":{tmp_path}/r.html .")
    assert "@localhost:" not in hint or os.uname().nodename == "localhost"
    assert "'" in handover.copy_hint(tmp_path / "a b.html")  # quoted for the shell


def test_browser_only_when_one_can_show(tmp_path, monkeypatch):
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>")
    assert handover.open_in_browser(page) is False  # plain SSH session: show the path instead
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("PATH", str(tmp_path))  # a display but no xdg-open
    assert handover.open_in_browser(page) is False


def test_browser_is_started_without_waiting(tmp_path, monkeypatch):
    seen = tmp_path / "seen"
    browser = tmp_path / "slow-browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {seen}\nsleep 3\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    started = time.monotonic()
    assert handover.open_in_browser(tmp_path / "r.html") is True
    assert time.monotonic() - started < 1.0
    deadline = time.monotonic() + 10
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen.read_text().strip() == str(tmp_path / "r.html")
    monkeypatch.setenv("BROWSER", str(tmp_path / "missing-browser"))
    assert handover.open_in_browser(tmp_path / "r.html") is False


def test_band_thresholds():
    assert [report.band(s) for s in (100, 80, 79.9, 60, 59.9, 0, None)] == [
        "green", "green", "yellow", "yellow", "red", "red", "none"]


async def test_the_summary_advises_from_the_failures_there_are(seeded):
    """'Fix the high-severity ones first' only when one is high (issue 23)."""
    workspace, scan = seeded
    data = await report.load_report_data(workspace.store, scan.id)

    def advice(severity_of) -> str:
        results = [replace(r, severity=severity_of(r)) if r.result == "fail" else r for r in data.results]
        return report._summary_sentences(replace(data, results=results), scan.score)[2]

    assert {r.severity for r in data.results if r.result == "fail"} >= {"high", "medium"}
    assert advice(lambda r: r.severity).endswith("; fix the high-severity ones first.")
    no_high = advice(lambda r: "medium" if r.severity == "high" else r.severity)
    assert no_high.endswith("; none is high: fix the medium-severity ones first.")
    assert "high" not in no_high.partition(";")[0]  # the split by severity names no high one
    assert advice(lambda r: "low").endswith("; all are low severity: fix them as time allows.")
    assert advice(lambda r: "unknown").endswith("; the benchmark ranks none of them by severity: review each.")
