"""TUI figures through Textual's Pilot: first screen, a 1,500-rule Results view, a filter
keystroke (all from bench_tui, reused), and a Compliance refresh with 1,000 scans listed."""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.domain.models import Host, RuleResult, compute_score
from core.domain.timeutil import to_iso
from core.workspace import Workspace
from tests.bench import bench_tui
from tests.bench.report import Figure
from tests.seed import seed_job

SECTION = "TUI"
SCANS = 1000
POLL = 0.001
CONTENT = "c" * 64


async def many_scans(data_dir: Path) -> None:
    """One host with SCANS completed scans over the last 60 days, through the store's API."""
    now = datetime.now(timezone.utc)
    draw = random.Random(15)
    async with await Workspace.open(data_dir, content_dirs=[data_dir / "none"]) as workspace:
        host = await workspace.store.add_host(Host(name="many", address="10.7.7.7"))
        await workspace.store.save_content(CONTENT, "ssg-bench-ds.xml", "bench", "0.1")
        rules = [f"xccdf_org.ssgproject.content_rule_bench_{i:02d}" for i in range(20)]
        for n in range(SCANS):
            created = to_iso(now - timedelta(minutes=90 * (SCANS - n)))
            job = await seed_job(workspace.store, host, created_at=created)
            results = [RuleResult(r, draw.choice(("pass", "pass", "fail")), "medium") for r in rules]
            counts: dict[str, int] = {}
            for result in results:
                counts[result.result] = counts.get(result.result, 0) + 1
            await workspace.store.assign_content(job.scan_id, "xccdf_bench_profile", CONTENT, len(results))
            await workspace.store.complete_scan(job.scan_id, results, counts, compute_score(counts), None, None,
                                                job_id=job.id)


def _rows(screen, screen_class, table_class) -> int | None:
    """Rows in the Compliance screen's scans table; None while it is not up yet."""
    from textual.css.query import NoMatches

    try:
        return screen.query_one("#scans", table_class).row_count if isinstance(screen, screen_class) else None
    except NoMatches:
        return None


