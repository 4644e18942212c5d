"""Reports and exports through the CLI, of real scans of the test fleet."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sqlite3
from pathlib import Path

from lxml import html

from core.safexml import open_maybe_compressed
from tests.conftest import add_fleet_host

L1 = "cis-level1-server"


def scan(cli, name: str) -> dict:
    (found,) = cli("scan", name, "--profile", L1, "--json").json()
    return found


def test_report_of_a_fleet_scan(cli, fleet, known_hosts, data_dir):
    add_fleet_host(cli, fleet, "u2204", "web1")
    done = scan(cli, "web1")
    assert done["status"] == "completed", done["error_message"]

    shown = cli.ok("report", done["id"][:8])
    path = Path(shown.stdout.strip())
    assert path.parent == data_dir / "reports" and path.name.startswith(f"web1-{done['id'][:8]}-")
    assert "scp " in shown.stderr and f":{path} ." in shown.stderr

    doc = html.fromstring(path.read_text(encoding="utf-8"))
    assert doc.xpath("string(//div[contains(@class, 'score')]/div[@class='value'])") == f"{done['score']:.1f}%"
    failed = cli.ok("results", done["id"], "--result", "fail", "--json").json()
    shown_ids = doc.xpath("//article[contains(@class, 'finding')]/p[@class='meta']/code/text()")
    assert sorted(shown_ids) == sorted(r["rule_id"] for r in failed) and len(failed) == done["failed"]
    details = dict(zip(doc.xpath("//table[@class='details']//th/text()"),
                       [td.text_content() for td in doc.xpath("//table[@class='details']//td")]))
    assert details["Operating system"] == "Ubuntu 22.04.4 LTS"  # detected over SSH by the scan
    assert details["Content"].startswith("ssg-ubuntu2204-ds.xml, version 0.1.")
    assert not doc.xpath("//script | //link | //img | //@src")

    chosen = data_dir.parent / "out" / "r.html"
    assert cli.ok("report", done["id"], "-o", str(chosen)).stdout.strip() == str(chosen)
    assert chosen.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_oscap_report_and_its_errors(cli, fleet, known_hosts, data_dir, tmp_path):
    add_fleet_host(cli, fleet, "u2204")
    done = scan(cli, "u2204")
    own = Path(cli.ok("report", done["id"], "--oscap").stdout.strip())
    assert own.parent == data_dir / "reports" and own.name.endswith("-oscap.html")
    text = own.read_text(encoding="utf-8")
    assert "OpenSCAP Evaluation Report" in text and "content_rule_accounts_tmout" in text
    # stored split (core/evidence.py), the report is the one the whole ARF gives (as older stores keep it)
    with sqlite3.connect(data_dir / "compliance.db") as db:
        (stored,) = db.execute("SELECT arf_path FROM scans WHERE id = ?", (done["id"],)).fetchone()
        split = Path(stored)
        assert split.name.endswith(".arf.split")
        whole = split.with_name(split.name.replace(".arf.split", ".arf.xml.gz"))
        with open_maybe_compressed(split) as arf:
            whole.write_bytes(gzip.compress(arf.read()))
        db.execute("UPDATE scans SET arf_path = ? WHERE id = ?", (str(whole), done["id"]))
    from_whole = Path(cli.ok("report", done["id"], "--oscap", "-o", str(tmp_path / "whole.html")).stdout.strip())
    assert from_whole.read_text(encoding="utf-8") == text

    missing = cli("report", done["id"], "--oscap", "-o", str(tmp_path / "o.html"),
                  env={"PATH": str(tmp_path)})
    assert missing.returncode == 1 and not (tmp_path / "o.html").exists()
    assert missing.stderr.strip() == (
        "error: oscap is not installed on this machine: install openscap-scanner "
        "(or your distribution's openscap package), or leave out --oscap")

    add_fleet_host(cli, fleet, "nooscap")
    failed = scan(cli, "nooscap")
    assert failed["status"] == "failed"
    refused = cli("report", failed["id"])
    assert refused.returncode == 1 and "only a completed scan has a report" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    no_arf = cli("report", failed["id"], "--oscap")
    assert no_arf.returncode == 1 and "has no stored OpenSCAP results" in no_arf.stderr


def test_exports_through_the_cli(cli, fleet, known_hosts, tmp_path):
    add_fleet_host(cli, fleet, "u2204", "web1")
    add_fleet_host(cli, fleet, "nooscap")
    done = scan(cli, "web1")
    scan(cli, "nooscap")

    listed = cli.ok("scans", "list", "--json").json()
    assert json.loads(cli.ok("export", "scans", "--format", "json").stdout) == listed
    rows = list(csv.DictReader(io.StringIO(cli.ok("export", "scans", "--format", "csv").stdout)))
    assert [(r["id"], r["host"], r["status"]) for r in rows] == [
        (s["id"], s["host"], s["status"]) for s in listed]
    only = cli.ok("export", "scans", "--format", "csv", "--host", "web1", "--status", "completed").stdout
    assert [r["id"] for r in csv.DictReader(io.StringIO(only))] == [done["id"]]

    out = tmp_path / "fails.json"
    shown = cli.ok("export", "results", done["id"][:8], "--format", "json", "--result", "fail", "-o", str(out))
    assert shown.stdout.strip() == str(out)
    assert json.loads(out.read_text()) == cli.ok("results", done["id"], "--result", "fail", "--json").json()
    # `results --csv` and `export results --format csv` write the same thing
    assert cli.ok("results", done["id"], "--csv").stdout == cli.ok(
        "export", "results", done["id"], "--format", "csv").stdout

    unknown = cli("export", "scans", "--format", "csv", "--host", "nope")
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: no host named 'nope'")
