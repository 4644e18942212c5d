"""CSV and JSON exports of scans and rule results: round trips, filters, formula injection."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
from dataclasses import replace

import pytest

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import Host
from core.results import exports
from core.views.serialize import result_to_dict, scan_to_dict
from core.workspace import Workspace
from tests.seed import data_dir_with_index, seed_completed_scan, seed_failed_scan, seed_job

RULE = "xccdf_org.ssgproject.content_rule_"
FORMULA_HOST = "=HYPERLINK(\"http://evil\",\"x\")"


@pytest.fixture(scope="module")
async def fleet_store(tmp_path_factory, content_index, oscap_results):
    """Two completed scans of web1 and db1, a failed one and a pending one of a hostile host."""
    directory = data_dir_with_index(tmp_path_factory.mktemp("exports") / "data", content_index)
    workspace = await Workspace.open(directory)
    store = workspace.store
    web = await seed_completed_scan(workspace, "web1", oscap_results.arf,
                                    created_at="2026-01-02T03:04:05.000000Z")
    db = await seed_completed_scan(workspace, "db1", oscap_results.arf)
    evil = await store.add_host(Host(name=FORMULA_HOST, address="127.0.0.1"))  # store-level: no validation
    await seed_failed_scan(store, evil, "-1+2 @SUM(A1) cmd|' /C calc'!A0")
    await seed_job(store, evil, start=False)  # stays pending
    # a rule title a spreadsheet would run as a formula
    victim = await store.rule_info(web.content_id, RULE + "accounts_tmout")
    await store.save_content(web.content_id, "x", None, None, [replace(victim, title="+cmd|' /C calc'!A0")])
    yield workspace, web, db
    await workspace.close()


def render(write, items, fmt: str) -> str:
    out = io.StringIO(newline="")
    write(items, fmt, out)
    return out.getvalue()


def unquote(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def as_number(cell: str):
    return None if cell == "" else float(cell)


# --------------------------------------------------------------------------- scans

async def test_scan_csv_round_trips_to_the_store(fleet_store):
    workspace, _, _ = fleet_store
    scans = await workspace.store.find_scans()
    assert len(scans) == 4
    rows = list(csv.DictReader(io.StringIO(render(exports.write_scans, scans, "csv"))))
    assert list(rows[0]) == list(exports.SCAN_COLUMNS)
    assert [r["id"] for r in rows] == [s.id for s in scans]
    for row, scan in zip(rows, scans):
        assert unquote(row["host"]) == scan.host_name
        assert row["profile"] == scan.profile and row["status"] == scan.status.value
        assert row["profile_id"] == (scan.profile_id or "")
        assert as_number(row["score"]) == scan.score
        for column, result in (("passed", "pass"), ("failed", "fail"), ("error", "error"),
                               ("unknown", "unknown"), ("notapplicable", "notapplicable"),
                               ("notchecked", "notchecked")):
            assert int(row[column]) == scan.counts.get(result, 0)
        assert int(row["total"]) == scan.total and as_number(row["duration_s"]) == scan.duration_s
        assert (row["created"], row["started"] or None, row["finished"] or None) == (
            scan.created_at, scan.started_at, scan.finished_at)
        assert row["content_file"] == (scan.content_file or "")
        assert row["content_sha256"] == (scan.content_id or "")
        assert unquote(row["error_message"]) == (scan.error_message or "")
    completed = next(r for r in rows if r["host"] == "web1")
    assert completed["score"] == "58.3" and completed["passed"] == "95" and completed["failed"] == "68"
    assert completed["content_file"] == "ssg-ubuntu2204-ds.xml"


async def test_scan_json_is_the_serialize_shape(fleet_store):
    workspace, _, _ = fleet_store
    scans = await workspace.store.find_scans()
    text = render(exports.write_scans, scans, "json")
    assert json.loads(text) == [scan_to_dict(s) for s in scans]
    assert FORMULA_HOST in [s["host"] for s in json.loads(text)]  # JSON is data, never neutralised


async def test_formula_cells_are_neutralised(fleet_store):
    workspace, web, _ = fleet_store
    scans = await workspace.store.find_scans()
    rows = list(csv.reader(io.StringIO(render(exports.write_scans, scans, "csv"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert f"'{FORMULA_HOST}" in cells
    assert "'-1+2 @SUM(A1) cmd|' /C calc'!A0" in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)

    results = await workspace.store.rule_results(web.id)
    titles = {r[0]: r[1] for r in csv.reader(io.StringIO(render(exports.write_results, results, "csv")))}
    assert titles[RULE + "accounts_tmout"] == "'+cmd|' /C calc'!A0"

    assert [exports.safe_cell(v) for v in ("=1", "+1", "-1", "@x", "\tx", "\rx", "a=b", "", None, 58.3, 0, -2)] == [
        "'=1", "'+1", "'-1", "'@x", "'\tx", "'\\x0dx", "a=b", "", "", 58.3, 0, -2]


# --------------------------------------------------------------------------- results

async def test_results_round_trip_in_both_formats(fleet_store):
    workspace, web, _ = fleet_store
    results = await workspace.store.rule_results(web.id)
    assert len(results) == web.total
    rows = list(csv.DictReader(io.StringIO(render(exports.write_results, results, "csv"))))
    base = ["rule_id", "title", "severity", "result"]
    assert list(rows[0]) == base + ["seconds", "exception_reason", "exception_expires"]  # empty: no exception here
    assert {(r["exception_reason"], r["exception_expires"]) for r in rows} == {("", "")}
    assert [{k: unquote(r[k]) if k == "title" else r[k] for k in base} for r in rows] == [
        {k: result_to_dict(r)[k] for k in base} for r in results]
    assert json.loads(render(exports.write_results, results, "json")) == [result_to_dict(r) for r in results]


async def test_files_respect_filters_and_land_in_exports(fleet_store, tmp_path):
    workspace, web, _ = fleet_store
    path = await exports.export_scans_to_file(workspace, "json", host="web1")
    assert path.parent == workspace.data_dir / "exports"
    assert re.fullmatch(r"scans-\d{8}-\d{6}\.json", path.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [s["id"] for s in json.loads(path.read_text(encoding="utf-8"))] == [web.id]

    path = await exports.export_scans_to_file(workspace, "csv", status="failed", path=tmp_path / "f.csv")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["failed"]

    path = await exports.export_results_to_file(workspace, web.short_id, "csv", result="fail")
    assert re.fullmatch(rf"web1-{web.short_id}-results-\d{{8}}-\d{{6}}\.csv", path.name)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == web.counts["fail"] and {r["result"] for r in rows} == {"fail"}
    expected = await workspace.store.rule_results(web.id, "fail", order="severity")
    assert [r["rule_id"] for r in rows] == [r.rule_id for r in expected]


async def test_bad_filters_and_formats_are_refused(fleet_store):
    workspace, web, _ = fleet_store
    with pytest.raises(InvalidInput, match="use csv or json"):
        await exports.export_scans_to_file(workspace, "xlsx")
    with pytest.raises(InvalidInput, match="unknown status 'done'"):
        await exports.export_scans_to_file(workspace, "csv", status="done")
    with pytest.raises(NotFound, match="no host named 'nope'"):
        await exports.export_scans_to_file(workspace, "csv", host="nope")
    with pytest.raises(InvalidInput, match="unknown result 'failed'"):
        await exports.export_results_to_file(workspace, web.id, "csv", result="failed")
    with pytest.raises(NotFound):
        await exports.export_results_to_file(workspace, "00000000", "json")


def test_export_path_and_file_safe_names(tmp_path):
    path = exports.export_path(tmp_path, "scans", "csv")
    assert path.parent == tmp_path / "exports" and re.fullmatch(r"scans-\d{8}-\d{6}\.csv", path.name)
    assert exports.file_safe("../x/<y>") == "_x__y_" and exports.file_safe("web-1.example") == "web-1.example"