async def compliance_refresh(data_dir: Path, rounds: int) -> tuple[float, float | None, int]:
    """Medians: seconds from `r` to the table updated, to it painted; rows listed; the read model alone."""
    from core.views.summaries import host_scans
    from tui.app import ComplianceApp
    from tui.base.screen import BaseScreen
    from tui.screens.compliance import ComplianceScreen
    from tui.widgets.keyed_table import KeyedTable
    from tui.widgets.score_chart import since

    loaded: list[float] = []
    drawn: list[float] = []
    on_loaded, render_line = BaseScreen.on_base_screen_loaded, KeyedTable.render_line

    def timed_loaded(screen, message):
        on_loaded(screen, message)
        if isinstance(screen, ComplianceScreen):
            loaded.append(time.perf_counter())

    def timed_render_line(table, y):
        strip = render_line(table, y)
        if y > 0 and table.row_count and table.id == "scans":
            drawn.append(time.perf_counter())
        return strip

    BaseScreen.on_base_screen_loaded = timed_loaded
    KeyedTable.render_line = timed_render_line
    updated, painted = [], []
    try:
        app = ComplianceApp(data_dir, cursor_blink=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            app.open_compliance("many")
            while _rows(app.screen, ComplianceScreen, KeyedTable) != SCANS:
                await asyncio.sleep(POLL)
            await pilot.pause(0.5)
            rows = app.screen.query_one("#scans", KeyedTable).row_count
            for _ in range(rounds):
                await pilot.pause(0.05)
                count, begin = len(loaded), time.perf_counter()
                app.screen.action_reload()
                while len(loaded) <= count:
                    await asyncio.sleep(POLL)
                updated.append(loaded[-1] - begin)
                deadline = time.perf_counter() + 1.0  # an unchanged table may not repaint at all
                while not (drawn and drawn[-1] > loaded[-1]) and time.perf_counter() < deadline:
                    await asyncio.sleep(POLL)
                after = [t for t in drawn if t > loaded[-1]]
                if after:
                    painted.append(min(after) - begin)
            reads = []  # the read model alone, on the app's own store
            for _ in range(rounds):
                begin = time.perf_counter()
                await host_scans(app.workspace.store, "many", None, "", to_iso(since(app.clock())))
                reads.append(time.perf_counter() - begin)
    finally:
        BaseScreen.on_base_screen_loaded = on_loaded
        KeyedTable.render_line = render_line
    return (statistics.median(updated), statistics.median(painted) if painted else None, rows,
            statistics.median(reads))


def measure(quick: bool) -> tuple[list[Figure], list[str]]:
    rounds = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="bench-tui.") as tmp:
        data_dir = Path(tmp) / "data"
        scan_id, rules = asyncio.run(bench_tui.build_store(data_dir))
        asyncio.run(bench_tui.measure(data_dir, scan_id))  # warm: content index, OS caches
        figures = asyncio.run(bench_tui.measure(data_dir, scan_id))
        imported = bench_tui.import_seconds()
        many = Path(tmp) / "many"
        asyncio.run(many_scans(many))
        asyncio.run(compliance_refresh(many, 1))  # warm
        updated, painted, listed, read = asyncio.run(compliance_refresh(many, rounds))
    opened, open_painted = figures["results open"]
    keys = figures["keystrokes"]
    pilot = "Textual Pilot (app.run_test, 120x40), tests/bench/bench_tui.py's method"
    out = [
        Figure(SECTION, "first screen (import of tui.app + app to Dashboard rows)",
               imported + figures["first screen"], "s", 1.0, op="<", runs=3,
               method=f"median of 3 fresh interpreters importing tui.app ({imported:.2f} s) plus the app started "
                      f"under {pilot} until the Dashboard's fleet table has rows ({figures['first screen']:.2f} s).",
               limit="Textual's and the app's imports, then the first store reads."),
        Figure(SECTION, f"Results view of {figures['rows']} rule results, painted", open_painted, "ms", 0.3,
               op="<", runs=bench_tui.ROUNDS,
               method=f"a store with a result for every rule of the datastream with the most rules ({rules}); "
                      f"push ResultsScreen until its table has drawn rows after holding all of them "
                      f"(rows in the table: {opened * 1000:.0f} ms).",
               limit="building and diffing 1,500 rows in one batch."),
        Figure(SECTION, "filter keystroke, median", statistics.median(keys), "ms", 0.05, op="<", runs=len(keys),
               method=f"keys sent to the driver as a terminal's input (typing `{bench_tui.SEARCH}` and erasing it, "
                      f"{bench_tui.ROUNDS} times, then result/severity filter and sort keys) until the table "
                      f"holds the new rows; worst {max(keys) * 1000:.0f} ms.",
               limit="the query and the table's diff update on every key."),
        Figure(SECTION, f"Compliance refresh with {listed} scans listed", painted if painted else updated, "ms",
               0.1, op="<", runs=rounds,
               method=f"one host with {SCANS} completed scans (store API); `r` (action_reload) until the screen's "
                      f"Loaded handler has updated the table ({updated * 1000:.0f} ms)"
                      + (f" and the table has painted ({painted * 1000:.0f} ms, the figure)" if painted else
                         "; the table did not repaint (rows unchanged), so the figure is the update") + ".",
               limit=f"the read model (core.views.summaries.host_scans: every scan of the host, the jobs of its "
                     f"hardened and unfinished scans, its 30-day trend, exceptions applied) takes {read * 1000:.0f} "
                     "ms of it, timed alone on the same store; the rest is the chart, the table's keys and the "
                     "rows on screen (made when drawn)."),
    ]
    for figure in out:  # bench_tui measures seconds; the table shows ms
        if figure.unit == "ms":
            figure.value *= 1000
            figure.goal *= 1000
    return out, []
