"""Scans finished per minute on one PostgreSQL store by 1, 2 and 4 `compliance-tui worker`
processes (issue 17), as root.

1,000 host entries point at two played Ubuntu 22.04 hosts of the test fleet (real sshd, sudo,
the app's whole scan path: connect, upload check, oscap, ARF download, parse, store) whose oscap
is the stand-in of the security suite (tests/security/fake_oscap.py: 20 rules, and SLEEP seconds
of "evaluation" that cost the jump host nothing, as a real target's oscap does). For each worker
count, one scan job per host entry is enqueued, the workers run for WINDOW seconds, and the
jobs completed inside the window are counted. Each worker runs up to 4 jobs at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.domain.models import Host
from core.store.postgres import PostgresStore
from tests import pg_server
from tests.conftest import free_port
from tests.fleet.hosts import Fleet, make_client_key

HOSTS = 1000
WINDOW = 60.0  # seconds each worker count runs
SLEEP = 2.0  # seconds the stand-in oscap "evaluates" on the target
ROOT = Path(__file__).resolve().parents[2]
FAKE = ROOT / "tests/security/fake_oscap.py"


def stand_in_oscap(played) -> None:
    shutil.copy(FAKE, played.root / "fake_oscap.py")
    (played.root / "fake-oscap.json").write_text(json.dumps({"sleep": SLEEP}))
    (played.root / "fake-oscap.json").chmod(0o644)
    (played.root / "oscap-wrapper").write_text(
        f'#!/bin/sh\nexec /usr/bin/python3 {played.root}/fake_oscap.py {played.root}/fake-oscap.json "$@"\n')


async def add_hosts(url: str, played, key: Path) -> None:
    store = await PostgresStore.open(url)
    try:
        for n in range(HOSTS):
            await store.add_host(Host(name=f"h{n:04d}", address="127.0.0.1", port=played[n % 2].port,
                                      username="scanner", identity_file=str(key)))
    finally:
        await store.close()


def cli(env: dict, *args: str, timeout: float = 600) -> str:
    done = subprocess.run([sys.executable, "-m", "tui", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{args[:2]} failed: {done.stderr.strip()}")
    return done.stdout


def psql_rows(server, database: str, sql: str) -> list[list[str]]:
    return [line.split("|") for line in server.psql(sql, database).splitlines() if line]


def one_window(server, database: str, env: dict, workers: int) -> tuple[float, int]:
    cli(env, "scan", *[f"h{n:04d}" for n in range(HOSTS)], "--profile", "cis-level1-server", "--enqueue",
        "--json", timeout=900)
    began = time.time()
    started = [subprocess.Popen([sys.executable, "-m", "tui", "worker"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    time.sleep(WINDOW)
    ended = time.time()
    for process in started:
        process.send_signal(signal.SIGTERM)
    for process in started:
        process.send_signal(signal.SIGTERM)  # a second signal: hand running jobs back at once
        process.wait(120)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ended))
    ((done,),) = psql_rows(server, database, f"SELECT COUNT(*) FROM jobs WHERE status = 'completed' "
                                             f"AND finished_at <= '{stamp}.999999Z'")
    failed = psql_rows(server, database, "SELECT COUNT(*) FROM jobs WHERE status = 'failed'")[0][0]
    server.psql("DELETE FROM jobs; DELETE FROM scans", database)  # the next run starts from the same queue
    return int(done) * 60.0 / (ended - began), int(failed)


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("bench_pg needs root (the test fleet and the test PostgreSQL)")
    base = Path(tempfile.mkdtemp(prefix="compliance-tui-bench-pg-"))
    server = pg_server.start(free_port())
    fleet = Fleet(base / "hosts", make_client_key(base / "client"))
    try:
        played = [fleet.add(f"p{n}", "ubuntu2204", free_port()) for n in range(2)]
        for host in played:
            stand_in_oscap(host)
        home = base / "home"
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        (home / ".ssh/known_hosts").write_text(fleet.known_hosts())
        database = server.create_database("bench")
        env = os.environ | server.env() | {"HOME": str(home), "COMPLIANCE_TUI_HOME": str(base / "data"),
                                           "COMPLIANCE_TUI_STORE": server.url(database)}
        os.environ.update(server.env())  # the password, for this process's own store too
        asyncio.run(add_hosts(server.url(database), played, fleet.client_key))
        cli(env, "content", "list")  # the data dir's content index, built before the clock runs
        print(f"PostgreSQL: scans finished per minute, {HOSTS} host entries on 2 played hosts, stand-in oscap "
              f"({SLEEP:.0f} s on the target), {WINDOW:.0f} s per run, 4 jobs at once per worker, "
              f"{os.cpu_count()} CPU(s)")
        for workers in (1, 2, 4):
            rate, failed = one_window(server, database, env, workers)
            print(f"  {workers} worker process(es): {rate:6.0f} scans/min" + (f"  ({failed} failed)" if failed else ""))
    finally:
        fleet.stop()
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
