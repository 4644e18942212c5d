"""A hostile target: what its /etc/os-release, its oscap's output and its results files say
reaches no terminal raw, runs no markup, expands no entity, and fills no memory.

Each case is a played host (real sshd and sudo) whose oscap is tests/security/fake_oscap.py.
"""

from __future__ import annotations

import csv
import http.server
import io
import json
import threading

import pytest

from tests.security.conftest import (
    ESC_PAYLOAD,
    MARKUP_PAYLOAD,
    add,
    assert_inert,
    integrity,
    measured,
    trust,
)

pytestmark = pytest.mark.fleet
L1 = "cis-level1-server"
RULE = "xccdf_org.ssgproject.content_rule_"


@pytest.fixture
def evil(cli, fleet, hostile, home):
    host = hostile("evil")
    trust(home, host)
    add(cli, fleet, host)
    return host


def scan(cli, name: str, *extra: str, env: dict | None = None) -> dict:
    result = cli("scan", name, "--profile", L1, "--json", *extra, env=env)
    assert result.stdout, result.stderr
    (found,) = result.json()
    return found


def test_escapes_and_markup_from_a_target_reach_no_terminal(cli, evil, data_dir, tmp_path):
    """os-release, oscap --version, oscap's stderr and the results' rule ids all carry escape
    sequences (title, clear, alternate screen, OSC 52 clipboard, 8-bit CSI) and markup."""
    payload = f"Ubuntu {ESC_PAYLOAD}{MARKUP_PAYLOAD}"
    evil.os_release(payload)
    evil.behave(version=f"OpenSCAP command line tool (oscap) 1.3.7 {ESC_PAYLOAD}{MARKUP_PAYLOAD}",
                stderr=f"OpenSCAP Error: {ESC_PAYLOAD}{MARKUP_PAYLOAD}", exit=1)
    failed = scan(cli, "evil")
    assert failed["status"] == "failed" and "oscap failed (exit 1)" in failed["error_message"]
    assert "\\x1b]0;pwned-title" in failed["error_message"]  # shown, visibly, in every output
    # XML cannot carry C0 controls; C1 controls (0x9b is CSI) and bidi overrides it can
    evil.behave(rule_payload=f"\u009b2J\u202e{MARKUP_PAYLOAD}", target=f"t\u009b31m{MARKUP_PAYLOAD}")
    completed = scan(cli, "evil")
    assert completed["status"] == "completed", completed["error_message"]

    outputs = {
        "hosts list": cli.ok("hosts", "list"),
        "hosts detect": cli.ok("hosts", "detect", "evil"),
        "hosts check": cli("hosts", "check", "evil"),
        "scans list": cli.ok("scans", "list"),
        "scan": cli("scan", "evil", "--profile", L1),
        "jobs list": cli.ok("jobs", "list"),
        "jobs show": cli.ok("jobs", "show", _job_of(cli, failed["id"])),
        "results": cli.ok("results", completed["id"][:8]),
        "results --csv": cli.ok("results", completed["id"][:8], "--csv"),
        "export scans csv": cli.ok("export", "scans", "--format", "csv"),
        "export results json": cli.ok("export", "results", completed["id"][:8], "--format", "json"),
    }
    for name, result in outputs.items():
        assert_inert(result.stdout, f"{name} stdout")
        assert_inert(result.stderr, f"{name} stderr")
    assert "\\x1b]0;pwned-title" in outputs["hosts list"].stdout  # the OS name, visibly
    assert "\\x1b" in outputs["hosts check"].stdout and "\\x9b" in outputs["results"].stdout
    assert MARKUP_PAYLOAD in outputs["hosts detect"].stdout  # markup is just text on a terminal
    titles = [row[1] for row in csv.reader(io.StringIO(outputs["results --csv"].stdout))][1:]
    assert all("\\x9b2J" in t for t in titles if "fake" in t)
    exported = json.loads(outputs["export results json"].stdout)  # JSON keeps the data exact
    assert any("\u009b2J\u202e" in r["rule_id"] for r in exported)
    assert "\\u009b" in outputs["export results json"].stdout

    report = tmp_path / "report.html"
    cli.ok("report", completed["id"][:8], "-o", str(report))
    html = report.read_text()
    assert_inert(html, "report")
    assert "[@click=app.quit]" in html and "<script" not in html
    assert "\\x1b" in html  # the OS name, visibly (reports show it as text)
    assert integrity(data_dir) == "ok"


def _job_of(cli, scan_id: str) -> str:
    jobs = cli.ok("jobs", "list", "--json").json()
    return next(j["id"] for j in jobs if j["scan_id"] == scan_id)


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY % x "y">')

    def log_message(self, *args):
        pass


