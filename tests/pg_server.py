"""A private PostgreSQL server for the tests: Debian's own binaries, a data directory of its
own, listening on 127.0.0.1 on a free port, torn down afterwards.

PostgreSQL refuses to run as root, so initdb and the server run as the `postgres` system user
the Debian package creates (runuser). Password authentication on TCP (scram-sha-256) for every
role, so the tests go through the same path as production: the password from $PGPASSWORD.

    python -m tests.pg_server     # starts one by hand and prints its URL; Ctrl-C stops it
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
HINT = "run `make test`, which installs Debian's postgresql package"


class PostgresUnavailable(Exception):
    """Why no server could be started (its message says what to do)."""


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise PostgresUnavailable(f"no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: {HINT}")
    return Path(found[-1]).parent


@dataclass
class PgServer:
    base: Path
    port: int
    password: str
    bin: Path

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """No password in it: it comes from $PGPASSWORD (see env())."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def env(self, password: str | None = None) -> dict[str, str]:
        return {"PGPASSWORD": password or self.password}

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", sql],
            capture_output=True, text=True, env=os.environ | self.env(), timeout=60)
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str, owner: str = SUPERUSER) -> str:
        self.psql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def restart(self) -> None:
        """Drop every connection and start again on the same port (pg_ctl keeps the options)."""
        done = subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data),
                               "-m", "fast", "-w", "-l", str(self.base / "log"), "restart"],
                              capture_output=True, text=True, timeout=120)  # -l: the server holds no pipe of ours
        if done.returncode:
            raise RuntimeError(f"pg_ctl restart failed: {done.stderr.strip()}")

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)


def start(port: int) -> PgServer:
    """initdb and start a server; PostgresUnavailable says why not."""
    if os.geteuid() != 0:
        raise PermissionError("the test PostgreSQL runs as the postgres system user: needs root")
    bin_dir = binaries()
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(f"no `postgres` system user: {HINT}") from None
    # /tmp and not pytest's tmp_path: the postgres user must be able to reach its data dir
    base = Path(tempfile.mkdtemp(prefix="compliance-tui-pg-"))
    shutil.chown(base, "postgres", "postgres")
    password = secrets.token_urlsafe(18)
    pwfile = base / "pw"
    pwfile.write_text(password + "\n")
    shutil.chown(pwfile, "postgres", "postgres")
    server = PgServer(base, port, password, bin_dir)
    as_postgres = ["runuser", "-u", "postgres", "--"]
    steps = [
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(server.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
         "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(server.data), "-w", "-t", "60", "-l", str(base / "log"),
         "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200", "start"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=120)
        if done.returncode:
            log = (base / "log").read_text()[-2000:] if (base / "log").exists() else ""
            shutil.rmtree(base, ignore_errors=True)
            raise PostgresUnavailable(f"{Path(step[3]).name} failed: {done.stderr.strip() or done.stdout.strip()} "
                                      f"{log}".strip())
    pwfile.unlink()
    return server


if __name__ == "__main__":
    from tests.conftest import free_port

    running = start(free_port())
    print(f"export PGPASSWORD={running.password} COMPLIANCE_TUI_STORE={running.url()}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        running.stop()
