"""Private data: the data dir is 0700 and every file in it 0600 (database, -wal, -shm,
evidence, reports, exports, tailoring copies, content, caches, the crash log), an open data dir
left by an older version is fixed at start with a notice, and a symlink planted where an
output goes is replaced, never followed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import plant_a_bug
from tests.security import documents
from tests.security.conftest import add, every_file, trust, wait_for
from tests.security.test_fleet_faults import running

pytestmark = pytest.mark.fleet
L1 = "cis-level1-server"
FIXTURE = "tests/fixtures/cis-l1-tailoring.xml"


@pytest.fixture
def quick(cli, fleet, hostile, home):
    host = hostile("quick")
    trust(home, host)
    add(cli, fleet, host)
    return host


def modes(base: Path) -> dict[str, str]:
    """Anything in base that another user could read, traverse or write."""
    found = {}
    for root, dirs, files in os.walk(base):
        for name in dirs + files:
            path = Path(root) / name
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found[str(path.relative_to(base))] = stat.filemode(mode)
    if os.stat(base).st_mode & 0o077:
        found["."] = stat.filemode(os.stat(base).st_mode)
    return found


def test_everything_the_app_writes_is_private(cli, quick, data_dir, tmp_path):
    os.umask(0o022)  # the usual umask (the processes below inherit it): the app must not rely on a stricter one
    quick.behave(sleep=2)
    scanning = subprocess.Popen([sys.executable, "-m", "tui", "scan", "quick", "--profile", L1, "--json"],
                                env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: running(data_dir, "quick"))
    live = {p.name: stat.filemode(p.stat().st_mode) for p in data_dir.glob("compliance.db*")}
    assert {"compliance.db-wal", "compliance.db-shm"} <= set(live), live  # while the scan writes
    assert set(live.values()) == {"-rw-------"}, live
    out, err = scanning.communicate(timeout=120)
    assert '"completed"' in out, err

    quick.behave()
    cli.ok("hosts", "tailor", "quick", FIXTURE)
    (scan,) = cli.ok("scan", "quick", "--profile", L1, "--json").json()
    results = tmp_path / "results.xml"
    results.write_text(documents.results())
    cli.ok("import", str(results), "--host", "air01", "--create-host")
    source = tmp_path / "content"
    source.mkdir()
    (source / "ssg-ubuntu2004-ds.xml").write_text(documents.datastream("CIS", "r", "9.9.7"))
    cli.ok("content", "import", str(source))
    cli.ok("report", scan["id"][:8])
    cli.ok("report", scan["id"][:8], "--oscap")
    cli.ok("export", "scans", "--format", "csv", "-o", str(data_dir / "exports" / "all.csv"))
    outside = tmp_path / "outside"
    outside.mkdir()
    cli.ok("report", scan["id"][:8], "-o", str(outside / "r.html"))
    cli.ok("export", "results", scan["id"][:8], "--format", "json", "-o", str(outside / "r.json"))
    broken = tmp_path / "broken"
    plant_a_bug(cli, broken)
    assert "internal error" in cli("--data-dir", str(broken), "hosts", "list").stderr

    kinds = {p.parent.name for p in every_file(data_dir)}
    assert {"evidence", "reports", "exports", "tailoring", "cache", "imported-9.9.7"} <= kinds, kinds
    assert modes(data_dir) == {}
    assert modes(broken) == {} and (broken / "crash.log").is_file()
    assert {p.name: stat.filemode(p.stat().st_mode) for p in outside.iterdir()} == {
        "r.html": "-rw-------", "r.json": "-rw-------"}


def test_an_open_data_dir_is_fixed_at_start_with_a_notice(cli, quick, data_dir):
    quick.behave()
    cli.ok("scan", "quick", "--profile", L1, "--json")
    for path in [data_dir, *data_dir.rglob("*")]:  # what an older version (or umask 022) left
        path.chmod(0o755 if path.is_dir() else 0o644)
    first = cli.ok("hosts", "list")
    notices = [line for line in first.stderr.splitlines() if line.startswith("notice: ")]
    assert len(notices) == 1 and "readable by other users; made it private" in notices[0], first.stderr
    assert first.stderr.count("\n") == 1
    assert modes(data_dir) == {}
    assert cli.ok("hosts", "list").stderr == ""  # fixed once: no notice next time


async def test_the_tui_says_so_too(data_dir):
    from tests.tui.helpers import make_app, settle

    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o755)
    app = make_app(data_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any("readable by other users" in m for m in messages), messages
    assert modes(data_dir) == {}


def test_a_planted_symlink_cannot_redirect_a_write(cli, quick, data_dir, tmp_path):
    """A local user who can write where an output goes plants symlinks under the exact name
    and under the old predictable partial name: a root run replaces the link, the target of
    the link keeps its content."""
    quick.behave()
    (scan,) = cli.ok("scan", "quick", "--profile", L1, "--json").json()
    victim = tmp_path / "victim"
    victim.write_text("precious")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    for name in ("report.html", "oscap.html", "export.csv"):
        (shared / name).symlink_to(victim)
        (shared / f".{name}.part").symlink_to(victim)
    cli.ok("report", scan["id"][:8], "-o", str(shared / "report.html"))
    cli.ok("report", scan["id"][:8], "--oscap", "-o", str(shared / "oscap.html"))
    cli.ok("export", "scans", "--format", "csv", "-o", str(shared / "export.csv"))
    assert victim.read_text() == "precious"
    for name in ("report.html", "oscap.html", "export.csv"):
        path = shared / name
        assert not path.is_symlink() and stat.filemode(path.stat().st_mode) == "-rw-------", name
    (data_dir / "crash.log").symlink_to(victim)
    plant_a_bug(cli, data_dir)
    crashed = cli("hosts", "list")
    assert "no crash log written" in crashed.stderr and victim.read_text() == "precious"


def test_removing_a_host_removes_its_evidence(cli, quick, data_dir, tmp_path):
    quick.behave()
    cli.ok("scan", "quick", "--profile", L1, "--json")
    cli.ok("hosts", "tailor", "quick", FIXTURE)
    results = tmp_path / "results.xml"
    results.write_text(documents.results(target="quick"))
    cli.ok("import", str(results), "--host", "quick")
    cli.ok("import", str(results), "--host", "other", "--create-host", "--yes")  # the same file, another host
    evidence = sorted(p.name for p in (data_dir / "evidence").iterdir())
    assert len(evidence) == 3
    cli.ok("hosts", "remove", "quick")
    left = sorted(p.name for p in (data_dir / "evidence").iterdir())
    assert len(left) == 1 and left[0].startswith("import-"), left  # the other host's import stays
    assert list((data_dir / "tailoring").iterdir()) == []
