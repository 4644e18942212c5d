"""Store growth: database bytes per stored scan of 600 rule results, from real scans.

A played Ubuntu 22.04 host is scanned by the real CLI with a tailoring that selects 600 rules
(and every group) of the Ubuntu 22.04 datastream the app picks, so each scan stores 600 rule
results, its job and its log as a real one does. The database is VACUUMed before and after
N scans (no process has it open then), so the growth is pages really used, not free pages.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core import paths
from core.results import xccdf
from tests.bench import bigarf
from tests.bench.played import Site
from tests.bench.report import Figure
from tests.oscap_results import CIS_L1_SERVER

RULES = 600


def vacuumed_size(data: Path) -> int:
    db = sqlite3.connect(paths.database(data))
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        (pages,), (size,) = db.execute("PRAGMA page_count").fetchone(), db.execute("PRAGMA page_size").fetchone()
        return pages * size
    finally:
        db.close()


def measure(quick: bool) -> tuple[list[Figure], list[str]]:
    scans = 3 if quick else 6
    site = Site("store", keep_content=True)  # 600 rules need newer Ubuntu 22.04 content than 0.1.65's 592
    try:
        host = site.add_host("u2204")
        site.register("u2204", host)
        site.cli("hosts", "detect", "u2204")
        first = site.cli("scan", "u2204", "--profile", "cis-level1-server", "--json").json()[0]
        datastream = next(d for d in _ubuntu2204(site) if d[0] == first["content"]["sha256"])[1]
        rules = dict(list(xccdf.read_rules(datastream).items())[:RULES])
        tailored, profile = bigarf.tailoring(datastream, rules, CIS_L1_SERVER, site.base / "600.xml")
        tailoring_args = ["--tailoring", str(tailored)]
        warm = site.cli("scan", "u2204", "--profile", "cis-level1-server", *tailoring_args, "--json").json()[0]
        counted = warm["total"]
        before = vacuumed_size(site.data)
        for _ in range(scans):
            site.cli("scan", "u2204", "--profile", "cis-level1-server", *tailoring_args, "--json")
        after = vacuumed_size(site.data)
        results = _results_of_last(site.data)
    finally:
        site.close()
    per_scan = (after - before) / scans / 1024
    return [Figure(
        "store", f"database bytes per stored scan of {results} rule results", per_scan, "KB", 16, runs=scans,
        method=f"{scans} real scans of a played Ubuntu 22.04 host with a tailoring selecting {RULES} rules of "
               f"{datastream.parent.name}/{datastream.name} ({counted} results in the warm-up scan); growth of the VACUUMed database "
               "(page_count x page_size) over those scans, divided by their number (KB = 1,024 bytes).",
        limit="each rule result row repeats the scan's UUID and the rule id as text, with their indexes "
              "(issue 15, item 5: compact rows)."),
    ], []


def _ubuntu2204(site: Site) -> list[tuple[str, Path]]:
    """(sha256, path) of every Ubuntu 22.04 datastream the app can see."""
    import hashlib

    from core.content.discovery import default_content_dirs

    found = []
    for directory in default_content_dirs(site.data):
        for path in Path(directory).glob("**/ssg-ubuntu2204-ds.xml"):
            found.append((hashlib.sha256(path.read_bytes()).hexdigest(), path))
    return found


def _results_of_last(data: Path) -> int:
    db = sqlite3.connect(paths.database(data))
    try:
        return db.execute("SELECT COUNT(*) FROM rule_results WHERE scan_id = "
                          "(SELECT id FROM scans ORDER BY created_at DESC LIMIT 1)").fetchone()[0]
    finally:
        db.close()
