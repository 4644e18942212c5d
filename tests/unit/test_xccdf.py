"""core.xccdf against real oscap output and small hand-written files."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from core.domain.models import RESULT_VALUES, SEVERITIES, RuleInfo, RuleResult
from core.results import xccdf
from core.safexml import XmlError
from tests.oscap_results import CIS_L1_SERVER, datastream

X = "{http://checklists.nist.gov/xccdf/1.2}"
NS = 'xmlns="http://checklists.nist.gov/xccdf/1.2"'
RULE = "xccdf_org.ssgproject.content_rule_"
VALUE = "xccdf_org.ssgproject.content_value_"
UBUNTU_BENCHMARK = "xccdf_org.ssgproject.content_benchmark_UBUNTU_22-04"
UBUNTU_DS = datastream("ubuntu2204")
RHEL8_DS = datastream("rhel8")
REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- helpers

def lxml_rule_results(path: Path) -> list[tuple[str, str, str]]:
    """Independent reading: full parse, findall, no cleverness."""
    tree = etree.parse(str(path))
    return [
        (rr.get("idref"), rr.findtext(f"{X}result").strip(), rr.get("severity"))
        for rr in tree.iter(f"{X}rule-result")
    ]


def lxml_value_default(path: Path, value_id: str) -> str:
    tree = etree.parse(str(path))
    value = tree.find(f".//{X}Value[@id='{value_id}']")
    return next(v.text for v in value.findall(f"{X}value") if v.get("selector") is None)


def triples(data: xccdf.TestResultData) -> list[tuple[str, str, str]]:
    return [(r.rule_id, r.result, r.severity) for r in data.results]


def src(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


# --------------------------------------------------------------------------- real scan results

@pytest.fixture(scope="module")
def arf_data(oscap_results) -> xccdf.TestResultData:
    [data] = xccdf.read_test_results(oscap_results.arf)
    return data


def test_arf_results_equal_independent_reading(oscap_results, arf_data):
    assert triples(arf_data) == lxml_rule_results(oscap_results.arf)
    counts = xccdf.count_results(arf_data.results)
    # a real scan of the played host: a mix, and every unselected rule is listed too
    assert counts["pass"] > 20 and counts["fail"] > 20 and counts["notapplicable"] > 0
    assert counts["notselected"] > 100
    assert set(counts) <= set(RESULT_VALUES)


def test_arf_and_plain_xccdf_agree(oscap_results, arf_data):
    [plain] = xccdf.read_test_results(oscap_results.xccdf)
    assert triples(plain) == triples(arf_data) == lxml_rule_results(oscap_results.xccdf)
    for data in (plain, arf_data):
        assert data.has_benchmark is True
        assert data.benchmark_id == UBUNTU_BENCHMARK
        assert data.profile_id == CIS_L1_SERVER
        assert data.test_result_id == f"xccdf_org.open-scap_testresult_{CIS_L1_SERVER}"
    assert plain.test_result_id == arf_data.test_result_id
    assert plain.start_time == arf_data.start_time and plain.end_time == arf_data.end_time


def test_arf_header_fields_match_the_file(oscap_results, arf_data):
    tree = etree.parse(str(oscap_results.arf))
    test_result = next(tree.iter(f"{X}TestResult"))
    benchmark = next(tree.iter(f"{X}Benchmark"))
    assert arf_data.start_time == test_result.get("start-time")
    assert arf_data.end_time == test_result.get("end-time")
    assert arf_data.start_time and arf_data.start_time[:4].isdigit()
    assert arf_data.target == test_result.findtext(f"{X}target")
    assert arf_data.target_addresses == tuple(
        a.text for a in test_result.findall(f"{X}target-address"))
    assert arf_data.benchmark_version == benchmark.findtext(f"{X}version") == "0.1.65"


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress], ids=["gzip", "bz2"])
def test_compressed_arf_gives_same_results(oscap_results, arf_data, tmp_path, compress):
    packed = tmp_path / "arf.xml.packed"
    packed.write_bytes(compress(oscap_results.arf.read_bytes()))
    assert xccdf.read_test_results(packed) == [arf_data]
    with open(packed, "rb") as stream:  # binary file objects work as well as paths
        assert xccdf.read_test_results(stream) == [arf_data]
    rules = xccdf.read_rules(packed, {RULE + "accounts_tmout"})
    assert rules == xccdf.read_rules(oscap_results.arf, {RULE + "accounts_tmout"})


def test_read_test_results_of_a_real_arf_within_the_limits(oscap_results):
    (found,) = xccdf.read_test_results(oscap_results.arf)  # its speed: `make bench` (ingest)
    assert len(found.results) > 100


MEMORY_PROBE = """
import json, sys, tracemalloc
from lxml import etree
from core.results import xccdf

