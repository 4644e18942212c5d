"""Opening a data dir: localhost on first start only, and no scan left running by a dead process."""

from __future__ import annotations

import socket
import subprocess

from core.domain.models import Scan, ScanStatus
from core.workspace import LOCALHOST, Workspace


async def test_localhost_is_registered_once(tmp_path):
    async with await Workspace.open(tmp_path) as workspace:
        local = await workspace.store.require_host(LOCALHOST)
        assert local.transport == "local"
        await workspace.store.remove_host(LOCALHOST)
    async with await Workspace.open(tmp_path) as workspace:  # removed on purpose: stays removed
        assert await workspace.store.get_host(LOCALHOST) is None


async def test_scans_of_a_dead_process_are_failed_others_left_alone(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = subprocess.Popen(["sleep", "30"])
    me = socket.gethostname()
    try:
        async with await Workspace.open(tmp_path) as workspace:
            host = await workspace.store.require_host(LOCALHOST)
            for n, runner in enumerate((f"{me}:{dead.pid}", f"{me}:{alive.pid}", "other-machine:1")):
                await workspace.store.create_scan(
                    Scan(id=f"{n}0000000-0000-4000-8000-000000000000", host_id=host.id,
                         host_name=host.name, profile="cis-level1-server", profile_id=None), runner)
        async with await Workspace.open(tmp_path) as workspace:
            status = {s.id[0]: s for s in await workspace.store.list_scans()}
        assert status["0"].status is ScanStatus.FAILED and "interrupted" in status["0"].error_message
        assert status["1"].status is ScanStatus.PENDING  # its process still runs
        assert status["2"].status is ScanStatus.PENDING  # another machine's runner recovers its own
    finally:
        alive.kill()
