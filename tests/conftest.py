"""Fixtures shared by every test: an isolated data dir and HOME, the CLI, the test fleet."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import paths
from core.content import catalog as content
from core.domain.settings import ENV_STALL
from tests import cli_server
from tests.fleet.hosts import Fleet, make_client_key

CONTENT_DIRS = [Path("/usr/share/xml/scap/ssg/content")]
# oscap 1.3 deadlocks now and then under the suite's load: a scan (CLI, worker or TUI, all read
# the environment) stops a silent oscap after 3 minutes and runs it again, not after the default
# 30, which would outlast the test. Every rule of the fleet's scans takes seconds.
os.environ.setdefault(ENV_STALL, "180")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def made_once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """A directory of this run that make(directory) fills once: the first xdist worker to ask
    makes it, under a lock, and the others use it (other runs have a base temp of their own)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the run's workers
    directory, done = base / name, base / f"{name}.done"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            make(directory)
            done.touch()
    return directory


@pytest.fixture(scope="session")
def content_index(tmp_path_factory) -> Path:
    """Discover installed datastreams once per run; each test's data dir starts with this index."""
    def make(directory: Path) -> None:
        content.discover(content.default_content_dirs(directory / "empty"), directory / "content-index.json")

    return made_once(tmp_path_factory, "content-index", make) / "content-index.json"


@pytest.fixture(autouse=True)
def own_user_data_dir(tmp_path, monkeypatch) -> None:
    """The user's data dir (platformdirs: the releases `make content` fetched, the default data
    dir) is this test's own: what the machine's user has there is not the test's to see."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def pytest_collection_modifyitems(items) -> None:
    """Every test that uses the test fleet carries the fleet marker (`make check` leaves them out)."""
    for item in items:
        if {"fleet", "hosts"} & set(getattr(item, "fixturenames", ())):  # hosts: the hardening tests' own
            item.add_marker(pytest.mark.fleet)


@pytest.fixture(scope="session")
def datastream_path(content_index, tmp_path_factory):
    """The datastream a scan used, found by the sha256 the scan records."""
    found = content.discover(content.default_content_dirs(tmp_path_factory.mktemp("empty")), content_index)

    def by_sha(sha256: str) -> Path:
        return next(d.path for d in found if d.sha256 == sha256)

    return by_sha


@pytest.fixture
def data_dir(tmp_path, content_index) -> Path:
    directory = tmp_path / "data"
    shutil.copy(content_index, _index_path(directory))
    (paths.cache_dir(directory) / "content-index.json").chmod(0o600)
    return directory


def _index_path(directory: Path) -> Path:
    """Where the index goes, in a data dir made private as the app makes it (0700, files
    0600): else every command's first line would be the notice that it fixed the modes."""
    path = paths.cache_dir(directory) / "content-index.json"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    return path


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class Cli:
    """Runs the real `compliance-tui` command in a process of its own, as an operator would: forked
    from a process that has imported it already (tests/cli_server.py), or with env that a new
    interpreter reads at its start (PYTHON*, LC_*, LANG), as `python -m tui`."""

    def __init__(self, data_dir: Path, home: Path):
        self.env = os.environ | {"COMPLIANCE_TUI_HOME": str(data_dir), "HOME": str(home)}

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None,
                 timeout: float = 600) -> CliResult:
        full_env = self.env | (env or {})
        server = cli_server.shared()
        if server.serves(full_env):
            done = server.run(list(args), full_env, input, timeout)
            return CliResult(done.returncode, done.stdout, done.stderr)
        return self.process(*args, input=input, env=env, timeout=timeout)

    def process(self, *args: str, input: str | None = None, env: dict | None = None,
                timeout: float = 600) -> CliResult:
        """The command as a new interpreter, `python -m tui ARGS`."""
        done = subprocess.run(
            [sys.executable, "-m", "tui", *args], capture_output=True, text=True,
            env=self.env | (env or {}), input=input, timeout=timeout,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, **kwargs) -> CliResult:
        result = self(*args, **kwargs)
        assert result.returncode == 0, f"{args} exited {result.returncode}: {result.stderr}"
        return result


