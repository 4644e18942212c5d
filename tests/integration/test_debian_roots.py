"""Real Debian 12 and 13 on the test fleet: each host a real root filesystem of that release
(tests/fleet/debian_roots.py) with its own packages and its own oscap (1.3.7, 1.4.2), scanned at
CIS Level 1 Server by compliance-tui and compared rule for rule with that same oscap run directly
in the root. Package rules get real verdicts here (a played host's copied /etc leaves them
notapplicable), and a Quick Fix installs a package from the mirror, then is rolled back.
A real Debian 11 root has no oscap to compare with (bullseye ships none): what an operator is
told about it is tested instead.

Each release is scanned once by the product and once by its own oscap; the roots are built once
per machine and cached (cold and warm build times: docs/development.md)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from lxml import etree

from core.content import catalog as content
from core.domain.models import OsInfo
from tests.conftest import add_fleet_host, free_port
from tests.fleet.debian_hosts import DebianHost, start_debian_host
from tests.fleet.debian_roots import NO_OSCAP, RELEASES, RootUnavailable, root_for
from tests.fleet.hosts import Fleet, make_client_key

pytestmark = pytest.mark.fleet

XCCDF = "{http://checklists.nist.gov/xccdf/1.2}"
RULE = "xccdf_org.ssgproject.content_rule_"
L1 = "cis-level1-server"
L1_ID = "xccdf_org.ssgproject.content_profile_cis_level1_server"
# the content each release is scanned with: (file the scan records, whether derived)
CONTENT = {"11": ("ssg-debian11-from-debian12-ds.xml", "Debian 12"), "12": ("ssg-debian12-ds.xml", None),
           "13": ("ssg-debian13-ds.xml", None)}
SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
OSCAP_SERIES = {"12": "1.3.", "13": "1.4."}  # each release's own oscap (bullseye has none)


class DebianFleet(Fleet):
    """The fleet's client key and known hosts, holding real Debian hosts (or why one is missing)."""

    def __init__(self, base: Path):
        super().__init__(base / "hosts", make_client_key(base / "client"))
        self.missing: dict[str, str] = {}

    def host(self, release: str) -> DebianHost:
        if release in self.missing:
            pytest.skip(f"no Debian {release} root here: {self.missing[release]}")
        return self.hosts[f"debian{release}"]


@pytest.fixture(scope="module")
def debian_fleet():
    if os.geteuid() != 0:
        pytest.skip("the test fleet needs root (mount namespaces, overlays, sshd)")
    base = Path("/var/tmp") / f"compliance-tui-debian-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    fleet = DebianFleet(base)
    public_key = fleet.client_key.with_suffix(".pub").read_text()
    try:
        for release in RELEASES:
            try:
                built = root_for(release)
            except RootUnavailable as exc:
                fleet.missing[release] = str(exc)
                continue
            name = f"debian{release}"
            fleet.hosts[name] = start_debian_host(name, built, fleet.base / name, free_port(), public_key)
        yield fleet
    finally:
        fleet.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def debian_cli(cli, debian_fleet, home):
    (home / ".ssh" / "known_hosts").write_text(debian_fleet.known_hosts())
    return cli


@pytest.fixture(scope="module")
def found(content_index, tmp_path_factory):
    return content.discover(content.default_content_dirs(tmp_path_factory.mktemp("none")), content_index)


def own_oscap_verdicts(host: DebianHost, datastream: Path) -> dict[str, str]:
    """The root's own oscap run directly in it (no compliance-tui involved): its verdicts."""
    work = f"/root/direct-{uuid.uuid4().hex[:8]}"
    (host.merged / work.lstrip("/")).mkdir(mode=0o700)
    shutil.copy(datastream, host.merged / work.lstrip("/") / datastream.name)
    # root's environment as sudo gives it (Debian's secure_path), not this test's: rules read PATH
    done = host.run_inside(["env", "-i", f"PATH={SECURE_PATH}", "HOME=/root", "oscap", "xccdf", "eval", "--profile", L1_ID, "--results", f"{work}/results.xml",
                            f"{work}/{datastream.name}"], timeout=900)
    assert done.returncode in (0, 2), done.stderr.decode()[-500:]
    results = etree.parse(str(host.merged / work.lstrip("/") / "results.xml"))
    return {rr.get("idref"): rr.findtext(f"{XCCDF}result") for rr in results.iter(f"{XCCDF}rule-result")
            if rr.findtext(f"{XCCDF}result") != "notselected"}


def scanned(cli, name: str) -> dict:
    (done,) = cli.ok("scan", name, "--profile", L1, "--json").json()
    assert done["status"] == "completed", done["error_message"]
    assert done["passed"] > 0 and done["failed"] > 0, done
    return done


def verdicts(cli, scan_id: str) -> dict[str, str]:
    return {r["rule_id"]: r["result"] for r in cli.ok("results", scan_id, "--json").json()}


def platform_bound(datastream: Path) -> set[str]:
    """Rules that name a platform of their own (besides their groups'): they may rightly not apply."""
    return {rule.get("id") for rule in etree.parse(str(datastream)).iter(f"{XCCDF}Rule")
            if rule.find(f"{XCCDF}platform") is not None}


def package_rules(results: dict[str, str]) -> dict[str, str]:
    return {rule: result for rule, result in results.items()
            if rule.startswith(RULE + "package_") and rule.endswith(("_installed", "_removed"))}


