"""The Compliance screen's read model (core.views.summaries.host_scans): unfiltered, the trend and
the latest scan come from the list itself; filtered, from the store; both ways the same scans,
with exceptions applied once, and the jobs of the scans the screen marks."""

from __future__ import annotations

import pytest

from core.domain.models import Host, ScanStatus
from core.store.base import NewScanJob
from core.store.sqlite import SqliteStore
from core.views.summaries import host_scans
from tests.unit.test_exceptions import FAR, completed, exc

PAST = "2000-01-01T00:00:00.000000Z"


@pytest.fixture
async def store(tmp_path):
    store = await SqliteStore.open(tmp_path / "c.db")
    yield store
    await store.close()


def seen(scans) -> list[tuple[str, float | None, float | None]]:
    return [(s.id, s.score, s.score_before_exceptions) for s in scans]


async def test_trend_and_latest_are_the_same_whether_read_again_or_taken_from_the_list(store):
    web = await store.add_host(Host(name="web1", address="10.0.0.1"))
    await store.add_host(Host(name="db1", address="10.0.0.2"))
    older = await completed(store, web, {"a": "fail", "b": "pass"})
    newer = await completed(store, web, {"a": "fail", "b": "pass"})
    (waiting,) = await store.create_scan_jobs([NewScanJob(web, "cis-level1-server", {}, 5)])
    await store.add_exception(exc("host", "a", host="web1"))

    data = await host_scans(store, "web1", since=PAST)
    assert [s.id for s in data.scans] == [waiting.scan_id, newer.id, older.id]
    assert seen(data.trend) == [(older.id, 100.0, 50.0), (newer.id, 100.0, 50.0)]  # applied once, not twice
    assert data.latest is not None and seen([data.latest]) == [(newer.id, 100.0, 50.0)]
    assert seen(s for s in data.scans if s.status is ScanStatus.COMPLETED) == seen([data.latest, data.trend[0]])
    assert list(data.jobs) == [waiting.scan_id] and data.jobs[waiting.scan_id].id == waiting.id
    assert data.statuses == {"completed": 2, "pending": 1}

    for status, search in (("pending", None), ("completed", older.id[:8]), (None, waiting.scan_id[:8])):
        filtered = await host_scans(store, "web1", status, search, since=PAST)
        assert seen(filtered.trend) == seen(data.trend) and seen([filtered.latest]) == seen([data.latest])
    assert [s.id for s in (await host_scans(store, "web1", "completed")).scans] == [newer.id, older.id]
    assert (await host_scans(store, "web1", since=FAR)).trend == []  # nothing that recent
    empty = await host_scans(store, "db1")
    assert (empty.scans, empty.trend, empty.latest, empty.jobs) == ([], [], None, {})
