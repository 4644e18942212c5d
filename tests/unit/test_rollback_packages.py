"""A rollback puts back /etc only: the packages installed since a job's archive are named
(safety.packages_since), read here on this machine's own package database."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from core.remediation import safety
from core.targets.transport import LocalTransport, Sudo


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs a dpkg package database")
async def test_packages_installed_since_the_archive_are_named(tmp_path):
    installed = subprocess.run(["dpkg-query", "-W", "-f=${Package}\n"], capture_output=True, text=True,
                               check=True).stdout.split()
    # the archive's list, as if the first two packages came after it (and one has left since)
    before = sorted(set(installed[2:]) | {"gone-since-the-job"})
    (tmp_path / "packages.before").write_text("".join(f"{name}\n" for name in sorted(before, key=str.encode)))
    async with LocalTransport("local") as transport:
        staying = await safety.packages_since(safety.RootCommand(transport, Sudo(needed=False)), str(tmp_path))
    assert staying == sorted(installed[:2], key=str.encode)


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs a dpkg package database")
async def test_nothing_is_named_when_nothing_was_installed(tmp_path):
    listed = subprocess.run(["sh", "-c", "dpkg-query -W -f='${Package}\\n' | LC_ALL=C sort"], capture_output=True,
                            text=True, check=True).stdout
    (tmp_path / "packages.before").write_text(listed)
    async with LocalTransport("local") as transport:
        assert await safety.packages_since(safety.RootCommand(transport, Sudo(needed=False)), str(tmp_path)) == []