@pytest.fixture
def home(tmp_path) -> Path:
    directory = tmp_path / "home"
    (directory / ".ssh").mkdir(parents=True, mode=0o700)
    return directory


@pytest.fixture
def cli(data_dir, home) -> Cli:
    return Cli(data_dir, home)


@pytest.fixture(scope="session")
def fleet(tmp_path_factory):
    """Real sshd + sudo + oscap hosts on loopback, one mount namespace each."""
    if os.geteuid() != 0:
        pytest.skip("the test fleet needs root (mount namespaces, sshd)")
    for tool in ("sshd", "oscap", "unshare", "sudo", "nsenter"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            pytest.fail(f"{tool} is missing: run `make test`, which installs the test fleet's packages")
    base = Path("/var/tmp") / f"compliance-tui-fleet-{os.getpid()}"
    key = make_client_key(base / "client")
    fleet = Fleet(base / "hosts", key)
    try:
        fleet.add("u2204", "ubuntu2204", free_port())
        fleet.add("u2004", "ubuntu2004", free_port())
        fleet.add("nooscap", "ubuntu2204", free_port(), {"no-oscap"})
        # RHEL and its rebuilds (an RPM database each, ~0.3 s), and Debian 12 (CIS content from SSG 0.1.82)
        for played in ("rhel9", "rocky9", "almalinux8", "ol9", "debian12"):
            fleet.add(played, played, free_port())
        yield fleet
    finally:
        fleet.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    """A private PostgreSQL server on loopback for the session (tests/pg_server.py); its
    superuser's password in $PGPASSWORD, as an operator would provide it."""
    from tests import pg_server

    if os.geteuid() != 0:
        pytest.skip("the test PostgreSQL runs as the postgres system user: needs root, like the fleet")
    try:
        server = pg_server.start(free_port())
    except pg_server.PostgresUnavailable as exc:
        pytest.fail(f"cannot start the test PostgreSQL: {exc}")
    os.environ.update(server.env())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh database of its own for one test, dropped afterwards: its URL (no password)."""
    import uuid

    name = pg_server.create_database(f"ct_{uuid.uuid4().hex[:12]}")
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def known_hosts(fleet, home) -> Path:
    path = home / ".ssh" / "known_hosts"
    path.write_text(fleet.known_hosts())
    yield path
    for host in fleet.hosts.values():
        host.kill_oscap()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed fleet test says what every played oscap was doing (a hung probe's wait channel)."""
    outcome = yield
    report = outcome.get_result()
    fleet = item.funcargs.get("fleet") if hasattr(item, "funcargs") else None
    if report.failed and fleet is not None:
        running = [line for host in fleet.hosts.values() for line in host.oscap_processes()]
        report.sections.append(("played oscap processes", "\n".join(running) or "none running"))


def add_fleet_host(cli: Cli, fleet: Fleet, name: str, as_name: str | None = None,
                   user: str = "scanner", extra: tuple[str, ...] = ()) -> str:
    host = fleet.hosts[name]
    as_name = as_name or name
    cli.ok("hosts", "add", as_name, "--address", "127.0.0.1", "--port", str(host.port),
           "--user", user, "--identity", str(fleet.client_key), *extra)
    return as_name


def plant_a_bug(cli: Cli, data_dir: Path) -> None:
    """A store whose only host has tags that are not JSON: reading it is a bug of ours (an
    "internal error" with a crash log), not a storage fault the operator could act on."""
    cli.ok("--data-dir", str(data_dir), "hosts", "add", "buggy", "--address", "127.0.0.1")
    with sqlite3.connect(paths.database(data_dir)) as db:
        db.execute("UPDATE hosts SET tags = '{not json'")
    db.close()


@pytest.fixture
def webhook():
    """A real HTTP server receiving Apprise's JSON webhooks (tests/receivers.py)."""
    from tests.receivers import running_webhook

    with running_webhook() as hook:
        yield hook


@pytest.fixture
def mailbox():
    """A real SMTP server (aiosmtpd) receiving mail (tests/receivers.py)."""
    from tests.receivers import running_mailbox

    with running_mailbox() as box:
        yield box
