"""The spec's last two rows on the test fleet: a played Debian 11 scanned with content derived from
Debian 12's (SSG 0.1.82) and a played Amazon Linux 2 (an RPM database made with `rpm --root`)
scanned with content derived from RHEL 7's (SSG 0.1.65), at CIS Level 1 and Level 2 Server.

The two hosts run in this module's own small fleet, so the session's fleet does not grow."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html

from core.content import catalog as content
from core.domain.models import OsInfo
from tests.conftest import add_fleet_host, free_port
from tests.fleet.hosts import Fleet, make_client_key
from tests.integration.test_os_coverage import LEVELS, oscap_verdicts, scan

ROWS = {  # played host -> (OS as detected, label of the source, source product, derived file)
    "debian11": (OsInfo("debian", "11", "Debian GNU/Linux 11 (bullseye)", "debian"), "Debian 12", "debian12",
                 "ssg-debian11-from-debian12-ds.xml"),
    "amzn2": (OsInfo("amzn", "2", "Amazon Linux 2", "rhel"), "RHEL 7", "rhel7", "ssg-amzn2-from-rhel7-ds.xml"),
}


@pytest.fixture(scope="module")
def derived_fleet(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the test fleet needs root (mount namespaces, sshd)")
    base = Path("/var/tmp") / f"compliance-tui-derived-{os.getpid()}"
    fleet = Fleet(base / "hosts", make_client_key(base / "client"))
    try:
        for name in ROWS:
            fleet.add(name, name, free_port())
        yield fleet
    finally:
        fleet.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def derived_known_hosts(derived_fleet, home) -> Path:
    path = home / ".ssh" / "known_hosts"
    path.write_text(derived_fleet.known_hosts())
    return path


@pytest.fixture(scope="module")
def found(content_index, tmp_path_factory):
    return content.discover(content.default_content_dirs(tmp_path_factory.mktemp("none")), content_index)


def source_or_skip(name: str, found) -> content.ProfileChoice:
    """The source content for the played host, or a skip that says how to get it."""
    try:
        return content.resolve_profile(ROWS[name][0], "cis-level1-server", found)
    except content.ContentError as exc:
        pytest.skip(f"no content for this row here: {exc}")


@pytest.mark.parametrize("name", list(ROWS))
def test_derived_row_scans_like_oscap_itself(name, cli, derived_fleet, derived_known_hosts, found, data_dir, tmp_path):
    os_info, source_label, source_product, derived_file = ROWS[name]
    source = source_or_skip(name, found).datastream
    host = derived_fleet.hosts[name]
    l1_id = content.catalog_entry(os_info).profiles["cis-level1-server"]
    # the source's own content: its platform check does not know this OS, so nothing applies
    plain = oscap_verdicts(host, l1_id, source.path, tmp_path / "plain.xml")
    assert plain and set(plain.values()) == {"notapplicable"}

    add_fleet_host(cli, derived_fleet, name)
    detected = cli.ok("hosts", "detect", name, "--json").json()
    assert (detected["os"]["id"], detected["os"]["version"]) == (os_info.id, os_info.version)
    assert [(p["name"], p["datastream"], p["derived_from"]) for p in detected["profiles"]] == [
        (level, source.path.name, source_label) for level in LEVELS]
    assert f"derived from {source_label} content" in cli.ok("hosts", "detect", name).stdout

    listed = {p["name"]: p for p in detected["profiles"]}
    for level in LEVELS:
        done = scan(cli, name, level)
        assert done["content"]["file"] == derived_file
        assert (done["content"]["version"], done["content"]["derived_from"]) == (source.version, source_label)
        assert done["content"]["label"] == f"derived from {source_label} content"
        assert done["progress"]["total"] == listed[level]["rules"]  # without the rules switched off
        derived = next((data_dir / "cache" / "derived").glob(f"{source.sha256}.v*/{derived_file}"))
        assert done["content"]["sha256"] != source.sha256
        # verdict for verdict what oscap itself says with the derived content on the same host
        ours = {r["rule_id"]: r["result"] for r in cli.ok("results", done["id"], "--json").json()}
        profile_id = content.catalog_entry(os_info).profiles[level]
        assert ours == oscap_verdicts(host, profile_id, derived, tmp_path / f"{level}.xml")
        assert not set(ours) & {rule for rule, _ in content.switched_off(content.catalog_entry(os_info))}

        report = Path(cli.ok("report", done["id"]).stdout.strip())
        doc = html.fromstring(report.read_text(encoding="utf-8"))
        details = dict(zip(doc.xpath("//table[@class='details']//th/text()"),
                           [td.text_content() for td in doc.xpath("//table[@class='details']//td")]))
        assert f"derived from {source_label} content" in details["Content"]
    checked = subprocess.run(["oscap", "ds", "sds-validate", str(derived)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_content_list_serves_all_fourteen_spec_rows(cli, found):
    """Every row of the spec's table has both CIS Server levels, labelled where derived."""
    if not any(ds.product == "debian12" and ds.version == "0.1.82" for ds in found):
        pytest.skip("Debian 12's CIS content (SSG 0.1.82) is not here: `make content`, or import it")
    rows = cli.ok("content", "list", "--json").json()
    spec = [row for row in rows if not row["beyond_spec"]]
    assert len(spec) == 14 and all(not row["missing_content"] for row in spec)
    for row in spec:
        for level in LEVELS:
            assert row["profiles"][level]["available"], row
    derived = {row["os"]: row["profiles"]["cis-level1-server"]["derived_from"] for row in spec}
    assert derived["Debian 11"] == "Debian 12" and derived["Amazon Linux 2"] == "RHEL 7"
    al2 = next(row for row in spec if row["os"] == "Amazon Linux 2")["profiles"]["cis-level2-server"]
    assert {off["rule"].rpartition("_rule_")[2] for off in al2["switched_off"]} >= {"grub2_uefi_password"}
    assert all("Amazon Linux 2" in off["reason"] for off in al2["switched_off"])