@pytest.fixture
def dtd_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Counting.hits = []
    yield f"http://127.0.0.1:{server.server_port}/evil.dtd", _Counting.hits
    server.shutdown()


def test_xml_tricks_in_a_targets_results(cli, evil, data_dir, dtd_server, tmp_path):
    """Entities, external DTDs, XInclude, truncated and foreign XML: each scan fails alone with
    a one-line reason or completes with nothing expanded, fetched or included."""
    canary = tmp_path / "canary-secret.txt"
    canary.write_text("CANARY-FROM-THE-JUMP-HOST")
    canary.chmod(0o644)
    url, hits = dtd_server
    cases = {
        "billion_laughs": "entity amplification",  # libxml2 refuses it; nothing is expanded
        "xxe": None,  # completes: the entity stays unexpanded
        "external_dtd": None,
        "xinclude": None,
        "truncated": "not well-formed XML",
        "wrong_ns": "no XCCDF TestResult found",
    }
    for kind, reason in cases.items():
        evil.behave(arf=kind, canary=str(canary), dtd_url=url)
        found = scan(cli, "evil")
        if reason:
            assert found["status"] == "failed" and reason in found["error_message"], (kind, found)
            assert "\n" not in found["error_message"]
        else:
            assert found["status"] == "completed", (kind, found["error_message"])
    assert hits == [], "an external DTD was fetched"
    for path in data_dir.rglob("*"):
        if path.is_file() and path.suffix != ".gz":
            assert b"CANARY-FROM-THE-JUMP-HOST" not in path.read_bytes(), path
    failed_ids = {s["id"] for s in cli.ok("scans", "list", "--json").json() if s["status"] == "failed"}
    assert not [p for p in (data_dir / "evidence").glob("*") if p.name.split(".")[0] in failed_ids]
    assert integrity(data_dir) == "ok"


def test_huge_output_and_results_are_bounded(cli, evil, data_dir):
    """128 MiB of stderr, a million progress lines, one 64 MiB line without a newline, an ARF
    over the profile's bound (on disk, streamed from a pipe, or expanding from a tiny gzip),
    and more rule results or children than any benchmark has: each refused with one line,
    and the scanning process's memory stays near a normal scan's."""
    evil.behave()
    baseline, base_mb = measured(cli, "scan", "evil", "--profile", L1, "--json")
    assert baseline.json()[0]["status"] == "completed", baseline.stderr

    evil.behave(stderr_bytes=128 << 20, exit=1)
    noisy, noisy_mb = measured(cli, "scan", "evil", "--profile", L1, "--json")
    (found,) = noisy.json()
    assert found["status"] == "failed" and "the last line is the reason" in found["error_message"]
    assert noisy_mb < base_mb + 40, (base_mb, noisy_mb)  # not 128 MiB (read whole: ~400 MiB)

    evil.behave(progress_count=1_000_000, long_line_bytes=64 << 20)
    chatty, chatty_mb = measured(cli, "scan", "evil", "--profile", L1, "--json")
    (found,) = chatty.json()
    assert found["status"] == "completed", found["error_message"]
    assert found["progress"]["done"] <= found["progress"]["total"]  # a million lines, counted truly
    assert chatty_mb < base_mb + 40, (base_mb, chatty_mb)

    small = {"COMPLIANCE_TUI_LIMITS": "arf_base=1048576,arf_per_rule=1024"}  # ~13 MiB with the datastream
    for behaviour, reason in (
        ({"padding_bytes": 40 << 20}, "of results, more than this profile can produce"),
        ({"arf": "fifo_random", "fifo_mb": 64}, "results are larger than"),
        ({"arf": "fifo_xml", "fifo_mb": 64}, "bytes of XML (decompressed)"),
    ):
        evil.behave(**behaviour)
        found = scan(cli, "evil", env=small)
        assert found["status"] == "failed" and reason in found["error_message"], (behaviour, found)

    tight = {"COMPLIANCE_TUI_LIMITS": "rule_results=500,children=1000"}
    evil.behave(rules=501)
    found = scan(cli, "evil", env=tight)
    assert found["status"] == "failed" and "more rule results than any benchmark" in found["error_message"]
    evil.behave(children=1001)
    found = scan(cli, "evil", env=tight)
    assert found["status"] == "failed" and "holds more than 1,000 elements" in found["error_message"]

    failed = {s["id"] for s in cli.ok("scans", "list", "--json").json() if s["status"] == "failed"}
    assert not [p for p in (data_dir / "evidence").iterdir() if p.name.split(".")[0] in failed], \
        "a failed scan left its evidence behind"
    assert evil.temp_dirs() == [], "a scan left its temp dir on the target"
    assert integrity(data_dir) == "ok"