def peak_rss_kib():  # VmHWM belongs to this process image (ru_maxrss survives exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

path, mode = sys.argv[1], sys.argv[2]
before = peak_rss_kib()
tracemalloc.start()
if mode == "stream":
    data = xccdf.read_test_results(path)
else:
    tree = etree.parse(path)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"rss_kib": peak_rss_kib() - before, "py_peak": peak}))
"""


def _memory(path: Path, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(path), mode],
        cwd=REPO, env={"PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def test_parsing_real_arf_keeps_memory_flat(oscap_results):
    """The tree lives in libxml2's heap, which tracemalloc cannot see (a full
    etree.parse shows ~0 bytes there). So the tree is bounded through the peak RSS
    of a fresh process: a full parse of the 15 MB ARF grows it by ~75 MiB; the
    streaming reader must stay a small fraction of that, and under 16 MiB whatever
    the file size. tracemalloc bounds the Python side: 600 small RuleResults,
    well under 4 MiB (measured about 0.3 MiB)."""
    stream = _memory(oscap_results.arf, "stream")
    full = _memory(oscap_results.arf, "full")
    assert full["rss_kib"] > 30 * 1024  # sanity: the full tree really is big
    assert stream["rss_kib"] < full["rss_kib"] / 5
    assert stream["rss_kib"] < 16 * 1024
    assert stream["py_peak"] < 4 * 1024 * 1024


# --------------------------------------------------------------------------- real rule metadata

@pytest.fixture(scope="module")
def ubuntu_rules() -> dict:
    if not UBUNTU_DS.is_file():
        pytest.skip("SSG Ubuntu 22.04 datastream not installed")
    return xccdf.read_rules(UBUNTU_DS)


def test_rule_metadata_from_datastream_with_sub_resolved(ubuntu_rules):
    tmout_default = lxml_value_default(UBUNTU_DS, VALUE + "var_accounts_tmout")
    assert tmout_default == "600"
    rule = ubuntu_rules[RULE + "accounts_tmout"]
    assert rule.title == "Set Interactive Session Timeout"
    assert rule.severity == "medium"
    assert rule.description.startswith("Setting the `TMOUT` option in `/etc/profile` ensures")
    assert rule.description.endswith("should read as follows:\n\n```\ndeclare -xr TMOUT=600\n```")
    assert rule.rationale.startswith("Terminating an idle session within a short time period")
    assert "\n" not in rule.rationale  # source line breaks folded into one paragraph
    assert rule.fixtext == ""  # SSG 0.1.65 ships no fixtext
    assert rule.fix_script.startswith("# Remediation is applicable only in certain platforms")
    assert "var_accounts_tmout='600'" in rule.fix_script
    assert "xccdf" not in rule.fix_script and "\ue000" not in rule.fix_script


def test_rule_metadata_other_known_rules(ubuntu_rules):
    auth_tries = ubuntu_rules[RULE + "sshd_set_max_auth_tries"]
    assert auth_tries.title == "Set SSH authentication attempt limit"
    default = lxml_value_default(UBUNTU_DS, VALUE + "sshd_max_auth_tries_value")
    assert auth_tries.description.endswith(f"as follows:\n\n```\nMaxAuthTries {default}\n```")
    assert auth_tries.fix_script == ""  # this rule has no fix at all
    immutable = ubuntu_rules[RULE + "audit_rules_immutable"]
    assert immutable.fix_script == ""  # only an ansible fix: other systems are ignored
    assert ubuntu_rules[RULE + "no_empty_passwords"].severity == "high"
    assert ubuntu_rules[RULE + "sysctl_net_ipv4_conf_all_log_martians"].severity == "unknown"


def test_every_rule_is_complete_and_resolved(ubuntu_rules):
    tree = etree.parse(str(UBUNTU_DS))
    assert set(ubuntu_rules) == {r.get("id") for r in tree.iter(f"{X}Rule")}
    for rule in ubuntu_rules.values():
        assert rule.title and rule.severity in SEVERITIES
        for text in (rule.title, rule.description, rule.rationale, rule.fix_script):
            assert "\ue000" not in text and "<xccdf_org" not in text  # every Value exists
        assert rule.description.count("```") % 2 == 0


def test_markdown_of_real_pre_and_inline_code(ubuntu_rules):
    rule = ubuntu_rules[RULE + "audit_rules_privileged_commands"]
    assert "local partition *PART*:\n\n```\n$ sudo find PART -xdev -type f" in rule.description
    assert "If the `auditd` daemon is configured to use the `augenrules` program" in rule.description
    loghost = ubuntu_rules[RULE + "rsyslog_remote_loghost"]
    assert "To use TCP for log message delivery:\n\n```\n*.* @@logcollector\n```" in loghost.description


def test_rules_from_arf_equal_rules_from_datastream(oscap_results, ubuntu_rules):
    wanted = {RULE + "accounts_tmout", RULE + "sshd_set_max_auth_tries", RULE + "no_such_rule"}
    from_arf = xccdf.read_rules(oscap_results.arf, wanted)
    assert set(from_arf) == wanted - {RULE + "no_such_rule"}
    assert from_arf == {rid: ubuntu_rules[rid] for rid in from_arf}
    assert xccdf.read_rules(oscap_results.xccdf, wanted) == from_arf


@pytest.mark.skipif(not RHEL8_DS.is_file(), reason="SSG RHEL 8 datastream not installed")
def test_read_rules_of_a_big_rhel_datastream_stays_within_the_limits():
    rules = xccdf.read_rules(RHEL8_DS)  # 24 MB: its speed is a figure of `make bench`, not a test
    assert len(rules) > 1000 and all(r.title for r in rules.values())


# --------------------------------------------------------------------------- hand-written results

BARE = f"""<?xml version="1.0"?>
<TestResult {NS} id="tr1" version="1.2.3" start-time="2024-05-01T10:00:00" end-time="2024-05-01T10:01:00">
  <benchmark id="bench1" href="#b"/>
  <profile idref="prof1"/>
  <target> host<b>1</b> </target>
  <target-address>10.0.0.5</target-address>
  <target-address>fe80::1</target-address>
  <rule-result idref="r1" severity="high"><result>pass</result></rule-result>
  <rule-result idref="r2"><result> fail </result><message>why</message></rule-result>
  <rule-result idref="r3" severity="bogus"><result>notselected</result></rule-result>
