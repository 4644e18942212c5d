"""Evidence on the test fleet: what it weighs, pruning by policy (CLI and the worker's daily
run), and what stays: results, scores, and the newest scan's ARF."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import add_fleet_host

L1 = "cis-level1-server"


def scan(cli, host: str) -> dict:
    (found,) = cli.ok("scan", host, "--profile", L1, "--json").json()
    assert found["status"] == "completed", found["error_message"]
    return found


def test_prune_keeps_results_and_the_newest_evidence(cli, fleet, known_hosts, data_dir, tmp_path):
    add_fleet_host(cli, fleet, "u2204")
    scans = [scan(cli, "u2204") for _ in range(3)]
    evidence = data_dir / "evidence"
    used = cli.ok("evidence", "du", "--json").json()
    assert used["scans"] == 3 and used["blocks"] == 1 and used["leftover"] == 0
    assert used["scan_bytes"] / 3 < 250_000 < used["block_bytes"]  # per scan: its results; the datastream once
    files = sorted(evidence.glob("*.arf.split"))
    assert len(files) == 3

    planned = cli.ok("evidence", "prune", "--keep-last", "1", "--dry-run", "--json").json()
    assert planned["scans"] == 2 and planned["dry_run"] and len(sorted(evidence.glob("*.arf.split"))) == 3
    said = cli.ok("evidence", "prune", "--keep-last", "1")
    assert said.stdout.startswith("removed the evidence of 2 scan(s) and 0 datastream block(s)")
    newest = scans[-1]["id"]
    assert [f.name for f in evidence.glob("*.arf.split")] == [f"{newest}.arf.split"]
    for old in scans[:2]:  # results and score stay; only OpenSCAP's own report needs the ARF
        assert cli.ok("results", old["id"], "--json").json()
        assert cli.ok("scans", "list", "--json").json()
        refused = cli("report", old["id"], "--oscap")
        assert refused.returncode == 1 and "has no stored OpenSCAP results" in refused.stderr
        assert Path(cli.ok("report", old["id"], "-o", str(tmp_path / f"{old['id']}.html")).stdout.strip()).is_file()
    assert Path(cli.ok("report", newest, "--oscap", "-o", str(tmp_path / "o.html")).stdout.strip()).is_file()

    # the newest of a host and profile keeps its evidence whatever the policy says
    assert cli.ok("evidence", "prune", "--keep-days", "0", "--json").json()["scans"] == 0
    bad = cli("evidence", "prune")
    assert bad.returncode == 1 and bad.stderr.strip() == "error: say what to keep: --keep-days N, --keep-last N, or both"


def test_the_worker_prunes_by_the_config_files_policy(cli, fleet, known_hosts, data_dir, tmp_path):
    add_fleet_host(cli, fleet, "u2204")
    first, second = scan(cli, "u2204"), scan(cli, "u2204")
    config = tmp_path / "config.toml"
    config.write_text("[evidence]\nkeep_last = 1\n")
    stray = data_dir / "evidence" / "deadbeef.arf.split"  # a scan killed after fetching, long ago
    killed_import = data_dir / "evidence" / "import-0123abcd.partial"  # an import killed while packing
    recent_import = data_dir / "evidence" / "import-4567cdef.partial"  # one packing now: left alone
    for path in (stray, killed_import, recent_import):
        path.write_bytes(b"x")
    os.utime(stray, (1, 1))
    os.utime(killed_import, (1, 1))
    assert cli.ok("evidence", "du", "--json").json()["leftover"] == 3
    done = cli("worker", "--once", env={"COMPLIANCE_TUI_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    assert "evidence pruned: 1 scan(s)" in done.stderr
    assert [f.name for f in (data_dir / "evidence").glob("*.arf.*")] == [f"{second['id']}.arf.split"]
    assert not stray.exists() and not killed_import.exists() and recent_import.exists()
    assert cli.ok("results", first["id"], "--json").json()

    config.write_text("[evidence]\nkeep_last = 0\n")
    refused = cli("worker", "--once", env={"COMPLIANCE_TUI_CONFIG": str(config)})
    assert refused.returncode == 1 and "evidence.keep_last must be a whole number, 1 or more" in refused.stderr
    assert json.loads(cli.ok("evidence", "du", "--json").stdout)["scans"] == 1


def test_a_scan_is_signed_and_a_changed_datastream_block_fails_verification(cli, fleet, known_hosts, data_dir):
    add_fleet_host(cli, fleet, "u2204")
    done = scan(cli, "u2204")
    key = cli.ok("keys", "show", "--json").json()["fingerprint"]  # made by the first completed scan
    assert done["signature"]["key"] == key
    checked = cli.ok("evidence", "verify", done["id"], "--json").json()
    assert checked["verified"] == 1 and checked["scans"][0]["problems"] == []
    (block,) = (data_dir / "evidence" / "blocks").glob("*.xz")  # shared by every scan of the datastream
    data = bytearray(block.read_bytes())
    data[len(data) // 2] ^= 0x01
    block.write_bytes(bytes(data))
    failed = cli("evidence", "verify", "--all")
    assert failed.returncode == 1
    assert f"evidence {data_dir / 'evidence' / (done['id'] + '.arf.split')}:" in failed.stdout
