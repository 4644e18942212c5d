"""The /etc archives hardening jobs leave on their targets, removed once their time is up:
past [remediation] keep_days, or at once for a job that never completed (killed, cancelled or
rolled back). `evidence prune` calls this; a new hardening job cleans its own host too
(core/remediation/safety.clean). An archive holds /etc/shadow: it must not outstay its use."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.domain.errors import OperatorError
from core.domain.models import Job, JobStatus
from core.domain.text import one_line
from core.domain.timeutil import now_iso
from core.remediation import safety
from core.targets import remote
from core.targets.connect import connect, sudo_for
from core.workspace import Workspace


@dataclass
class Pruned:
    removed: list[str] = field(default_factory=list)  # "host:directory"
    waiting: list[str] = field(default_factory=list)  # still watched by a switch, or due later
    unreachable: list[str] = field(default_factory=list)  # "host: reason"


def due(job: Job, now: str) -> bool:
    archive = (job.result or {}).get("archive") or {}
    if archive.get("state") == "removed":
        return False
    if job.status is not JobStatus.COMPLETED:
        return job.status.finished
    return archive.get("state") in ("kept", "rolled back") and str(archive.get("keep_until", "")) < now


async def prune_archives(workspace: Workspace, dry_run: bool = False) -> Pruned:
    store, now, done = workspace.store, now_iso(), Pruned()
    jobs, _total = await store.find_jobs(kind="harden")
    by_host: dict[str, list[Job]] = {}
    for job in jobs:
        if due(job, now):
            by_host.setdefault(job.host_name, []).append(job)
    for host_name, chosen in by_host.items():
        directories = {f"{safety.ROLLBACK_DIR}/{job.id}": job for job in chosen}
        if dry_run:
            done.removed += [f"{host_name}:{d}" for d in directories]
            continue
        try:
            removed, watched = await _remove(workspace, host_name, list(directories))
        except OperatorError as exc:
            done.unreachable.append(f"{host_name}: {one_line(str(exc), 200)}")
            continue
        done.waiting += [f"{host_name}:{d}" for d in watched]
        for directory in removed:
            done.removed.append(f"{host_name}:{directory}")
        for directory in set(directories) - set(watched):  # gone now, or never there: not tried again
            job = directories[directory]
            result = dict(job.result or {})
            result["archive"] = {**result.get("archive", {}), "directory": directory, "state": "removed"}
            await store.set_job_result(job.id, result)
    return done


async def _remove(workspace: Workspace, host_name: str, directories: list[str]) -> tuple[list[str], list[str]]:
    host = await workspace.store.require_host(host_name)
    async with await connect(host) as transport:
        found = await remote.probe(transport)
        return await safety.remove_idle(safety.RootCommand(transport, sudo_for(host, found)), directories)
