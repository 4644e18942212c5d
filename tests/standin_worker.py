"""A worker process with a stand-in job: the real Runner and store, no target.

    python -m tests.standin_worker DATA_DIR OUT_FILE [MAX_CONCURRENT]

Runs every pending job (as `compliance-tui worker --once` would), each job only recording
its id, then writes the ids it ran to OUT_FILE, one per line, and a last line
`# BEGIN END` (time.time() when it started claiming and when it went idle). Used by the queue
tests (several processes racing for the same jobs) and the claim-throughput benchmark.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from core.jobs.context import JobContext
from core.jobs.runner import Runner
from core.workspace import Workspace


async def run(data_dir: Path, out: Path, max_concurrent: int) -> None:
    ran: list[str] = []

    async def stand_in(ctx: JobContext) -> None:
        ran.append(ctx.job.id)

    workspace = await Workspace.open(data_dir, content_dirs=[data_dir / "none"])
    workspace.configure(max_concurrent=max_concurrent)
    try:
        runner = Runner(workspace, take_pending=True, handlers={"scan": stand_in}, poll_seconds=0.2)
        begin = time.time()
        await runner.start()
        await runner.run_until_idle()
        end = time.time()
        await runner.stop()
    finally:
        await workspace.close()
    out.write_text("".join(f"{job_id}\n" for job_id in ran) + f"# {begin} {end}\n")


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 4))