@pytest.mark.parametrize("release", list(RELEASES))
def test_a_real_debian_scans_like_its_own_oscap(release, debian_cli, debian_fleet, found, data_dir):
    host = debian_fleet.host(release)
    if host.built.oscap_version is None:
        pytest.skip(NO_OSCAP)  # test_a_real_debian_11_is_told_it_has_no_oscap shows what an operator sees
    assert host.built.oscap_version.startswith(OSCAP_SERIES[release]), host.built.oscap_version
    os_info = OsInfo("debian", release, f"Debian GNU/Linux {release}", "debian")
    try:
        content.resolve_profile(os_info, L1, found)
    except content.ContentError as exc:
        pytest.skip(f"no CIS content for Debian {release} here (make content): {exc}")
    name = add_fleet_host(debian_cli, debian_fleet, host.name)
    detected = debian_cli.ok("hosts", "detect", name, "--json").json()
    assert (detected["os"]["id"], detected["os"]["version"]) == ("debian", release)
    file, derived_from = CONTENT[release]
    assert [p["derived_from"] for p in detected["profiles"]] == [derived_from] * 2

    done = scanned(debian_cli, name)
    assert (done["content"]["file"], done["content"]["derived_from"]) == (file, derived_from)
    # the progress oscap printed, read as it went: every rule of the profile counted once
    assert 0 < done["total"] <= done["progress"]["total"]
    ours = verdicts(debian_cli, done["id"])
    assert len(ours) == done["total"]
    if derived_from:
        datastream = next((data_dir / "cache" / "derived").glob(f"*/{file}"))
    else:
        datastream = next(ds.path for ds in found if ds.sha256 == done["content"]["sha256"])
    assert ours == own_oscap_verdicts(host, datastream)

    # evaluated, not notapplicable: the package probe reads the root's own dpkg database. Rules with a
    # platform of their own (iptables, ufw, a kernel: packages a minimal server may lack) may not apply.
    packages = package_rules(ours)
    unbound = {rule: result for rule, result in packages.items() if rule not in platform_bound(datastream)}
    assert len(unbound) >= 30, sorted(packages)
    assert set(unbound.values()) == {"pass", "fail"}, unbound
    assert packages[RULE + "package_sudo_installed"] == "pass"


def test_a_real_debian_11_is_told_it_has_no_oscap(debian_cli, debian_fleet, found):
    """Bullseye as it is: detected from its own os-release, offered CIS content derived from Debian
    12's, and a scan that fails in one line saying oscap is missing and why no package installs it."""
    host = debian_fleet.host("11")
    assert host.built.oscap_version is None and not host.package_installed("libopenscap8")
    try:
        source = content.resolve_profile(OsInfo("debian", "11", "Debian GNU/Linux 11", "debian"), L1, found)
    except content.ContentError as exc:
        pytest.skip(f"no content for Debian 11 here (make content): {exc}")
    name = add_fleet_host(debian_cli, debian_fleet, host.name)
    detected = debian_cli.ok("hosts", "detect", name, "--json").json()
    assert (detected["os"]["id"], detected["os"]["version"]) == ("debian", "11")
    assert [(p["datastream"], p["derived_from"]) for p in detected["profiles"]] == [
        (source.datastream.path.name, "Debian 12")] * 2
    result = debian_cli("scan", name, "--profile", L1, "--json")
    assert result.returncode == 1
    (done,) = result.json()
    assert done["status"] == "failed" and "\n" not in done["error_message"]
    assert "oscap is not installed" in done["error_message"], done["error_message"]
    assert "openscap is not in Debian 11 (bullseye)'s archive" in done["error_message"]
    check = debian_cli("hosts", "check", name, "--json")
    assert check.returncode == 1 and check.json()["reachable"] and not check.json()["oscap"]


def test_a_quick_fix_installs_a_package_from_the_mirror_and_its_rollback_says_it_stays(
        debian_cli, debian_fleet, home):
    """On a Debian 12 host of its own: cron (package_cron_installed) is missing from the minimal
    root; the fix's apt-get install fetches it from the mirror into this host's layer only."""
    built = debian_fleet.host("12").built
    public_key = debian_fleet.client_key.with_suffix(".pub").read_text()
    host = start_debian_host("fixed12", built, debian_fleet.base / "fixed12", free_port(), public_key)
    debian_fleet.hosts[host.name] = host
    (home / ".ssh" / "known_hosts").write_text(debian_fleet.known_hosts())
    name = add_fleet_host(debian_cli, debian_fleet, host.name)
    cron = RULE + "package_cron_installed"
    scan = scanned(debian_cli, name)
    assert verdicts(debian_cli, scan["id"])[cron] == "fail" and not host.package_installed("cron")

    job = debian_cli.ok("fix", scan["id"][:8], "--rule", "package_cron_installed", "--yes", "--json",
                        "--grace", "120", timeout=900).json()
    assert job["status"] == "completed", job["output"]
    assert job["result"]["fixed"] == [cron] and job["result"]["still_failing"] == []
    assert verdicts(debian_cli, job["result"]["rescan"])[cron] == "pass"
    assert host.package_installed("cron") and (host.merged / "etc/crontab").is_file()
    assert not (built.path / "usr/sbin/cron").exists(), "the cached root is never written to"
    assert (host.root / "usr/sbin/cron").is_file()  # the host's own layer

    back = debian_cli.ok("fix", "rollback", job["id"][:8], "--yes", "--json", "--grace", "120").json()
    assert back["status"] == "completed", back["output"]
    assert ["new", "/etc/crontab"] in back["result"]["restored_files"]
    assert not (host.merged / "etc/crontab").exists()  # /etc is as it was before the job
    # /etc only: the package stays, and the rollback says so rather than leave the pass unexplained
    assert "cron" in back["result"]["packages_still_installed"]  # with what it pulled in (cron-daemon-common)
    assert "still installed (a rollback puts back /etc only): cron" in back["output"]
    assert back["result"]["failing_again"] == [] and host.package_installed("cron")
    assert verdicts(debian_cli, back["result"]["rescan"])[cron] == "pass"
