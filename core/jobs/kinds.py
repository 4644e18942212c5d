"""The kinds of job this version runs, and the handler of each: what a Runner runs unless it
is given handlers of its own (tests' stand-ins). A rollback after the fact is a hardening
job too (its params name `rollback_of`): it changes its host, so it waits like one.
"""

from __future__ import annotations

from core.jobs.context import Handler, JobContext
from core.jobs.harden import run_harden_job
from core.jobs.rollback import run_rollback_job
from core.jobs.scan import run_scan_job


async def remediation(context: JobContext) -> None:
    await (run_rollback_job if "rollback_of" in context.job.params else run_harden_job)(context)


def default_handlers() -> dict[str, Handler]:
    return {"scan": run_scan_job, "harden": remediation}