</TestResult>"""


def test_bare_test_result_root():
    [data] = xccdf.read_test_results(src(BARE))
    assert data == xccdf.TestResultData(
        test_result_id="tr1", benchmark_id="bench1", benchmark_version="1.2.3",
        profile_id="prof1", start_time="2024-05-01T10:00:00", end_time="2024-05-01T10:01:00",
        target="host1", target_addresses=("10.0.0.5", "fe80::1"),
        results=(RuleResult("r1", "pass", "high"), RuleResult("r2", "fail", "unknown"),
                 RuleResult("r3", "notselected", "unknown")),
        has_benchmark=False,
    )


TWO = f"""<Benchmark {NS} id="bench2">
  <version>9.9</version>
  <Rule id="r1" severity="low"><title>One</title></Rule>
  <TestResult id="first" start-time="t1"><profile idref="p1"/>
    <rule-result idref="r1"><result>fail</result></rule-result></TestResult>
  <TestResult id="second" start-time="t2"><profile idref="p2"/>
    <rule-result idref="r1"><result>fixed</result></rule-result></TestResult>
</Benchmark>"""


def test_two_test_results_in_a_benchmark():
    first, second = xccdf.read_test_results(src(TWO))
    assert (first.test_result_id, second.test_result_id) == ("first", "second")
    assert (first.profile_id, second.profile_id) == ("p1", "p2")
    assert first.results == (RuleResult("r1", "fail"),)
    assert second.results == (RuleResult("r1", "fixed"),)
    for data in (first, second):
        assert data.benchmark_id == "bench2"  # from the enclosing Benchmark
        assert data.benchmark_version == "9.9"
        assert data.has_benchmark is True
        assert data.target is None and data.target_addresses == ()


ARF_WITHOUT_BENCHMARK = f"""<arf:asset-report-collection
    xmlns:arf="http://scap.nist.gov/schema/asset-reporting-format/1.1">
  <arf:reports><arf:report id="xccdf1"><arf:content>
    <TestResult {NS} id="tr"><benchmark id="b" href="#x"/>
      <rule-result idref="r1"><result>error</result></rule-result></TestResult>
  </arf:content></arf:report>
  <arf:report id="oval1"><arf:content><oval_results xmlns="http://oval.mitre.org/XMLSchema/oval-results-5">
    <result>not an xccdf result</result></oval_results></arf:content></arf:report></arf:reports>
