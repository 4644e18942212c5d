"""End to end through the CLI against the test fleet: real sshd, sudo, oscap and SSG content."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

from lxml import etree

from core import evidence as evidence_lib
from core.evidence import read_header
from core.safexml import open_maybe_compressed
from tests.conftest import add_fleet_host
from tests.oscap_results import CIS_L1_SERVER

XCCDF = "{http://checklists.nist.gov/xccdf/1.2}"


def oscap_own_results(fleet_host, datastream: Path, tmp_path) -> dict[str, str]:
    """Run oscap directly on the host (no compliance-tui involved) and read its verdicts."""
    out = tmp_path / f"own-{fleet_host.name}.xml"
    done = fleet_host.run_inside([
        "oscap", "xccdf", "eval", "--profile", CIS_L1_SERVER, "--results", str(out), str(datastream),
    ])
    assert done.returncode in (0, 2), done.stderr.decode()[-500:]
    tree = etree.parse(str(out))
    return {
        rr.get("idref"): rr.findtext(f"{XCCDF}result")
        for rr in tree.iter(f"{XCCDF}rule-result")
        if rr.findtext(f"{XCCDF}result") != "notselected"
    }


def test_scan_matches_oscap_rule_by_rule(cli, fleet, known_hosts, tmp_path, data_dir, datastream_path):
    add_fleet_host(cli, fleet, "u2204")
    detected = cli.ok("hosts", "detect", "u2204", "--json").json()
    assert detected["os"]["id"] == "ubuntu" and detected["os"]["version"] == "22.04"
    assert {p["name"] for p in detected["profiles"]} == {"cis-level1-server", "cis-level2-server"}

    (scan,) = cli.ok("scan", "u2204", "--profile", "cis-level1-server", "--json").json()
    assert scan["status"] == "completed", scan["error_message"]
    assert scan["profile"] == {"name": "cis-level1-server", "xccdf_id": CIS_L1_SERVER, "framework": "cis"}
    assert scan["content"]["file"] == "ssg-ubuntu2204-ds.xml" and len(scan["content"]["sha256"]) == 64
    assert scan["passed"] > 0 and scan["failed"] > 0
    assert scan["total"] == scan["progress"]["total"] == detected["profiles"][0]["rules"]
    assert scan["content"]["version"] == detected["profiles"][0]["content_version"]
    expected = round(100 * scan["passed"] / (scan["passed"] + scan["failed"] + scan["error"] + scan["unknown"]), 1)
    assert scan["score"] == expected

    ours = {r["rule_id"]: r["result"] for r in cli.ok("results", scan["id"][:8], "--json").json()}
    used = datastream_path(scan["content"]["sha256"])
    assert ours == oscap_own_results(fleet.hosts["u2204"], used, tmp_path)

    # each evaluated rule is timed from oscap's progress lines, in oscap's own order
    slowest = cli.ok("results", scan["id"], "--sort", "time", "--json").json()
    timed = [r for r in slowest if r["seconds"] is not None]
    assert len(timed) >= scan["passed"] + scan["failed"]
    assert [r["seconds"] for r in timed] == sorted((r["seconds"] for r in timed), reverse=True)
    (job,) = [j for j in cli.ok("jobs", "list", "--json").json() if j["scan_id"] == scan["id"]]
    assert "slowest: " in cli.ok("jobs", "show", job["id"]).stdout

    # rule texts come from the content, kept once per content version
    failed = cli.ok("results", scan["id"], "--result", "fail", "--json").json()
    assert failed and all(r["result"] == "fail" and r["title"] for r in failed)
    assert len(failed) == scan["failed"]

    # the ARF is kept as evidence: its results compressed, the datastream block once, by sha256
    evidence = data_dir / "evidence" / f"{scan['id']}.arf.split"
    header = read_header(evidence)
    assert evidence_lib.block_path(data_dir / "evidence", header.block).is_file()
    with open_maybe_compressed(evidence) as arf:
        assert hashlib.sha256(arf.read()).hexdigest() == header.sha256


def test_second_os_and_listing(cli, fleet, known_hosts, tmp_path, datastream_path):
    add_fleet_host(cli, fleet, "u2004")
    (scan,) = cli.ok("scan", "u2004", "--profile", "cis-level1-server", "--json").json()
    assert scan["status"] == "completed", scan["error_message"]
    assert scan["content"]["file"] == "ssg-ubuntu2004-ds.xml"
    ours = {r["rule_id"]: r["result"] for r in cli.ok("results", scan["id"], "--json").json()}
    used = datastream_path(scan["content"]["sha256"])
    assert ours == oscap_own_results(fleet.hosts["u2004"], used, tmp_path)

    listed = cli.ok("scans", "list", "--host", "u2004", "--json").json()
    assert [s["id"] for s in listed] == [scan["id"]]
    assert cli.ok("scans", "list", "--status", "failed", "--json").json() == []
    text = cli.ok("scans", "list").stdout
    assert scan["id"][:8] in text and "completed" in text


def test_concurrent_scans_and_repeat_uses_the_cached_datastream(cli, fleet, known_hosts, data_dir):
    add_fleet_host(cli, fleet, "u2204", "web1")
    add_fleet_host(cli, fleet, "u2204", "web2")
    first = cli.ok("scan", "web1", "web2", "--profile", "cis-level1-server", "--json").json()
    assert [s["status"] for s in first] == ["completed", "completed"]
    assert first[0]["score"] == first[1]["score"]
    with sqlite3.connect(data_dir / "compliance.db") as db:
        windows = db.execute("SELECT started_at, finished_at FROM scans").fetchall()
    (a_start, a_end), (b_start, b_end) = windows
    assert a_start < b_end and b_start < a_end, "the two scans should overlap in time"
    # the first to fetch brought the datastream block; the other waited for it and found it known
    said = sorted(cli.ok("jobs", "show", scan["id"], "--json").json()["output"] for scan in first)
    assert ["sent once for this datastream" in out for out in said].count(True) == 1, said
    assert ["known here already" in out for out in said].count(True) == 1, said

    cache = fleet.hosts["u2204"].home / ".cache" / "compliance-tui"
    cached = list(cache.glob("*.xml.bz2"))  # other tests may have cached other datastreams
    stamps = {path: path.stat().st_mtime_ns for path in cached}
    temp_dirs_before = scanner_temp_dirs(fleet.hosts["u2204"])
    repeat = cli.ok("scan", "web1", "--profile", "cis-level1-server", "--json").json()
    assert repeat[0]["status"] == "completed"
    assert {p: p.stat().st_mtime_ns for p in cache.glob("*.xml.bz2")} == stamps, \
        "an unchanged datastream is not uploaded again"
    # the repeat moved only its results: the datastream block is known here
    (job,) = [j for j in cli.ok("jobs", "list", "--json").json() if j["scan_id"] == repeat[0]["id"]]
    output = cli.ok("jobs", "show", job["id"], "--json").json()["output"]
    assert "known here already" in output
    fetched = re.search(r"fetched the results: ([\d,]+) KiB", output)
    assert int(fetched.group(1).replace(",", "")) < 250
    assert len(list((data_dir / "evidence" / "blocks").glob("*.xz"))) == 1  # three scans, one block
    # no temp dir is left behind on the target
    assert scanner_temp_dirs(fleet.hosts["u2204"]) == temp_dirs_before


def scanner_temp_dirs(host) -> set[Path]:
    return set((host.root / "tmp").glob("compliance-tui.*"))


def test_fail_under_gates_ci(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    below = cli("scan", "u2204", "--profile", "cis-level1-server", "--fail-under", "99")
    assert below.returncode == 3
    assert cli("scan", "u2204", "--profile", "cis-level1-server", "--fail-under", "1").returncode == 0
