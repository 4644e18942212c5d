"""Results files made by real oscap elsewhere become scans like any other."""

from __future__ import annotations

import bz2
import gzip
import sqlite3
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import add_fleet_host, made_once
from tests.oscap_results import CIS_L1_SERVER, produce_results

XCCDF = "http://checklists.nist.gov/xccdf/1.2"
CIS_L2_SERVER = "xccdf_org.ssgproject.content_profile_cis_level2_server"


@pytest.fixture(scope="module")
def made_elsewhere(tmp_path_factory):
    """Real oscap output: Ubuntu 22.04 L1 (ARF and plain XCCDF) and Ubuntu 20.04 L2 (ARF)."""
    l1 = made_once(tmp_path_factory, "oscap-l1", lambda d: produce_results(d))
    l2_2004 = made_once(tmp_path_factory, "oscap-u2004-l2", lambda d: produce_results(d, "ubuntu2004", CIS_L2_SERVER))
    return {"arf": l1 / "arf.xml", "xccdf": l1 / "xccdf.xml", "arf_2004_l2": l2_2004 / "arf.xml"}


def compressed(path: Path, kind: str, where: Path) -> Path:
    data = path.read_bytes()
    target = where / f"{path.name}.{kind}"
    target.write_bytes(gzip.compress(data) if kind == "gz" else bz2.compress(data))
    return target


def own_results(path: Path) -> dict[str, str]:
    tree = etree.parse(str(path))
    return {r.get("idref"): r.findtext(f"{{{XCCDF}}}result") for r in tree.iter(f"{{{XCCDF}}}rule-result")
            if r.findtext(f"{{{XCCDF}}}result") != "notselected"}


def imported(cli, *args):
    return cli.ok("import", *args, "--json").json()


def results_of(cli, scan_id) -> dict[str, str]:
    return {r["rule_id"]: r["result"] for r in cli.ok("results", scan_id, "--json").json()}


def test_arf_xccdf_and_compressed_files_import_the_same(cli, made_elsewhere, tmp_path):
    cli.ok("hosts", "add", "airgap", "--address", "10.1.2.3")
    expected = own_results(made_elsewhere["xccdf"])
    variants = [made_elsewhere["arf"], made_elsewhere["xccdf"],
                compressed(made_elsewhere["arf"], "gz", tmp_path),
                compressed(made_elsewhere["xccdf"], "bz2", tmp_path)]
    scans = []
    for index, path in enumerate(variants):
        if index:  # each variant is the same TestResult: a fresh host takes it once more
            cli.ok("hosts", "add", f"airgap{index}", "--address", "10.1.2.3")
        (scan,) = imported(cli, str(path), "--host", "airgap" + (str(index) if index else ""), "--yes")
        assert scan["status"] == "completed" and scan["imported"]["file"] == path.name
        assert results_of(cli, scan["id"]) == expected
        scans.append(scan)
    assert len({s["score"] for s in scans}) == 1
    assert scans[0]["profile"] == {"name": "cis-level1-server", "xccdf_id": CIS_L1_SERVER, "framework": "cis"}
    titles = cli.ok("results", scans[0]["id"], "--result", "fail", "--json").json()
    assert all(r["title"] for r in titles)


def test_import_equals_a_scan_of_the_same_host(cli, fleet, known_hosts, tmp_path, datastream_path):
    add_fleet_host(cli, fleet, "u2204")
    (scan,) = cli.ok("scan", "u2204", "--profile", "cis-level1-server", "--json").json()
    arf = tmp_path / "elsewhere-arf.xml"
    done = fleet.hosts["u2204"].run_inside([
        "oscap", "xccdf", "eval", "--profile", CIS_L1_SERVER, "--results-arf", str(arf),
        str(datastream_path(scan["content"]["sha256"]))])
    assert done.returncode in (0, 2)
    (imported_scan,) = imported(cli, str(arf), "--host", "u2204", "--yes")
    assert imported_scan["score"] == scan["score"]
    assert results_of(cli, imported_scan["id"]) == results_of(cli, scan["id"])
    # it joins the host's history: listed with the scans the dashboard ran
    listed = [s["id"] for s in cli.ok("scans", "list", "--host", "u2204", "--json").json()]
    assert set(listed) == {scan["id"], imported_scan["id"]}


def test_other_profile_and_content(cli, made_elsewhere):
    (scan,) = imported(cli, str(made_elsewhere["arf_2004_l2"]), "--host", "focal", "--create-host")
    assert scan["profile"]["name"] == "cis-level2-server"
    assert scan["content"]["file"] == "ssg-ubuntu2004-ds.xml"  # the installed twin of the embedded one
    assert scan["total"] == 275


def bare_test_result(plain: Path, where: Path, version: str | None = None) -> Path:
    """Only the TestResult element: what some tools keep without the benchmark."""
    tree = etree.parse(str(plain))
    test_result = next(tree.iter(f"{{{XCCDF}}}TestResult"))
    if version:
        test_result.set("version", version)
    target = where / "bare.xml"
    target.write_bytes(etree.tostring(test_result))
    return target


