"""Storage faults in the operator's words (issue 22, item 5): a damaged database names the file
and the command that checks it (CLI and TUI), `store check` and `store backup FILE` exist, and a
full disk says where, how much is free and that nothing was stored, and nothing was.

The full disk is real: a small tmpfs mounted over the data dir inside a private mount namespace
(unshare -m), filled up, with the CLI and a Textual app running inside it; the namespace, and
its mounts, end with the commands."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.store.schema import STEPS
from tests.security import documents
from tests.security.conftest import integrity

ROOT = Path(__file__).resolve().parents[2]
CHECK = "compliance-tui store check"


def one_line(done, *fragments: str) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    assert "internal error" not in done.stderr and "Error)" not in done.stderr
    return done.stderr


def damage(database: Path, how: str) -> None:
    data = bytearray(database.read_bytes())
    if how == "header":  # not a database any more
        data[:100] = os.urandom(100)
    else:  # every page but the first (the schema): the tables' b-trees are garbage
        data[4096:] = os.urandom(len(data) - 4096)
    database.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["header", "pages"])
async def test_22_5_a_damaged_database_names_the_file_and_the_check(cli, data_dir, how):
    cli.ok("hosts", "add", "web1", "--address", "10.0.0.5")
    database = data_dir / "compliance.db"
    damage(database, how)
    for args in (("hosts", "list"), ("scans", "list"), ("hosts", "add", "web2", "--address", "10.0.0.6")):
        one_line(cli(*args), f"the store {database} is damaged", f"`{CHECK}`")
    assert not (data_dir / "crash.log").exists()
    checked = cli("store", "check")
    assert checked.returncode == 1 and f"store           {database}" in checked.stdout
    assert "malformed" in checked.stdout or "not a database" in checked.stdout, checked.stdout
    assert checked.stderr.startswith("error: the store has problems (above)")
    one_line(cli("store", "backup", str(data_dir.parent / "b.db")), "is damaged")
    assert not (data_dir.parent / "b.db").exists()
    # the TUI says the same when it opens it
    from tests.tui.helpers import make_app

    app = make_app(data_dir)
    messages, exit_app = [], app.exit
    app.exit = lambda *args, **kwargs: (messages.append(str(kwargs.get("message"))), exit_app(*args, **kwargs))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
    assert app.return_code == 1
    said = " ".join(messages)
    assert f"the store {database} is damaged" in said and CHECK in said


def test_22_5_store_check_and_an_online_backup(cli, data_dir, tmp_path):
    """`store check` on a healthy store; `store backup` while two imports write to it: a
    consistent copy, private, that opens with every row committed before it; a symlink planted
    at the target is replaced, never followed."""
    cli.ok("hosts", "add", "web1", "--address", "10.0.0.5")
    checked = cli.ok("store", "check")
    latest = len(STEPS)
    assert checked.stdout.splitlines()[1:] == [f"schema          schema {latest} of {latest} this version knows",
                                               "integrity_check ok", "foreign keys    ok"]
    files = []
    for i in range(20):
        path = tmp_path / f"r{i}.xml"
        rules = {f"{documents.RULE}r{n}": (f"rule {n}", "") for n in range(300)}
        path.write_text(documents.results(f"xccdf_t_b_{i}", target="busy", rules=rules,
                                          start=f"2025-02-{1 + i:02d}T10:00:00"))
        files.append(str(path))
    writer = subprocess.Popen([sys.executable, "-m", "tui", "import", *files, "--host", "busy", "--create-host"],
                              env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("not to be touched\n")
    target = tmp_path / "backups" / "ct.db"
    target.parent.mkdir()
    target.symlink_to(victim)
    backups = []
    while writer.poll() is None or not backups:
        backups.append(cli.ok("store", "backup", str(target)))
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0 and "locked" not in err, err
    assert f"to {target} (" in backups[-1].stdout and "checked with quick_check" in backups[-1].stdout
    assert victim.read_text() == "not to be touched\n" and not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["ct.db"]  # no partial file left
    with sqlite3.connect(target) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        hosts = {r[0] for r in db.execute("SELECT name FROM hosts")}
        copied = db.execute("SELECT COUNT(*) FROM scans").fetchone()[0]
    assert "web1" in hosts and 0 <= copied <= 20
    assert cli.ok("store", "backup", str(target)).returncode == 0  # once more, after the writer
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT COUNT(*) FROM scans").fetchone()[0] == 20


# Runs inside `unshare -m`: the data dir (and a backup dir) become small tmpfs, filled to leave
# `leave` KiB; then the commands run there, then the filler goes and the store is read again.
FULL_DISK = r"""
import json, os, shutil, subprocess, sys
data, backups, leave, big, env = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])

