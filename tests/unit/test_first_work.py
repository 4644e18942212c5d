"""Work that a fleet's first scans would all do at the same time is done once per process
(issue 25): 40 first scans of one content each read every installed datastream, compressed the
same datastream and read its rules, 165 s of CPU in one process, 20 s once done once."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from core.content import catalog
from core.workspace import Workspace

SMALL = Path("/usr/share/xml/scap/ssg/content/ssg-macos1015-ds.xml")  # the smallest Debian ships


async def test_concurrent_scans_read_the_content_once(tmp_path, monkeypatch):
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(SMALL, content / SMALL.name)
    reads: list[Path] = []
    discover = catalog.discover

    def counted(dirs, index):  # the real discovery, counted
        reads.append(index)
        return discover(dirs, index)

    monkeypatch.setattr(catalog, "discover", counted)
    async with await Workspace.open(tmp_path / "data", content_dirs=[content]) as workspace:
        found = await asyncio.gather(*(workspace.datastreams() for _ in range(8)))
        assert len(reads) == 1 and all(f == found[0] for f in found) and len(found[0]) == 1
        (content / "ssg-other-ds.xml").write_bytes(SMALL.read_bytes())  # a new file is looked at
        await asyncio.gather(*(workspace.datastreams() for _ in range(8)))
        assert len(reads) == 2


async def test_first_gives_one_lock_per_key(tmp_path):
    async with await Workspace.open(tmp_path / "data", content_dirs=[tmp_path / "none"]) as workspace:
        assert workspace.first("a") is workspace.first("a") and workspace.first("a") is not workspace.first("b")
