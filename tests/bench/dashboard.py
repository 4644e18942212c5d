"""The 30-day trend and "latest scan of every host" queries on a synthetic store of 500 hosts
with a year of daily scans: bench_dashboard.py's store and timings, reused."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from core import paths
from tests.bench import bench_dashboard as board
from tests.bench.report import Figure

SECTION = "store"


def measure(quick: bool) -> tuple[list[Figure], list[str]]:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard.") as tmp:
        data_dir = Path(tmp) / "data"
        begin = time.perf_counter()
        asyncio.run(board.build(data_dir))
        built, size = time.perf_counter() - begin, paths.database(data_dir).stat().st_size / 1e6
        queries = asyncio.run(board.time_queries(data_dir))
    store = (f"bench_dashboard.py's store: {board.HOSTS} hosts x {board.DAYS} daily scans "
             f"({board.HOSTS * board.DAYS:,} scans, {size:.0f} MB, built in {built:.0f} s with the store's schema)")
    figures = [
        Figure(SECTION, "\"latest scan of every host\" query", queries["latest"] * 1000, "ms", 50, op="<",
               runs=board.ROUNDS, method=f"{store}; `store.latest_completed_scans()`, timed in process.",
               limit="one pass over every host's newest completed scan."),
        Figure(SECTION, "30-day trend query (all hosts)", queries["trend"] * 1000, "ms", 50, op="<",
               runs=board.ROUNDS, method="same store; `store.score_points(since 30 days ago)`.",
               limit="about 15,000 score points read and turned into Python objects."),
        Figure(SECTION, "Dashboard read model (both, and the rest)", queries["view"] * 1000, "ms", op="",
               runs=board.ROUNDS, method="same store; `core.views.dashboard.dashboard_view`, for context."),
    ]
    return figures, []