def mount(path, size):
    keep = path + ".kept"
    shutil.copytree(path, keep, symlinks=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", path], check=True)
    subprocess.run(["cp", "-a", keep + "/.", path], check=True)
    shutil.rmtree(keep)

def fill(path, leave_kib):
    st = os.statvfs(path)
    fd = os.open(os.path.join(path, ".filler" + str(leave_kib)), os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"\0" * max(0, st.f_bavail * st.f_frsize - leave_kib * 1024))
    os.close(fd)

def ct(*args):
    done = subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env)
    return [done.returncode, done.stdout, done.stderr]

mount(data, "8m"); mount(backups, "1m")
fill(data, leave); fill(backups, 16)
said = {"import": ct("import", big, "--host", "bighost"),
        "backup": ct("store", "backup", os.path.join(backups, "ct.db"))}
tui = subprocess.run([sys.executable, "-c", sys.argv[6], data, big], capture_output=True, text=True, env=env)
said["tui"] = [tui.returncode, tui.stdout, tui.stderr]
fill(data, 0)  # the last bytes too: even a host's few hundred bytes no longer fit
said["add"] = ct("hosts", "add", "late", "--address", "10.0.0.9")
said["backups"] = sorted(n for n in os.listdir(backups) if not n.startswith(".filler"))
for name in os.listdir(data):
    if name.startswith(".filler"):
        os.unlink(os.path.join(data, name))
said["check"] = ct("store", "check")
said["hosts"] = ct("hosts", "list", "--json")
said["scans"] = ct("scans", "list", "--json")
print(json.dumps(said))
"""

# A Textual app in the same namespace: the Import results modal's worker hits the full disk;
# the app's one worker-error handler says it (printed: the notices).
TUI = r"""
import asyncio, json, sys
from pathlib import Path
from tests.tui.helpers import make_app
from tui.modals.import_results import ImportResultsModal

async def main():
    app = make_app(Path(sys.argv[1]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        modal = ImportResultsModal("bighost")
        await app.push_screen(modal)
        await pilot.pause()
        modal.run_import(Path(sys.argv[2]), "bighost", False, True)
        for _ in range(400):
            await pilot.pause(0.05)
            if any("full" in n.message or "error" in n.message for n in app._notifications):
                break
        print(json.dumps([n.message for n in app._notifications]))

asyncio.run(main())
"""


def test_22_5_a_full_disk_says_where_how_much_is_free_and_that_nothing_was_stored(cli, data_dir, tmp_path):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a private mount namespace needs root and unshare")
    cli.ok("hosts", "add", "bighost", "--address", "10.0.0.7")
    big = tmp_path / "big.xml"
    rules = {f"{documents.RULE}r{n}": (f"rule {n} " + "t" * 200, "") for n in range(3000)}
    big.write_text(documents.results("xccdf_t_big", target="bighost", rules=rules))  # 1.4 MB
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    env = cli.env | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", FULL_DISK,
                           str(data_dir), str(backups), "64", str(big), json.dumps(env), TUI],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    for name in ("add", "import"):
        code, out, err = said[name]
        assert code == 1 and err.count("\n") == 1, (name, err)
        assert err.startswith(f"error: the disk holding {data_dir} is full (") and " free); nothing was stored" in err
    code, out, err = said["backup"]
    assert code == 1 and err.startswith(f"error: the disk holding {backups} is full (") and "no backup was written" in err
    assert said["backups"] == []  # no partial file left
    code, out, err = said["tui"]
    assert code == 0, err
    notices = json.loads(out)
    assert any(n.startswith(f"the disk holding {data_dir} is full (") and "nothing was stored" in n
               for n in notices), notices
    assert said["check"][0] == 0 and "integrity_check ok" in said["check"][1], said["check"]
    assert sorted(h["name"] for h in json.loads(said["hosts"][1])) == ["bighost", "localhost"]  # no "late"
    assert json.loads(said["scans"][1]) == []  # nothing was stored
    assert integrity(data_dir) == "ok"  # the store outside the namespace: as it was
