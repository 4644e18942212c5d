"""Speed of the Dashboard on a big fleet: 500 hosts with a year of daily scans.

Goals (issue 14): the Dashboard's first paint and its refresh under 200 ms each; the "latest
scan of every host" and the 30-day trend queries under 50 ms each.
Run: python -m tests.bench.bench_dashboard   (prints the figures; no root, no fleet needed)

The synthetic store: 500 hosts, one completed scan a day for 365 days each (182,500 scans
with their result counts and scores), rule results (190 rules) for each host's last two
scans, one schedule over every host, and one exception. It is written with SQLite's own
bulk inserts after the store has created the schema: through the store's API a year of scans
would take minutes to build, and the reads measured are the store's own.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core import paths
from core.domain.policy import RuleException, Schedule
from core.domain.timeutil import to_iso
from core.store.sqlite import SqliteStore
from core.views.dashboard import dashboard_view

HOSTS, DAYS, RULES = 500, 365, 190
PAINT_BUDGET, QUERY_BUDGET = 0.200, 0.050
ROUNDS = 5
POLL = 0.001
NOW = datetime.now(timezone.utc).replace(microsecond=0)
CONTENT = "b" * 64


def verdict(seconds: float, budget: float) -> str:
    return f"{seconds * 1000:7.1f} ms  (budget {budget * 1000:.0f} ms: {'ok' if seconds <= budget else 'OVER'})"


async def build(data_dir: Path) -> None:
    db_path = paths.database(data_dir)
    store = await SqliteStore.open(db_path)  # the schema, through the store's migrations
    await store.close()
    draw = random.Random(14)
    rules = [f"xccdf_org.ssgproject.content_rule_bench_{i:03d}" for i in range(RULES)]
    db = sqlite3.connect(db_path)
    with db:
        db.execute("INSERT INTO meta (key, value) VALUES ('localhost_registered', '1')")
        db.execute("INSERT INTO contents (id, file_name, benchmark_id, version, added_at) VALUES (?, ?, ?, ?, ?)",
                   (CONTENT, "ssg-bench-ds.xml", "bench", "0.1.65", to_iso(NOW)))
        db.executemany("INSERT INTO rules (content_id, rule_id, title, severity) VALUES (?, ?, ?, ?)",
                       [(CONTENT, r, f"Bench rule {i}", ("high", "medium", "low")[i % 3]) for i, r in enumerate(rules)])
        db.executemany("INSERT INTO hosts (id, name, address, created_at, tags, status) VALUES (?, ?, ?, ?, ?, ?)",
                       [(h + 1, f"host{h:03d}", f"10.1.{h // 250}.{h % 250 + 1}", to_iso(NOW - timedelta(days=DAYS)),
                         '["web"]' if h % 2 else '["db"]', "online") for h in range(HOSTS)])
        scans, results = [], []
        levels = [draw.uniform(35, 95) for _ in range(HOSTS)]
        for day in range(DAYS):  # in time order, as a real store fills up
            for h in range(HOSTS):
                created = NOW - timedelta(days=DAYS - day, hours=draw.random())
                levels[h] = min(99.0, max(20.0, levels[h] + draw.uniform(-1.5, 1.6)))
                good = round(levels[h] * 1.6)
                bad = 160 - good
                scan_id = str(uuid.UUID(int=draw.getrandbits(128), version=4))
                scans.append((scan_id, h + 1, "cis-level1-server", "xccdf_org.ssgproject.content_profile_cis_level1_server",
                              CONTENT, "completed", 190, 190, good, bad, 0, 0, 30, round(100 * good / 160, 1),
                              to_iso(created), to_iso(created + timedelta(seconds=2)), to_iso(created + timedelta(seconds=40))))
                if day >= DAYS - 2:  # rule results of the last two scans
                    failing = set(draw.sample(range(RULES), bad))
                    results += [(scan_id, r, "fail" if i in failing else ("pass" if i < 160 else "notapplicable"),
                                 "medium") for i, r in enumerate(rules)]
        db.executemany(
            "INSERT INTO scans (id, host_id, profile, profile_id, content_id, status, progress_done, progress_total, "
            "n_pass, n_fail, n_error, n_unknown, n_notapplicable, score, created_at, started_at, finished_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", scans)
        db.executemany("INSERT INTO rule_results (scan_id, rule_id, result, severity) VALUES (?, ?, ?, ?)", results)
    db.execute("ANALYZE")
    db.close()
    store = await SqliteStore.open(db_path)
    await store.add_schedule(Schedule("all", (), "cis-level1-server", "daily 02:00", "UTC",
                                      not_before=to_iso(NOW - timedelta(days=30))))
    await store.add_exception(RuleException("tag", rules[0], "bench", "bench", "2999-12-31", tag="web",
                                             status="approved", decided_by="bench"))
    await store.close()


async def time_queries(data_dir: Path) -> dict[str, float]:
    store = await SqliteStore.open(paths.database(data_dir))
    since = to_iso(NOW - timedelta(days=30))
    figures: dict[str, list[float]] = {"latest": [], "trend": [], "view": []}
    try:
        for _ in range(ROUNDS):
            begin = time.perf_counter()
            latest = await store.latest_completed_scans()
            figures["latest"].append(time.perf_counter() - begin)
            begin = time.perf_counter()
            points = await store.score_points(since)
            figures["trend"].append(time.perf_counter() - begin)
            begin = time.perf_counter()
            await dashboard_view(store, NOW)
            figures["view"].append(time.perf_counter() - begin)
        assert len(latest) == HOSTS and len(points) >= HOSTS * 29, (len(latest), len(points))
    finally:
        await store.close()
    return {k: statistics.median(v) for k, v in figures.items()}


async def time_screen(data_dir: Path) -> dict[str, float]:
    from tui.app import ComplianceApp
    from tui.screens.dashboard import DashboardScreen
    from tui.widgets.keyed_table import KeyedTable

    drawn: list[float] = []
    loaded: list[float] = []
    mounted: list[float] = []
    render_line = KeyedTable.render_line
    on_loaded = DashboardScreen.on_dashboard_screen_loaded
    on_mount = DashboardScreen.on_mount

    def timed_render_line(table, y):
        strip = render_line(table, y)
        if y > 0 and table.row_count and table.id == "fleet":
            drawn.append(time.perf_counter())
        return strip

    complete: list[float] = []

    def timed_loaded(screen, message):
        on_loaded(screen, message)
        loaded.append(time.perf_counter())
        if message.board.complete:
            complete.append(loaded[-1])

    def timed_mount(screen):
        mounted.append(time.perf_counter())
        on_mount(screen)

    KeyedTable.render_line = timed_render_line
    DashboardScreen.on_dashboard_screen_loaded = timed_loaded
    DashboardScreen.on_mount = timed_mount
    figures: dict[str, float] = {}
    try:
        started = time.perf_counter()
        app = ComplianceApp(data_dir, cursor_blink=False, clock=lambda: NOW)
        async with app.run_test(size=(120, 40)) as pilot:
            while not (loaded and drawn and drawn[-1] > loaded[0]):
                await asyncio.sleep(POLL)
            painted = min(t for t in drawn if t > loaded[0])
            figures["first paint, from app start"] = painted - started
            figures["first paint, from screen mount"] = painted - mounted[0]
            while not (complete and drawn[-1] > complete[0]):
                await asyncio.sleep(POLL)
            figures["all of it painted, from mount"] = min(t for t in drawn if t > complete[0]) - mounted[0]
            await pilot.pause(0.5)  # content discovery and the first schedule look settle
            refreshes = []
            for _ in range(ROUNDS):
                await pilot.pause(0.05)
                count, begin = len(loaded), time.perf_counter()
                app.screen.action_reload()
                while not (len(loaded) > count and drawn and drawn[-1] > loaded[-1]):
                    await asyncio.sleep(POLL)
                refreshes.append(min(t for t in drawn if t > loaded[-1]) - begin)
            figures["refresh (r), painted"] = statistics.median(refreshes)
            assert app.screen.query_one("#fleet", KeyedTable).row_count == HOSTS
    finally:
        KeyedTable.render_line = render_line
        DashboardScreen.on_dashboard_screen_loaded = on_loaded
        DashboardScreen.on_mount = on_mount
    return figures


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard.") as tmp:
        data_dir = Path(tmp) / "data"
        print(f"building the store: {HOSTS} hosts x {DAYS} daily scans…", flush=True)
        begin = time.perf_counter()
        asyncio.run(build(data_dir))
        print(f"  built in {time.perf_counter() - begin:.1f} s "
              f"({paths.database(data_dir).stat().st_size / 1e6:.0f} MB)", flush=True)
        queries = asyncio.run(time_queries(data_dir))
        asyncio.run(time_screen(data_dir))  # warm: content discovery, imports, OS caches
        screen = asyncio.run(time_screen(data_dir))
    print(f"\nDashboard: {HOSTS} hosts, {HOSTS * DAYS:,} completed scans, medians of {ROUNDS}")
    print(f"latest scan of every host      {verdict(queries['latest'], QUERY_BUDGET)}")
    print(f"30-day trend (all hosts)       {verdict(queries['trend'], QUERY_BUDGET)}")
    print(f"whole read model               {verdict(queries['view'], PAINT_BUDGET)}")
    for name, seconds in screen.items():
        print(f"{name:31}{verdict(seconds, PAINT_BUDGET)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
