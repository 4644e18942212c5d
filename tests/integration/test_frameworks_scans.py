"""Frameworks beyond CIS, scanned for real on the test fleet, each once: a DISA STIG scan of Ubuntu
22.04, a PCI-DSS scan of RHEL 9 and an ANSSI BP-028 scan of Debian 12, each picked from what
`content profiles` lists for the host, each with real verdicts (passes and failures)."""

from __future__ import annotations

import pytest

from tests.conftest import add_fleet_host

P = "xccdf_org.ssgproject.content_profile_"


def offered(cli, host: str) -> dict[str, list[dict]]:
    """`content profiles HOST --json`: framework key -> its profiles, after detecting the host's OS."""
    detected = cli.ok("hosts", "detect", host).stdout
    assert "content profiles" in detected or "no CIS profile" in detected
    listed = cli.ok("content", "profiles", host, "--json").json()
    keys = [group["framework"] for group in listed["frameworks"]]
    if "cis" in keys:  # CIS first, the two Server levels at its top
        assert keys[0] == "cis" and [p["name"] for p in listed["frameworks"][0]["profiles"]][:2] == [
            "cis-level1-server", "cis-level2-server"]
    return {group["framework"]: group["profiles"] for group in listed["frameworks"]}


def scanned(cli, host: str, profile: str, framework: str) -> dict:
    (done,) = cli.ok("scan", host, "--profile", profile, "--json").json()
    assert done["status"] == "completed", done["error_message"]
    assert done["passed"] > 0 and done["failed"] > 0, done  # real verdicts, not a platform mismatch
    assert done["notice"] is None and done["profile"]["xccdf_id"] == profile
    assert done["profile"]["framework"] == framework
    return done


def test_a_stig_scan_of_ubuntu_2204(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    frameworks = offered(cli, "u2204")
    if "stig" not in frameworks:
        pytest.skip("no Ubuntu 22.04 STIG here (SSG 0.1.76 or newer: make content)")
    (stig,) = frameworks["stig"]
    assert stig["name"] == P + "stig" and "STIG" in stig["title"] and stig["derived_from"] is None
    done = scanned(cli, "u2204", stig["name"], "stig")
    assert done["content"]["file"] == "ssg-ubuntu2204-ds.xml"
    listed = cli.ok("scans", "list", "--host", "u2204", "--json").json()
    assert [s["profile"]["xccdf_id"] for s in listed] == [P + "stig"]


def test_a_pci_dss_scan_of_rhel9(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "rhel9")
    (pci,) = offered(cli, "rhel9")["pci-dss"]
    assert pci["name"] == P + "pci-dss" and pci["datastream"] == "ssg-rhel9-ds.xml"
    done = scanned(cli, "rhel9", pci["name"], "pci-dss")
    assert 0 < done["total"] <= pci["rules"]


def test_an_anssi_scan_of_debian12(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "debian12")
    frameworks = offered(cli, "debian12") if _has_debian12_content(cli) else {}
    if "anssi-bp28" not in frameworks:
        pytest.skip("no Debian 12 content here (SSG 0.1.76 or newer: make content)")
    assert {"anssi-nt28", "standard"} <= set(frameworks)
    level = next(p for p in frameworks["anssi-bp28"] if p["name"] == P + "anssi_bp28_intermediary")
    done = scanned(cli, "debian12", level["name"], "anssi-bp28")  # its minimal level all passes here
    assert done["content"]["file"] == "ssg-debian12-ds.xml"


def _has_debian12_content(cli) -> bool:
    rows = {row["os"]: row for row in cli.ok("content", "list", "--json").json()}
    return bool(rows["Debian 12"]["frameworks"])


def test_content_list_names_the_frameworks_per_os(cli):
    """The packaged SSG 0.1.65 is enough: RHEL 9's frameworks, and Rocky Linux 9's derived from them."""
    rows = {row["os"]: row for row in cli.ok("content", "list", "--json").json()}
    rhel9 = [group["framework"] for group in rows["RHEL 9"]["frameworks"]]
    assert rhel9[0] == "cis" and {"stig", "pci-dss", "hipaa", "anssi-bp28", "ospp", "cui"} <= set(rhel9)
    rocky = rows["Rocky Linux 9"]["frameworks"]
    assert [group["framework"] for group in rocky] == rhel9
    assert {p["derived_from"] for group in rocky for p in group["profiles"]} == {"RHEL 9"}
    text = cli.ok("content", "list").stdout
    frameworks = text[text.index("Frameworks per OS"):]
    line = next(line for line in frameworks.splitlines() if line.startswith("Rocky Linux 9 "))
    assert "DISA STIG (" in line and line.endswith("all derived from RHEL 9 content")


def test_content_profiles_says_what_is_missing_in_one_line(cli):
    cli.ok("hosts", "add", "fresh", "--address", "127.0.0.1")
    for args, said in ((("fresh",), "OS of host fresh is not detected yet: run `compliance-tui hosts detect fresh`"),
                       (("nosuch",), "no host named 'nosuch'")):
        done = cli("content", "profiles", *args)
        assert done.returncode == 1 and said in done.stderr and "Traceback" not in done.stderr
