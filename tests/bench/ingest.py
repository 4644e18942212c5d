"""Ingest: parse and store the largest ARF this machine can make, `compliance-tui import` of a
15 MB ARF whose content is known against a bare parse (as whole processes), and `report` on a
1,500-rule scan. Every measurement is a fresh process; bare and ours alternate in one run."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys

from tests.bench import bigarf, standin
from tests.bench.played import Site
from tests.bench.proc import cli, measured
from tests.bench.report import Figure

SECTION = "ingest"


def child(*args: str, env: dict) -> dict:
    run = measured([sys.executable, "-m", "tests.bench.ingest_child", *args], env)
    return json.loads(run.stdout.strip().splitlines()[-1])


def measure(quick: bool) -> tuple[list[Figure], list[str]]:
    runs = 2 if quick else 5
    site = Site("ingest")
    try:
        env = site.env
        if os.environ.get("COMPLIANCE_TUI_CONTENT_DIRS"):  # the biggest datastream may be newer content
            env = env | {"COMPLIANCE_TUI_CONTENT_DIRS": os.environ["COMPLIANCE_TUI_CONTENT_DIRS"]}
        product, datastream, rules = bigarf.biggest_datastream(site.data)
        big_host = site.add_host("big", product)
        big = bigarf.make(big_host, datastream, rules, site.base / "big")
        cis_host = site.add_host("cis", "ubuntu2204")
        _, cis = standin.record(cis_host, site.base / "cis")
        site.fleet.stop()  # the played hosts are not needed any more: free their CPU
        data = site.data

        # hosts added first: `import --create-host` fails on this store (a tuple bound for tags)
        for n in range(runs + 1):
            cli(env, "hosts", "add", f"big-{n}", "--address", f"10.8.0.{n + 1}")
            cli(env, "hosts", "add", f"cis-{n}", "--address", f"10.9.0.{n + 1}")
        first = cli(env, "import", str(big), "--host", "big-0", "--yes", "--json")
        cli(env, "import", str(cis), "--host", "cis-0", "--yes", "--json")
        bare, reads, ours, bare_proc, ours_proc, reports = [], [], [], [], [], []
        scan_id = first.json()[0]["id"]
        for n in range(1, runs + 1):
            bare.append(child("lxml", str(big), env=env))
            reads.append(child("read", str(big), env=env))
            ours.append(child("store", str(big), str(data), f"big-{n}", env=env))
            bare_proc.append(measured([sys.executable, "-c",
                                       f"import lxml.etree as e; e.parse({str(cis)!r})"], env).wall)
            ours_proc.append(cli(env, "import", str(cis), "--host", f"cis-{n}", "--yes").wall)
            reports.append(cli(env, "report", scan_id, "-o", str(site.base / "report.html")))
        big_mb = big.stat().st_size / 2**20
        cis_mb = cis.stat().st_size / 1e6
        rule_count = ours[0]["rules"]
    finally:
        site.close()
        shutil.rmtree(site.base, ignore_errors=True)
    bare_s = statistics.median(r["seconds"] for r in bare)
    ours_s = statistics.median(r["seconds"] for r in ours)
    peak = statistics.median(r["peak_mb"] for r in ours)
    read_s = statistics.median(r["seconds"] for r in reads)
    bare_peak = statistics.median(r["peak_mb"] for r in bare)
    report_s = statistics.median(r.wall for r in reports)
    report_rss = statistics.median(r.max_rss_mb for r in reports)
    big_name = f"{datastream.parent.name}/{datastream.name}"
    figures = [
        Figure(SECTION, "parse + store the largest ARF / bare lxml parse", ours_s / bare_s, "x", 1.5, runs=runs,
               method=f"every rule of the biggest playable datastream ({big_name}, {len(rules)} rules, selected "
                      f"by a tailoring with every group and rule) run by the real oscap on a played {product} "
                      f"host: a {big_mb:.1f} MiB ARF with {rule_count} results. In a fresh process each: "
                      f"core.results.importer.import_files into a store that knows the content "
                      f"({ours_s:.2f} s) against `lxml.etree.parse` ({bare_s:.2f} s); alternating.",
               limit=f"reading the results alone (core.results.xccdf.read_test_results, the safe streaming "
                     f"reader the importer uses) takes {read_s:.2f} s, {read_s / bare_s:.1f}x the bare parse, "
                     f"measured the same way; the rest ({max(0.0, ours_s - read_s):.2f} s) is hashing the "
                     "file, planning and the store's transaction."),
        Figure(SECTION, "parse + store, peak memory / file size", peak / big_mb, "x", 3, runs=runs,
               method=f"peak RSS (VmHWM, reset through /proc/self/clear_refs) minus RSS before the import, "
                      f"{peak:.0f} MiB, over the file's {big_mb:.1f} MiB (a bare lxml parse of it: "
                      f"{bare_peak:.0f} MiB).",
               limit="the ARF is parsed as a whole tree (lxml keeps every node, several times the text)."),
        Figure(SECTION, "`compliance-tui import` 15 MB ARF (content known) / `python -c` parse",
               statistics.median(ours_proc) / statistics.median(bare_proc), "x", 2, runs=runs,
               method=f"whole processes: `compliance-tui import` of a real CIS L1 ARF ({cis_mb:.1f} MB, Ubuntu "
                      f"22.04, recorded on a played host) into a store that has its rule texts "
                      f"({statistics.median(ours_proc):.2f} s) against `python -c \"import lxml.etree as e; "
                      f"e.parse(F)\"` ({statistics.median(bare_proc):.2f} s); alternating.",
               limit="the CLI's start: it imports every command's modules (asyncssh, the scan and fix "
                     "code: about 0.5 s under cProfile here) before importing a file; then the results "
                     "reader, slower than a bare parse (see above), and the store's transaction."),
        Figure(SECTION, f"`compliance-tui report` on a {rule_count}-rule scan", report_s, "s", 1.0, op="<",
               runs=runs, method="wall of the whole process writing the HTML report of the imported big scan.",
               limit="the CLI's start (about 0.5 s of imports, as above) plus rendering every rule's text."),
        Figure(SECTION, f"`compliance-tui report` on a {rule_count}-rule scan, peak RSS", report_rss, "MiB",
               op="", runs=runs,
               method=f"peak RSS (VmHWM, polled from /proc) of that process; bounded: it reads the store, not the {big_mb:.0f} MiB ARF."),
        Figure(SECTION, "first import of the largest ARF (content not yet known)", first.wall, "s", op="",
               runs=1, method="`compliance-tui import`, whole process, rule texts read and stored once."),
    ]
    return figures, [f"Largest ARF: {big_name} on a played {product} host, {big_mb:.1f} MiB."]