</arf:asset-report-collection>"""


def test_arf_without_embedded_benchmark():
    [data] = xccdf.read_test_results(src(ARF_WITHOUT_BENCHMARK))
    assert data.has_benchmark is False
    assert data.benchmark_id == "b" and data.benchmark_version is None
    assert data.results == (RuleResult("r1", "error"),)
    with pytest.raises(XmlError, match="no XCCDF Benchmark found"):
        xccdf.read_rules(src(ARF_WITHOUT_BENCHMARK))


def test_unknown_result_value_is_rejected():
    bad = BARE.replace("<result>pass</result>", "<result>maybe</result>")
    with pytest.raises(XmlError, match="unknown XCCDF result value 'maybe' for r1"):
        xccdf.read_test_results(src(bad))


@pytest.mark.parametrize("data, message", [
    (b"this is not XML at all\n", "not well-formed XML"),
    (b"", "not well-formed XML"),
    (b"\x00\x01\x02binary", "not well-formed XML"),
    (BARE.encode()[: len(BARE) // 2], "not well-formed XML"),
    (b"<a><b></a>", "not well-formed XML"),
    (gzip.compress(BARE.encode(), mtime=0)[:40], "cannot read compressed data"),
    (b"<html><body>hello</body></html>", "not SCAP results: no XCCDF TestResult found"),
])
def test_bad_input_raises_one_line_error(data, message):
    with pytest.raises(XmlError, match=message) as caught:
        xccdf.read_test_results(io.BytesIO(data))
    assert "\n" not in str(caught.value)


def test_truncated_real_files(oscap_results, tmp_path):
    raw = oscap_results.arf.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(XmlError, match="not well-formed XML"):
        xccdf.read_test_results(cut)
    packed = gzip.compress(raw)
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(XmlError, match="cannot read compressed data"):
        xccdf.read_test_results(cut)


@pytest.mark.skipif(not UBUNTU_DS.is_file(), reason="SSG Ubuntu 22.04 datastream not installed")
def test_datastream_is_not_results():
    with pytest.raises(XmlError, match="not SCAP results: no XCCDF TestResult found"):
        xccdf.read_test_results(UBUNTU_DS)


def test_count_results():
    results = [RuleResult("a", "fail"), RuleResult("b", "pass"), RuleResult("c", "pass"),
               RuleResult("d", "notselected")]
    counts = xccdf.count_results(results)
    assert counts == {"pass": 2, "fail": 1, "notselected": 1}
    assert list(counts) == ["pass", "fail", "notselected"]  # report order
    assert xccdf.count_results([]) == {}


# --------------------------------------------------------------------------- hostile input

def _hostile(secret_file: Path, levels: int) -> str:
    """Nested internal entities (10**levels "lol"s) plus two external entities."""
    lol = "".join(
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, levels + 1))
    bomb = f"&lol{levels};"
    return f"""<?xml version="1.0"?>