def test_a_file_without_benchmark_takes_rule_texts_from_local_content(cli, made_elsewhere, tmp_path):
    bare = bare_test_result(made_elsewhere["xccdf"], tmp_path)
    (scan,) = imported(cli, str(bare), "--host", "web", "--create-host", "--yes")
    assert scan["notice"] is None
    assert all(r["title"] for r in cli.ok("results", scan["id"], "--json").json())


def test_a_file_without_benchmark_or_matching_content_keeps_ids_only(cli, made_elsewhere, tmp_path):
    bare = bare_test_result(made_elsewhere["xccdf"], tmp_path, version="9.9.9")
    (scan,) = imported(cli, str(bare), "--host", "web", "--create-host", "--yes")
    assert "rule texts unavailable" in scan["notice"]
    rows = cli.ok("results", scan["id"], "--json").json()
    assert rows and all(r["title"] == "" for r in rows)
    assert {r["rule_id"]: r["result"] for r in rows} == own_results(made_elsewhere["xccdf"])


def test_two_test_results_become_two_scans(cli, made_elsewhere, tmp_path):
    tree = etree.parse(str(made_elsewhere["xccdf"]))
    first = next(tree.iter(f"{{{XCCDF}}}TestResult"))
    second = etree.fromstring(etree.tostring(first))
    second.set("start-time", "2026-01-02T03:04:05")
    second.set("end-time", "2026-01-02T03:05:05")
    for result in second.iter(f"{{{XCCDF}}}result"):
        if result.text == "fail":
            result.text = "pass"  # the later run after hardening
    first.addnext(second)
    both = tmp_path / "two.xml"
    tree.write(str(both))
    scans = imported(cli, str(both), "--host", "web", "--create-host", "--yes")
    assert len(scans) == 2 and scans[1]["failed"] == 0 and scans[1]["score"] == 100.0
    assert scans[1]["started"].startswith("2026-01-02T")


def test_the_same_test_result_twice_is_refused_and_nothing_is_half_stored(cli, made_elsewhere, data_dir):
    imported(cli, str(made_elsewhere["arf"]), "--host", "web", "--create-host", "--yes")
    again = cli("import", str(made_elsewhere["arf"]), "--host", "web", "--yes")
    assert again.returncode == 1 and "already imported" in again.stderr
    with sqlite3.connect(data_dir / "compliance.db") as db:
        assert db.execute("SELECT COUNT(*) FROM scans").fetchone()[0] == 1
    assert len(list((data_dir / "evidence").iterdir())) == 1


def test_a_different_target_needs_confirmation(cli, made_elsewhere):
    cli.ok("hosts", "add", "db9", "--address", "10.9.9.9")
    refused = cli("import", str(made_elsewhere["arf"]), "--host", "db9")
    assert refused.returncode == 1 and "not db9" in refused.stderr and "--yes" in refused.stderr
    assert cli.ok("scans", "list", "--json").json() == []
    imported(cli, str(made_elsewhere["arf"]), "--host", "db9", "--yes")


@pytest.mark.parametrize("content,message", [
    (b"this is not xml", "not well-formed"),
    (b"<?xml version='1.0'?><report><item/></report>", "not SCAP results"),
    (b"<?xml version='1.0'?><TestResult xmlns='" + XCCDF.encode() + b"' id='t'><rule-result", "not well-formed"),
    (b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/shadow'>]>"
     b"<TestResult xmlns='" + XCCDF.encode() + b"' id='t'><rule-result idref='r'><result>&x;</result>"
     b"</rule-result></TestResult>", ""),
])
def test_bad_and_hostile_files_get_a_clear_error(cli, tmp_path, data_dir, content, message):
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    result = cli("import", str(path), "--host", "web", "--create-host")
    assert result.returncode == 1 and result.stderr.startswith("error: bad.xml: ")
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "root:" not in result.stderr
    with sqlite3.connect(data_dir / "compliance.db") as db:
        assert db.execute("SELECT COUNT(*) FROM scans").fetchone()[0] == 0


def test_a_decompression_bomb_is_refused(cli, tmp_path):
    bomb = tmp_path / "bomb.xml.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as out:
        out.write(b"<?xml version='1.0'?><TestResult xmlns='" + XCCDF.encode() + b"' id='t'><x>")
        chunk = b"<x>" + b" " * (1 << 20) + b"</x>"  # text nodes stay below libxml2's own limit
        for _ in range(1040):  # 1.02 GiB of XML
            out.write(chunk)
    result = cli("import", str(bomb), "--host", "web", "--create-host")
    assert result.returncode == 1 and "refusing it" in result.stderr


def test_a_refused_import_leaves_no_created_host(cli, made_elsewhere, tmp_path):
    tree = etree.parse(str(made_elsewhere["xccdf"]))
    first = next(tree.iter(f"{{{XCCDF}}}TestResult"))
    second = etree.fromstring(etree.tostring(first))
    second.set("start-time", "2026-01-02T03:04:05")
    second.find(f"{{{XCCDF}}}target").text = "some-other-machine"
    first.addnext(second)
    mixed = tmp_path / "mixed.xml"
    tree.write(str(mixed))
    refused = cli("import", str(mixed), "--host", "fresh", "--create-host")
    assert refused.returncode == 1 and "some-other-machine" in refused.stderr
    assert "fresh" not in [h["name"] for h in cli.ok("hosts", "list", "--json").json()]
