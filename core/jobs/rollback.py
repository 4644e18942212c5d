"""Rolling a hardening job back after the fact: only the files it changed, put back from the
/etc archive it left on its target (kept [remediation] keep_days), under a dead man's switch
and an archive of its own, then a fresh login and the same scan again, in which the rules the
job fixed fail again. A rollback job is a hardening job whose params name `rollback_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.audit.log import record
from core.domain.errors import InvalidInput, OperatorError
from core.domain.models import Job, JobStatus
from core.domain.text import one_line
from core.domain.timeutil import now_iso
from core.jobs.context import JobContext
from core.jobs.harden import Hardening, _login_check, rescan
from core.jobs.scan import probe_host
from core.remediation import safety
from core.remediation.planning import load
from core.targets import remote
from core.targets.connect import connect, sudo_for
from core.workspace import Workspace


@dataclass(frozen=True)
class RollbackPreview:
    job: Job  # the hardening job to roll back
    host: str
    directory: str  # its archive on the target
    files: list[tuple[str, str]]  # (changed | deleted | new, path)
    diff: str  # the target's words: neutralise before showing


def archive_of(job: Job) -> str:
    """The archive a finished hardening job kept, or InvalidInput saying why there is none."""
    if job.kind != "harden" or "rollback_of" in job.params:
        raise InvalidInput(f"job {job.short_id} is a {job.kind} job: only a hardening job (Quick Fix, Harden) "
                           "can be rolled back")
    if job.status is not JobStatus.COMPLETED:
        raise InvalidInput(f"job {job.short_id} is {job.status.value}: a job that did not complete was rolled back "
                           "already (or never changed anything)")
    archive = (job.result or {}).get("archive")
    if not isinstance(archive, dict) or not archive.get("directory"):
        raise InvalidInput(f"job {job.short_id} kept no /etc archive (it ran before rollbacks after the fact "
                           "existed): nothing to restore from")
    if archive.get("state") != "kept":
        raise InvalidInput(f"job {job.short_id}'s /etc archive is {archive.get('state')}: nothing to roll back")
    if str(archive.get("keep_until", "")) < now_iso():
        raise InvalidInput(f"job {job.short_id}'s /etc archive was kept until {archive.get('keep_until')} and is "
                           "gone ([remediation] keep_days)")
    return str(archive["directory"])


async def preview(workspace: Workspace, job_id: str) -> RollbackPreview:
    """Which files the job changed and how they differ from the archive now (read as root)."""
    job = await workspace.store.get_job(job_id)
    directory = archive_of(job)
    host = await workspace.store.require_host(job.host_name)
    async with await connect(host) as transport:
        found = await remote.probe(transport)
        root = safety.RootCommand(transport, sudo_for(host, found))
        files = await safety.changed_files(root, directory)
        if files is None:
            raise OperatorError(f"{host.name}: the /etc archive of job {job.short_id} is gone ({directory})")
        text = await safety.diff(root, directory, await safety.capabilities(root)) if files else ""
    return RollbackPreview(job, host.name, directory, files, text)


async def run_rollback_job(ctx: JobContext) -> None:
    workspace, store = ctx.workspace, ctx.workspace.store
    original = await store.get_job(ctx.job.params["rollback_of"])
    directory = archive_of(original)
    request = await load(workspace, original.params)  # the scan it answered: the content to scan with again
    host = request.host
    ctx.say(f"rolling back job {original.short_id} on {host.name} from {directory}")
    grace = safety.check_grace(ctx.job.params.get("grace", safety.DEFAULT_GRACE))
    login = await _login_check(ctx, host, locks_out=True)  # PAM, sshd, sudoers may come back
    async with await connect(host) as transport:
        found = await probe_host(ctx, transport, host)
        run = Hardening(ctx, host, grace, safety.RootCommand(transport, sudo_for(host, found)), login)
        files = await safety.changed_files(run.root, directory)
        if files is None:
            raise OperatorError(f"{host.name}: the /etc archive of job {original.short_id} is gone ({directory})")
        if not files:
            raise OperatorError(f"job {original.short_id} changed no file of /etc: nothing to roll back")
        capabilities = await run.prepare(locks_out=True)

        async def put_back() -> None:
            ctx.say(f"restoring {len(files)} file(s): {', '.join(path for _kind, path in files[:10])}"
                    + (f" and {len(files) - 10} more" if len(files) > 10 else ""))
            await safety.restore_changed(run.root, directory, capabilities)

        kept = await run.guarded(put_back)
        # A fix that installed a package changed more than /etc: say what stays (its new files
        # under /etc went with the restore), rather than let the rescan's pass surprise anyone.
        staying = await safety.packages_since(run.root, directory)
        for package in staying:
            ctx.say(f"still installed (a rollback puts back /etc only): {package}")
        await store.set_job_result(original.id, _marked(original, ctx.job.id))
        await record(workspace, "fix.rolled_back", host.name, {
            "job": ctx.job.id, "rollback_of": original.id, "restored_files": len(files)})
        rules = list((original.result or {}).get("fixed", []))

        def summary(scan_id: str, after: dict[str, str]) -> dict[str, Any]:
            failing = [r for r in rules if after.get(r) == "fail"]
            ctx.say(f"{len(failing)} of the {len(rules)} rule(s) the job fixed fail again")
            return {"rollback_of": original.id, "rescan": scan_id, "restored_files": [list(f) for f in files],
                    "failing_again": failing, "packages_still_installed": staying,
                    "rules": {r: {"before": "pass", "after": after.get(r, "notchecked")} for r in rules}, **kept}

        await rescan(ctx, transport, host, found, request, summary)


def _marked(original: Job, by: str) -> dict[str, Any]:
    result = dict(original.result or {})
    result["archive"] = {**result.get("archive", {}), "state": "rolled back", "rolled_back_by": by}
    return result


def rollback_params(job: Job, grace: int) -> dict[str, Any]:
    """The params of the job that rolls job back (checked now, and again where it runs)."""
    archive_of(job)
    return {"rollback_of": job.id, "profile": job.params.get("profile"), "grace": safety.check_grace(grace)}


def describe(preview_: RollbackPreview) -> str:
    """One line for a confirmation."""
    return one_line(f"Roll back job {preview_.job.short_id} on {preview_.host}: restore {len(preview_.files)} "
                    f"file(s) of /etc from its archive, then log in afresh and scan again?", 500)
