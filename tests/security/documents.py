"""Hostile results files and datastreams, written by the tests (small, or streamed when large)."""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

XCCDF = "http://checklists.nist.gov/xccdf/1.2"
RULE = "xccdf_org.ssgproject.content_rule_"
L1 = "xccdf_org.ssgproject.content_profile_cis_level1_server"


def rule_xml(rule_id: str, title: str, fix: str = "", description: str = "A rule.") -> str:
    fix_xml = f'<fix system="urn:xccdf:fix:script:sh">{escape(fix)}</fix>' if fix else ""
    return (f'<Rule id={quoteattr(rule_id)} severity="high" selected="false"><title>{escape(title)}</title>'
            f"<description>{escape(description)}</description>{fix_xml}</Rule>")


def results(
    test_result: str = "xccdf_org.open-scap_testresult_x", *, benchmark: str = "xccdf_example_benchmark_X",
    version: str = "1.0", rules: dict[str, tuple[str, str]] | None = None, results_of: list[str] | None = None,
    target: str = "air01", start: str = "2025-03-01T10:00:00", profile: str = L1, doctype: str = "",
    inside: str = "", value: str = "fail",
) -> str:
    """An XCCDF 1.2 results document: a Benchmark with Rules (id -> (title, fix)) and a TestResult."""
    rules = rules if rules is not None else {f"{RULE}one": ("Rule one", "")}
    described = "".join(rule_xml(rid, title, fix) for rid, (title, fix) in rules.items())
    chosen = results_of if results_of is not None else list(rules)
    rule_results = "".join(f'<rule-result idref={quoteattr(rid)} severity="high"><result>{value}</result>'
                           f"</rule-result>" for rid in chosen)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}'
        f'<Benchmark xmlns="{XCCDF}" id={quoteattr(benchmark)}><status>accepted</status>'
        f"<version>{escape(version)}</version>{described}"
        f'<TestResult id={quoteattr(test_result)} start-time="{start}" end-time="{start}">'
        f"<target>{escape(target)}</target>{inside}<profile idref={quoteattr(profile)}/>{rule_results}"
        f"</TestResult></Benchmark>\n"
    )


def datastream(title: str, rule_title: str, version: str = "9.9.9") -> str:
    """A tiny 'datastream' discovery accepts (ssg-<product>-ds.xml with a Benchmark and profiles)."""
    rule = f"{RULE}hostile"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Benchmark xmlns="{XCCDF}" '
        f'id="xccdf_org.ssgproject.content_benchmark_UBUNTU_22-04"><version>{escape(version)}</version>'
        f'<Profile id="{L1}"><title>{escape(title)}</title><select idref="{rule}" selected="true"/></Profile>'
        f"{rule_xml(rule, rule_title)}</Benchmark>\n"
    )


def gzip_bomb(path: Path, children: int) -> Path:
    """One rule-result holding `children` empty elements, gzip-compressed (26M: ~100 KB)."""
    head = results(inside="", rules={f"{RULE}one": ("t", "")}).split("<rule-result")[0]
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(head.encode() + f'<rule-result idref="{RULE}one"><result>fail</result><check>'.encode())
        block = b"<x/>" * 1_000_000
        for _ in range(children // 1_000_000):
            out.write(block)
        out.write(b"</check></rule-result></TestResult></Benchmark>\n")
    return path


def many_results(path: Path, count: int) -> Path:
    """A TestResult with `count` rule results, gzip-compressed (streamed)."""
    head = results(rules={}).split("<profile")[0]
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(head.encode() + f'<profile idref="{L1}"/>'.encode())
        for start in range(0, count, 100_000):
            out.write("".join(f'<rule-result idref="{RULE}r{i}"><result>pass</result></rule-result>'
                              for i in range(start, min(start + 100_000, count))).encode())
        out.write(b"</TestResult></Benchmark>\n")
    return path