<!DOCTYPE Benchmark [
  <!ENTITY lol0 "lol">
  {lol}
  <!ENTITY secret SYSTEM "file://{secret_file}">
  <!ENTITY passwd SYSTEM "file:///etc/passwd">
]>
<Benchmark {NS} id="b">
  <Rule id="r1" severity="low"><title>T{bomb}</title>
    <description>before {bomb} &secret; &passwd; after</description>
    <fix system="urn:xccdf:fix:script:sh">echo &secret;&passwd;done</fix></Rule>
  <TestResult id="tr"><target>host&secret;&passwd;{bomb}</target>
    <rule-result idref="r1"><result>pass{bomb}</result></rule-result></TestResult>
</Benchmark>"""


@pytest.fixture
def secret_file(tmp_path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711\n")
    return secret


def _assert_nothing_leaked(text: str) -> None:
    passwd_first_line = Path("/etc/passwd").read_text().splitlines()[0]
    assert "TOPSECRET" not in text and passwd_first_line not in text
    assert "lol" not in text


def test_entity_references_are_dropped_never_expanded(secret_file):
    hostile = _hostile(secret_file, levels=3)  # small enough for libxml2 to accept
    [data] = xccdf.read_test_results(src(hostile))
    rules = xccdf.read_rules(src(hostile))
    assert data.target == "host"
    assert data.results == (RuleResult("r1", "pass"),)
    rule = rules["r1"]
    assert (rule.title, rule.description, rule.fix_script) == ("T", "before after", "echo done")
    _assert_nothing_leaked(repr(data) + repr(rules))


@pytest.mark.parametrize("read", [xccdf.read_test_results, xccdf.read_rules])
def test_billion_laughs_finishes_fast_without_expansion(secret_file, read):
    hostile = _hostile(secret_file, levels=9)  # 10**9 "lol"s if ever expanded
    started = time.perf_counter()
    try:
        outcome = repr(read(src(hostile)))
    except XmlError as exc:  # libxml2 >= 2.12 refuses the amplification outright
        outcome = str(exc)
        assert "\n" not in outcome
    assert time.perf_counter() - started < 1.0  # expansion would take minutes and GBs
    _assert_nothing_leaked(outcome)


def test_external_dtd_is_not_loaded(tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "TOPSECRET-0815">')  # would be read only if DTDs loaded
    doc = f'<!DOCTYPE TestResult SYSTEM "file://{dtd}">' + BARE.split("?>", 1)[1].replace(
        "host<b>1</b>", "host1&leak;")
    [data] = xccdf.read_test_results(src(doc))
    assert data.target == "host1"  # the reference to the unread entity is dropped
    assert "TOPSECRET" not in repr(data)


# --------------------------------------------------------------------------- text conversion

MARKUP = f"""<Benchmark {NS} xmlns:h="http://www.w3.org/1999/xhtml" id="b">
  <Rule id="r1" severity="high">
    <title>  Set   the <h:code>thing</h:code>
      value </title>
    <description>Intro   text
      spans lines with <h:code>inline code</h:code>, <h:tt>tt</h:tt> and <h:strong>bold</h:strong>.
      <h:br/>After a break set <sub idref="v_late"/> and <sub idref="v_missing"/>.
      <h:p>A paragraph with <h:i>italics</h:i> and a <h:a href="https://example.org/x">link</h:a>.</h:p>
      <h:ul><h:li>first item</h:li>
        <h:li>second <h:code>item</h:code>
          <h:ul><h:li>nested</h:li></h:ul></h:li></h:ul>
      Run:
      <h:pre>  echo <sub idref="v_late"/>
    indented   line
