"""A bench site: played hosts of the test fleet, a data dir, and the CLI's environment.

The CLI runs as a real subprocess with HOME and COMPLIANCE_TUI_HOME of its own. Its content is
Debian's packaged SSG (COMPLIANCE_TUI_CONTENT_DIRS is dropped) so the wire and fleet figures scan
the same Ubuntu 22.04 datastream the issue measured, whatever newer content the machine has.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tests.bench.proc import Run, cli
from tests.conftest import free_port
from tests.fleet.hosts import SCAN_USER, Fleet, FleetHost, make_client_key

PROFILE = "cis-level1-server"


class Site:
    def __init__(self, prefix: str, keep_content: bool = False):
        self.keep_content = keep_content
        if os.geteuid() != 0:
            raise SystemExit("the fleet benches play hosts: run them as root")
        self.base = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-", dir="/var/tmp"))
        self.fleet = Fleet(self.base / "hosts", make_client_key(self.base / "client"))
        self.home = self.base / "home"
        (self.home / ".ssh").mkdir(parents=True)
        self.known_hosts = self.home / ".ssh" / "known_hosts"
        self.known_hosts.write_text("")
        self.generation = 0
        self.data = self.new_data_dir()

    def new_data_dir(self) -> Path:
        """A fresh, empty store (a "first scan" needs one)."""
        self.generation += 1
        self.data = self.base / f"data-{self.generation}"
        return self.data

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if self.keep_content or k != "COMPLIANCE_TUI_CONTENT_DIRS"}
        return env | {"HOME": str(self.home), "COMPLIANCE_TUI_HOME": str(self.data)}

    def cli(self, *args: str, check: bool = True) -> Run:
        return cli(self.env, *args, check=check)

    def add_host(self, name: str, os_key: str = "ubuntu2204") -> FleetHost:
        return self.fleet.add(name, os_key, free_port())

    def register(self, name: str, host: FleetHost, port: int | None = None) -> None:
        """Known to the CLI at port (a relay's) or the host's own; its key goes into known_hosts."""
        port = port or host.port
        key = host.known_hosts_line().split(" ", 1)[1]
        with open(self.known_hosts, "a") as f:
            f.write(f"[127.0.0.1]:{port} {key}")
        self.cli("hosts", "add", name, "--address", "127.0.0.1", "--port", str(port),
                 "--user", SCAN_USER, "--identity", str(self.fleet.client_key))

    def clear_target_cache(self, host: FleetHost) -> None:
        """What a scan left on the target (its datastream cache): the next scan is a first one."""
        shutil.rmtree(host.home / ".cache", ignore_errors=True)

    def data_bytes(self) -> tuple[int, int]:
        """(database bytes, everything else in the data dir): evidence, block stores, caches."""
        database = other = 0
        for path in self.data.rglob("*"):
            if path.is_file() and not path.is_symlink():
                size = path.stat().st_size
                if path.name.startswith("compliance.db"):
                    database += size
                else:
                    other += size
        return database, other

    def close(self) -> None:
        self.fleet.stop()
        shutil.rmtree(self.base, ignore_errors=True)
