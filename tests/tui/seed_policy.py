"""Issue 14's additions to the seeded fleet of tests/tui/helpers.py: tags, schedules (one that
ran and failed, so web01 is overdue; one paused; one that never ran) and exceptions (one in
force on a rule web01 fails, one expired, whatever today's date). Fixed ids and times, so snapshots come out the same."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from core.domain.policy import RuleException, Schedule
from core.domain.timeutil import to_iso
from core.store.base import NewScanJob
from core.workspace import Workspace
from tests.seed import FAR, SEEDER
from tests.tui.helpers import NOW, ago

SCHEDULE_IDS = {"weekly": "5c4e1d2a-0b3f-4a6e-9d8c-7b6a5f4e3d2c", "daily": "8a7b6c5d-4e3f-4a1b-8c9d-0e1f2a3b4c5d",
                "cron": "c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5"}
SLOT = "2025-03-31T00:00:00.000000Z"  # Monday 02:00 in Europe/Berlin (CEST since 03-30)
EXCEPTED_RULE = "xccdf_org.ssgproject.content_rule_sshd_use_approved_ciphers"


async def seed_policy(data_dir: Path) -> None:
    async with await Workspace.open(data_dir) as workspace:
        store = workspace.store
        web, db = await store.require_host("web01"), await store.require_host("db01")
        await store.update_host(replace(web, tags=("prod", "web")))
        await store.update_host(replace(db, tags=("db", "prod")))
        weekly = await store.add_schedule(Schedule("tag", ("web",), "cis-level1-server", "weekly mon@02:00",
                                                   "Europe/Berlin", not_before=ago(40),
                                                   id=SCHEDULE_IDS["weekly"]))
        scan_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "weekly-slot"))
        (job,) = await store.enqueue_schedule_slot(
            weekly.id, SLOT, [NewScanJob(await store.require_host("web01"), "cis-level1-server", {}, 5, scan_id,
                                         to_iso(NOW - timedelta(hours=11, minutes=59)),
                                         str(uuid.uuid5(uuid.NAMESPACE_URL, scan_id)))],
            "tests:seed", SEEDER, FAR)
        await store.finish_job(job.id, "failed", "web01 (10.0.0.11:22) is unreachable: connection refused",
                               finished_at=to_iso(NOW - timedelta(hours=11, minutes=58)))
        daily = await store.add_schedule(Schedule("hosts", ("db01",), "cis-level2-server", "daily 03:00", "UTC",
                                                  priority=7, not_before=ago(10), id=SCHEDULE_IDS["daily"]))
        await store.update_schedule(replace(daily, paused=True))
        await store.add_schedule(Schedule("all", (), "cis-level1-server", "cron 0 */6 * * *", "UTC",
                                          not_before=ago(0), id=SCHEDULE_IDS["cron"]))
        await store.add_exception(RuleException("host", EXCEPTED_RULE, "legacy clients need CBC ciphers",
                                                "alice", "2099-12-31", host="web01", status="approved",
                                                decided_by="alice", id="e0000000-0000-4000-8000-000000000001"))
        await store.add_exception(RuleException("tag", "xccdf_org.ssgproject.content_rule_package_aide_installed",
                                                "AIDE replaced by the vendor's agent", "bob", "2025-03-01",
                                                tag="db", status="approved", decided_by="bob",
                                                id="e0000000-0000-4000-8000-000000000002"))
