"""The real `compliance-tui` command with a stand-in job: the real CLI, Runner and store, no
target. For `worker --processes N` tests: the worker starts its other processes as this program
too (CHILD_PROGRAM), so every process runs the stand-in.

    python -m tests.standin_cli [compliance-tui arguments]

Each job (of any kind) waits STANDIN_SECONDS (default 0), then appends its id to
STANDIN_OUT/ran-PID.txt (PID: the process that ran it).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tui.entry import quiet_known_warnings

quiet_known_warnings()  # as tui.entry does, before the scan engine is imported

from core.jobs import kinds  # noqa: E402
from core.jobs.context import JobContext  # noqa: E402
from tui.cli import jobs, main  # noqa: E402


async def stand_in(ctx: JobContext) -> None:
    await asyncio.sleep(float(os.environ.get("STANDIN_SECONDS", "0")))
    with open(Path(os.environ["STANDIN_OUT"]) / f"ran-{os.getpid()}.txt", "a") as out:
        out.write(f"{ctx.job.id}\n")


def handlers():
    return {"scan": stand_in, "harden": stand_in}


if __name__ == "__main__":
    kinds.default_handlers = handlers
    jobs.CHILD_PROGRAM = ("-m", "tests.standin_cli")
    sys.exit(main(sys.argv[1:]))