</h:pre>
      and a block:
      <h:code>line one
line two</h:code>
    </description>
    <rationale><h:p>First.</h:p><h:p>Second.</h:p></rationale>
    <fixtext>Edit <h:code>/etc/x</h:code>:<h:pre>x=<sub idref="v_late"/></h:pre></fixtext>
    <fix system="urn:xccdf:fix:script:ansible">- name: not this one</fix>
    <fix system="urn:xccdf:fix:script:sh">
value='<sub idref="v_late"/>'
echo "$value" &gt; /etc/x
</fix>
  </Rule>
  <Rule id="r2"><title>Bare</title></Rule>
  <Rule id="r3"><title>Only selectors</title>
    <fix system="urn:xccdf:fix:script:sh">dev=<sub idref="v_selectors_only"/></fix></Rule>
  <Group id="g"><Value id="v_late" type="number">
    <value selector="strict">1</value><value>42</value><value selector="lax">99</value>
  </Value>
  <Value id="v_selectors_only"><value selector="cd">/dev/cdrom</value><value selector="x">/x</value></Value>
  </Group>
</Benchmark>"""


def test_markdown_conversion_of_xhtml():
    rule = xccdf.read_rules(src(MARKUP))["r1"]
    assert rule.title == "Set the thing value"
    assert rule.severity == "high"
    assert rule.description == (
        "Intro text spans lines with `inline code`, `tt` and **bold**.\n"
        "After a break set 42 and <v_missing>.\n"
        "\n"
        "A paragraph with *italics* and a [link](https://example.org/x).\n"
        "\n"
        "- first item\n"
        "- second `item`\n"
        "  - nested\n"
        "\n"
        "Run:\n"
        "\n"
        "```\n"
        "  echo 42\n"
        "    indented   line\n"
        "```\n"
        "\n"
        "and a block:\n"
        "\n"
        "```\n"
        "line one\n"
        "line two\n"
        "```"
    )
    assert rule.rationale == "First.\n\nSecond."
    assert rule.fixtext == "Edit `/etc/x`:\n\n```\nx=42\n```"
    assert rule.fix_script == "value='42'\necho \"$value\" > /etc/x"


def test_value_without_default_falls_back_to_first_value_like_oscap():
    # oscap 1.3.7 `generate fix` writes var_removable_partition='/dev/cdrom' for RHEL 8,
    # whose Value has only selector values: the first one stands in for the default.
    assert xccdf.read_rules(src(MARKUP), {"r3"})["r3"].fix_script == "dev=/dev/cdrom"


def test_rule_defaults_and_filter():
    rules = xccdf.read_rules(src(MARKUP), {"r2"})
    assert list(rules) == ["r2"]
    assert rules["r2"] == RuleInfo(rule_id="r2", title="Bare", severity="unknown")


def test_selected_rules_come_in_oscaps_own_order(oscap_results):
    """The running rule and each rule's seconds rest on this: oscap evaluates the profile's
    rules in the datastream's order, the order its results list them in."""
    from core.content.benchmark import selected_rules

    evaluated = [rule for rule, result, _severity in lxml_rule_results(oscap_results.xccdf) if result != "notselected"]
    assert selected_rules(UBUNTU_DS, CIS_L1_SERVER) == evaluated
    assert selected_rules(UBUNTU_DS, "xccdf_no_such_profile") == []
