"""Live progress of a scan: the rule shown as running is the one oscap runs, and every view
(the event hub, the store) gets the latest state soon, even when nothing more happens.

oscap names a rule on its --progress line once it is done with it, so the rule running is
the one after the last reported, in oscap's own order: checked here against the lines of a
real oscap run.
"""

from __future__ import annotations

import asyncio
import time

from core.content.benchmark import selected_rules
from core.domain.models import Host, Job, JobStatus
from core.jobs import submit
from core.jobs.context import JobContext
from core.jobs.runner import Runner
from core.jobs.scan import ScanProgress
from core.store.base import NewScanJob
from core.targets.remote import progress_line
from core.workspace import Workspace
from tests.oscap_results import CIS_L1_SERVER, datastream


class Shown:
    """What a job's progress says after each call (the runner's JobContext would publish it)."""

    def __init__(self):
        self.done, self.total, self.current = 0, None, None
        self.calls = 0

    async def progress(self, done: int, total: int | None, current: str | None = None,
                       current_since: str | None = None) -> None:
        self.done, self.total, self.current = done, total, current
        self.calls += 1


async def test_the_running_rule_is_the_one_after_the_last_oscap_reported(oscap_results):
    lines = (oscap_results.arf.parent / "progress.txt").read_text().splitlines()
    reported = [found for found in map(progress_line, lines) if found]
    order = selected_rules(datastream("ubuntu2204"), CIS_L1_SERVER)  # what the scan job reads
    assert len(reported) == len(order) == 189
    shown = Shown()
    progress = ScanProgress(shown, order, len(order))
    await progress.begin()
    assert (shown.done, shown.current) == (0, reported[0][0])  # before any line: oscap's first rule
    for index, (rule_id, result) in enumerate(reported):
        await progress.rule(rule_id, result)
        after = reported[index + 1][0] if index + 1 < len(reported) else None
        assert (shown.done, shown.total, shown.current) == (index + 1, 189, after), rule_id
    assert set(progress.clock.seconds) == {rule for rule, _result in reported}


async def test_a_hostile_stream_never_counts_more_done_than_the_total(oscap_results):
    lines = (oscap_results.arf.parent / "progress.txt").read_text().splitlines()
    reported = [found for found in map(progress_line, lines) if found]
    shown = Shown()
    progress = ScanProgress(shown, [rule for rule, _ in reported], len(reported))
    for rule_id, result in reported + reported:  # every line twice
        await progress.rule(rule_id, result)
    assert shown.done == len(reported) and shown.calls == len(reported)


async def burst_then_wait(data_dir) -> tuple[list[Job], Job, Job, Job]:
    """A job that reports 40 quick rules of 100, then runs one for a long time (as oscap with
    file_permissions_unauthorized_world_writable): what the hub said last, what the store says
    1.5 s later, and the job at its end."""
    events: list[Job] = []
    release = asyncio.Event()

    async def quick_rules_then_a_slow_one(ctx: JobContext) -> None:
        for done in range(1, 41):
            await ctx.progress(done, 100, f"rule_{done + 1}", f"since {done}")
        await release.wait()

    async with await Workspace.open(data_dir) as workspace:
        host = await workspace.store.add_host(Host(name="web1", address="127.0.0.1"))
        workspace.hub.subscribe(lambda event: events.append(event))
        async with Runner(workspace, handlers={"scan": quick_rules_then_a_slow_one}) as runner:
            (job,) = await submit.scans(workspace, [NewScanJob(host, "cis-level1-server", {}, 5)], runner)
            begin = time.monotonic()
            while not any(e.kind == "progress" and e.job.progress_done == 40 for e in events):
                assert time.monotonic() - begin < 5, "the last state was never published"
                await asyncio.sleep(0.05)
            published = time.monotonic() - begin
            await asyncio.sleep(1.5)
            stored = await workspace.store.get_job(job.id)
            progress = [e.job for e in events if e.kind == "progress"]
            release.set()
            (ended,) = await runner.wait_for([job.id])
        assert published < 1.0
        return progress, progress[-1], stored, ended


async def test_the_latest_progress_is_published_and_stored_though_no_rule_follows(data_dir):
    progress, last, stored, ended = await burst_then_wait(data_dir)
    assert len(progress) < 40  # at most one event each 0.25 s ...
    assert (last.progress_done, last.current, last.current_since) == (40, "rule_41", "since 40")  # ... the last too
    # the store (what the job's details, other processes and `jobs show` read) says the same
    assert (stored.progress_done, stored.progress_total, stored.current) == (40, 100, "rule_41")
    assert ended.status is JobStatus.COMPLETED


async def test_nothing_of_a_jobs_progress_is_published_after_it_ended(data_dir):
    events = []

    async def quick(ctx: JobContext) -> None:
        for done in range(1, 20):
            await ctx.progress(done, 100, f"rule_{done + 1}")  # leaves an event and a write due

    async with await Workspace.open(data_dir) as workspace:
        host = await workspace.store.add_host(Host(name="web1", address="127.0.0.1"))
        workspace.hub.subscribe(lambda event: events.append(event.kind))
        async with Runner(workspace, handlers={"scan": quick}) as runner:
            (job,) = await submit.scans(workspace, [NewScanJob(host, "cis-level1-server", {}, 5)], runner)
            await runner.wait_for([job.id])
            await asyncio.sleep(1.2)  # past every delay
        assert events[-1] == "finished" and events.count("finished") == 1
        assert (await workspace.store.get_job(job.id)).status is JobStatus.COMPLETED
